"""Child processes of `matchmaker dev`: started in sessions of their own (a Ctrl-C reaches the
supervisor alone, which stops them in order), their output passed on line by line under their
name, waited for until a probe says they are ready, and stopped with SIGTERM, then SIGKILL."""

import asyncio
import collections
import contextlib
import re
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

import structlog

logger = structlog.get_logger()

Probe = Callable[[], Awaitable[bool]]

ANSI = re.compile(rb"\x1b\[[0-9;]*m")
LINE_LIMIT = 1 << 20  # a longer line is left out, and said to be
TAIL_LINES = 20


class ChildFailed(RuntimeError):
    """A child exited, or was not ready in time; the message names it, for the user."""


class Child:
    """One supervised process: its command, its environment, and where its output goes (the
    supervisor's stdout, each line marked with ``name``; or ``log_file``)."""

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        *,
        log_file: Path | None = None,
        stop_timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log_file = log_file
        self.stop_timeout = stop_timeout
        self.process: asyncio.subprocess.Process | None = None
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self._forward: asyncio.Task[None] | None = None
        self._exited: asyncio.Task[int] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was not started"
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.returncode

    async def start(self, out: IO[bytes], width: int) -> None:
        """Start the process; its output is passed to ``out`` marked with its name, padded to
        ``width`` (or written to its log file)."""
        if self.log_file is not None:
            with self.log_file.open("ab") as log:  # noqa: ASYNC230 - opening a log is instant
                self.process = await asyncio.create_subprocess_exec(
                    *self.command,
                    env=self.env,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                    start_new_session=True,
                )
        else:
            self.process = await asyncio.create_subprocess_exec(
                *self.command,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                limit=LINE_LIMIT,
            )
            assert self.process.stdout is not None
            self._forward = asyncio.create_task(
                self._pass_on(self.process.stdout, out, width), name=f"{self.name}-output"
            )
        self._exited = asyncio.create_task(self._wait(), name=self.name)

    async def _wait(self) -> int:
        assert self.process is not None
        code = await self.process.wait()
        if self._forward is not None:
            await self._forward  # the last lines it wrote, before anyone reads the tail
        return code

    @property
    def exited(self) -> "asyncio.Task[int]":
        """A task done when the process has exited (and its output is passed on)."""
        assert self._exited is not None, f"{self.name} was not started"
        return self._exited

    async def _pass_on(self, stream: asyncio.StreamReader, out: IO[bytes], width: int) -> None:
        prefix = f"{self.name:<{width}} | ".encode()
        field = f'{{"process":"{self.name}",'.encode()
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # longer than LINE_LIMIT: the stream dropped it
                line = f"(a line of more than {LINE_LIMIT} bytes, left out)\n".encode()
            if not line:
                return
            text = ANSI.sub(b"", line).decode(errors="replace").strip()
            if text:
                self.tail.append(text)
            # a JSON log line gets the process as a field, so it stays one JSON object
            if line.startswith(b"{") and not line.startswith(b"{}"):
                out.write(field + line[1:])
            else:
                out.write(prefix + line)
            out.flush()

    def last_words(self) -> str:
        """Its last line of output, to say why it stopped."""
        if self.log_file is not None and not self.tail:
            lines = self.log_file.read_text(errors="replace").strip().splitlines()
            self.tail.extend(lines[-TAIL_LINES:])
        return self.tail[-1][:300] if self.tail else "no output"

    def failure(self, doing: str) -> ChildFailed:
        """The error saying this child exited (with its code and last words) while ``doing``."""
        code = self.returncode
        how = (
            f"was killed by signal {-code}" if code is not None and code < 0 else f"exited ({code})"
        )
        return ChildFailed(f"{self.name} {how} {doing}: {self.last_words()}")

    async def ready(self, probe: Probe, *, within: float, interval: float = 0.1) -> None:
        """Return once ``probe`` says the child is ready; raise ChildFailed as soon as it exits,
        or when it is not ready ``within`` seconds. There is no event to await across
        processes: the probe is asked every ``interval`` s, and the child's exit cuts it short."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        deadline = began + within
        while True:
            if self.exited.done():
                raise self.failure("while starting")
            if await probe():
                logger.info("ready", process=self.name, seconds=round(loop.time() - began, 1))
                return
            if loop.time() > deadline:
                raise ChildFailed(f"{self.name} was not ready within {within:.0f} s")
            await asyncio.wait({self.exited}, timeout=interval)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after ``stop_timeout``; wait until it is gone."""
        if self.process is None:
            return
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(self.exited), timeout=self.stop_timeout)
            except TimeoutError:
                logger.warning("killed after its stop timeout", process=self.name)
                self.kill()
        await self.exited

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()


async def first_exit(children: list[Child]) -> Child:
    """The first of the children to exit."""
    by_task = {child.exited: child for child in children}
    done, _ = await asyncio.wait(by_task, return_when=asyncio.FIRST_COMPLETED)
    return by_task[next(iter(done))]


def output() -> IO[bytes]:
    """Where the children's marked lines go: the supervisor's stdout."""
    return sys.stdout.buffer


# --- probes: is the child ready? ---------------------------------------------------------


def port_open(host: str, port: int) -> Probe:
    """Ready once something accepts connections on ``host:port``."""

    async def probe() -> bool:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=2)
        except (OSError, TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    return probe


def answers_200(host: str, port: int, path: str) -> Probe:
    """Ready once ``GET path`` answers 200 (an API's health check); asked in plain HTTP/1.1,
    so that no client library logs every try."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()

    async def probe() -> bool:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 2)
        except (OSError, TimeoutError):
            return False
        try:
            writer.write(request)
            status = await asyncio.wait_for(reader.readline(), timeout=10)
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()
        return status.split(b" ")[1:2] == [b"200"]

    return probe


def identity_of(pid: int) -> str:
    """The identity a Temporal client in process ``pid`` on this host gives (the SDK's
    default), which its worker's polls carry."""
    return f"{pid}@{socket.gethostname()}"
