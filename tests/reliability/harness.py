"""The reliability suite's harness: the real components as separate processes, a mail server
the test can stop, slow down and make refuse, PostgreSQL stopped and started, and figures.

Every process is started in a session of its own (its process group id is its pid), its
output captured to a log file under the test's tmp dir, and registered in ``STARTED`` so the
suite kills whatever is still running at teardown, even after a failure.
"""

import asyncio
import atexit
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from temporalio.client import Client

from domain.model import ExpressionOfInterest
from infra.temporal import binary_path, connect, search_attribute_flags
from services.backend import Backend
from store import queries
from store.engine import make_engine, make_sessionmaker
from tests.support import (
    EXAMPLES,
    PAYLOAD_KEY,
    PostgresServer,
    api_key_in,
    settings_for_tests,
    wait_for,
)
from workers.ports import free_port
from workflows.search_attributes import ALL_KEYS

STARTED: list["Proc"] = []


class Proc:
    """One child process with its output in a log file; start, signal, kill, restart."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str],
        cwd: Path,
        log: Path,
        stdin: int = subprocess.DEVNULL,
    ) -> None:
        self.name, self.argv, self.env, self.cwd, self.log = name, list(argv), env, cwd, log
        self.stdin = stdin
        self.process: subprocess.Popen[bytes] | None = None
        self.offset = 0  # where the current run's output starts in the log
        self.starts = 0
        self.started_at: float | None = None
        self.stopped_at: float | None = None

    def start(self) -> "Proc":
        assert not self.alive, f"{self.name} is already running"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            out.write(f"---- start {self.starts + 1}: {' '.join(self.argv)}\n".encode())
            out.flush()
            self.offset = out.tell()
            self.process = subprocess.Popen(  # noqa: S603 - our own binaries
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=self.stdin,
                start_new_session=True,  # its own process group: killed as one
            )
        self.starts += 1
        self.started_at, self.stopped_at = time.monotonic(), None
        if self not in STARTED:
            STARTED.append(self)
        return self

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:  # never a reaped pid
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """kill -9 (the process group this process leads) and reap it."""
        if self.process is None:
            return
        self.signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        self.stopped_at = time.monotonic()

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout``; return its code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.stopped_at = self.stopped_at or time.monotonic()
        return self.process.returncode

    async def astop(self, timeout: float = 30) -> int | None:
        return await asyncio.to_thread(self.stop, timeout)

    async def akill(self) -> None:
        await asyncio.to_thread(self.kill)

    def output(self) -> str:
        """What the current run has written so far."""
        if not self.log.exists():
            return ""
        with self.log.open("rb") as f:
            f.seek(self.offset)
            return f.read().decode(errors="replace")

    def tail(self, chars: int = 3000) -> str:
        if not self.log.exists():
            return f"({self.name}: no log)"
        text = self.log.read_text(errors="replace")
        return text[-chars:]

    def check_alive(self) -> None:
        if not self.alive:
            code = self.process.returncode if self.process else None
            raise AssertionError(f"{self.name} exited ({code}):\n{self.tail()}")


def kill_all() -> list[str]:
    """Kill every process the suite started that still runs; name them."""
    killed = []
    for proc in STARTED:
        if proc.alive:
            killed.append(f"{proc.name} (pid {proc.pid})")
            proc.kill()
    return killed


atexit.register(kill_all)


def _log_records(text: str) -> list[dict[str, Any]]:
    records = []
    for line in text.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
    return records


# -- Temporal ---------------------------------------------------------------------------------
class TemporalServer(Proc):
    """``temporal server start-dev`` on a free port: in memory, or on a SQLite file."""

    def __init__(self, workdir: Path, *, db_file: Path | None = None, name: str = "temporal"):
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        argv = [
            str(binary_path("temporal")),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--headless",
            "--http-port",
            str(free_port()),
            "--metrics-port",
            str(free_port()),
            "--log-level",
            "warn",
            *search_attribute_flags(ALL_KEYS),
        ]
        if db_file is not None:
            argv += ["--db-filename", str(db_file)]
        super().__init__(name, argv, env=dict(os.environ), cwd=workdir, log=workdir / f"{name}.log")

    async def ready(self, timeout: float = 90) -> Client:
        """Wait until the server answers a health check; return a client of it."""

        async def attempt() -> Client | None:
            self.check_alive()
            try:
                client = await connect(
                    settings_for_tests(temporal_target=self.target, temporal_namespace="default")
                )
                if await client.service_client.check_health():
                    return client
            except Exception:  # noqa: BLE001 - not up yet
                return None
            return None

        return await wait_for(attempt, timeout=timeout, interval=0.2)


# -- the matchmaker processes -----------------------------------------------------------------
def matchmaker_env(**settings: object) -> dict[str, str]:
    """The environment of a matchmaker process: ours, not the caller's MATCHMAKER_* values."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHMAKER_")}
    env.update(PYTHONUNBUFFERED="1", MATCHMAKER_LOG_JSON="true", MATCHMAKER_ENV="dev")
    env.update(MATCHMAKER_PAYLOAD_KEYS=PAYLOAD_KEY)
    env.update({f"MATCHMAKER_{k.upper()}": str(v) for k, v in settings.items() if v is not None})
    return env


# A standby worker: the `matchmaker worker` command, its modules imported ahead and held
# until released (imports take seconds on a loaded 2-core machine; a kill is followed by a
# restart in about a second, as under a supervisor with a warm standby).
_STANDBY = (
    "import sys, workers.cli, workers.run; sys.stdin.readline(); "
    "workers.cli.app(['worker'], prog_name='matchmaker')"
)


class Worker(Proc):
    """``matchmaker worker``; ready once it logs that it polls its task queue.

    ``standby=True``: started with its modules imported and held until ``release()``."""

    def __init__(
        self, workdir: Path, env: dict[str, str], name: str = "worker", *, standby: bool = False
    ) -> None:
        argv = [str(binary_path("matchmaker")), "worker"]
        if standby:
            argv = [str(binary_path("python")), "-c", _STANDBY]
        super().__init__(
            name,
            argv,
            env=env,
            cwd=workdir,
            log=workdir / f"{name}.log",
            stdin=subprocess.PIPE if standby else subprocess.DEVNULL,
        )

    def release(self) -> None:
        """Let a standby worker connect and poll."""
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(b"go\n")
        self.process.stdin.close()

    async def ready(self, timeout: float = 90) -> None:
        def started() -> bool:
            self.check_alive()
            return '"worker started"' in self.output()

        await wait_for(started, timeout=timeout, interval=0.1)

    def records(self, since: int = 0) -> list[dict[str, Any]]:
        """The JSON log records of the current run (from ``since`` characters of its output)."""
        return _log_records(self.output()[since:])


class Api(Proc):
    """``matchmaker api`` on a free port; ready once /healthz answers 200."""

    def __init__(self, workdir: Path, env: dict[str, str], name: str = "api") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [str(binary_path("matchmaker")), "api"]
        # an admin's key in the API's database: every /api route asks for one
        self.headers = {"Authorization": f"Bearer {api_key_in(env['MATCHMAKER_DATABASE_URL'])}"}
        env = {**env, "MATCHMAKER_API_PORT": str(self.port), "MATCHMAKER_API_HOST": "127.0.0.1"}
        super().__init__(name, argv, env=env, cwd=workdir, log=workdir / f"{name}.log")

    async def ready(self, timeout: float = 90) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as http:

            async def healthy() -> bool:
                self.check_alive()
                try:
                    return (await http.get("/healthz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await wait_for(healthy, timeout=timeout, interval=0.2)


# -- mail -------------------------------------------------------------------------------------
_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.MULTILINE | re.IGNORECASE)


@dataclass
class Delivery:
    """One DATA the server received: completed (250 sent) or cut off by the client."""

    message_id: str
    recipients: tuple[str, ...]
    started: float
    ended: float | None = None
    completed: bool = False


@dataclass
class MailHandler:
    """Slow DATA (so sends are in flight), chosen RCPT refusals, AUTH refused on demand.

    A message counts as delivered when the server answers 250, after its delay; a client
    that goes away during the delay cancels the handler (aiosmtpd does), and the message is
    not delivered, as with a real server that had not committed it yet."""

    delay: tuple[float, float] = (0.0, 0.0)
    refuse: dict[str, str] = field(default_factory=dict)
    credentials: tuple[str, str] | None = None
    refuse_login: bool = False
    deliveries: list[Delivery] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    login_refusals: int = 0
    in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope: Envelope, address: str, options):  # noqa: N802
        reply = self.refuse.get(address.lower())
        if reply:
            with self._lock:
                self.refused[address.lower()] += 1
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope: Envelope) -> str:  # noqa: N802
        found = _MESSAGE_ID.search(envelope.content or b"")
        delivery = Delivery(
            message_id=found.group(1).decode() if found else "?",
            recipients=tuple(a.lower() for a in envelope.rcpt_tos),
            started=time.monotonic(),
        )
        with self._lock:
            self.deliveries.append(delivery)
            self.in_flight += 1
        try:
            low, high = self.delay
            if high > 0:
                await asyncio.sleep(random.uniform(low, high))  # noqa: S311 - not crypto
            delivery.completed = True
            return "250 Message accepted for delivery"
        finally:
            delivery.ended = time.monotonic()
            with self._lock:
                self.in_flight -= 1

    def authenticate(self, server, session, envelope, mechanism: str, auth_data) -> AuthResult:
        ok = (
            not self.refuse_login
            and isinstance(auth_data, LoginPassword)
            and self.credentials is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        )
        if not ok:
            with self._lock:
                self.login_refusals += 1
        return AuthResult(success=ok, handled=False)  # False: aiosmtpd answers 535

    # what the test reads
    def delivered(self) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.completed]

    def cut_off(self) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.ended is not None and not d.completed]

    def copies(self) -> Counter[str]:
        """How many times each Message-ID was delivered."""
        return Counter(d.message_id for d in self.delivered())

    def to(self, address: str) -> list[Delivery]:
        return [d for d in self.delivered() if address.lower() in d.recipients]


class MailServer:
    """aiosmtpd on one loopback port, in the test process; stopped and started at will."""

    def __init__(
        self, *, delay: tuple[float, float] = (0.0, 0.0), credentials: tuple[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.handler = MailHandler(delay=delay, credentials=credentials)
        self._controller: Controller | None = None

    def start(self) -> "MailServer":
        assert self._controller is None
        options: dict[str, Any] = {}
        if self.handler.credentials is not None:
            options = {
                "authenticator": self.handler.authenticate,
                "auth_require_tls": False,
                "auth_required": False,
            }
        controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=30, **options
        )
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None


# -- PostgreSQL -------------------------------------------------------------------------------
def pg_stop(server: PostgresServer) -> None:
    """``pg_ctl stop -m fast``: the cluster and its data stay; connections are refused."""
    subprocess.run(  # noqa: S603
        [*server.as_user, server.pg_ctl, "-D", str(server.directory), "-m", "fast", "-w", "stop"],
        check=True,
        capture_output=True,
        timeout=60,
    )


def pg_start(server: PostgresServer) -> None:
    """Start a cluster stopped by pg_stop again, on the same port and socket directory."""
    home = server.directory.parent
    options = f"-p {server.port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(  # noqa: S603
        [
            *server.as_user,
            server.pg_ctl,
            "-D",
            str(server.directory),
            "-o",
            options,
            "-w",
            "-l",
            str(home / "log"),
            "start",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


# -- the services in the test process ---------------------------------------------------------
@contextlib.asynccontextmanager
async def backend_of(client: Client, database_url: str, task_queue: str) -> AsyncIterator[Backend]:
    """The services' backend in the test process: the same database and task queue."""
    engine = make_engine(database_url)
    try:
        yield Backend(client=client, sessions=make_sessionmaker(engine), task_queue=task_queue)
    finally:
        await engine.dispose()


def eoi_for(tag: str, **contacts: str) -> ExpressionOfInterest:
    """The example EOI under a fresh id, with contact addresses of its own (unless given)."""
    data = json.loads((EXAMPLES / "eoi.json").read_text())
    key = f"{tag}-{uuid.uuid4().hex[:8]}"
    data["id"] = key
    data["adopter"]["contact"]["email"] = contacts.get("adopter", f"adopter.{key}@kz.example.org")
    data["solution"]["contact"]["email"] = contacts.get(
        "provider", f"provider.{key}@bd.example.org"
    )
    return ExpressionOfInterest.model_validate(data)


async def outbox(backend: Backend, match_ids: Iterable[str]) -> list[Any]:
    rows: list[Any] = []
    async with backend.sessions() as session:
        for match_id in match_ids:
            rows.extend(await queries.list_outbox(session, match_id=match_id))
    return rows


async def history_rows(backend: Backend, match_id: str) -> list[Any]:
    async with backend.sessions() as session:
        return list(await queries.list_history(session, match_id=match_id))


# -- figures ----------------------------------------------------------------------------------
class Figures:
    """A scenario's figures: printed (pytest -s) and written as JSON, per test and together."""

    def __init__(self, name: str, path: Path, together: Path) -> None:
        self.name, self.path, self.together = name, path, together
        self.values: dict[str, Any] = {}
        self._started = time.monotonic()

    def __setitem__(self, key: str, value: Any) -> None:
        self.values[key] = value
        self.write()

    def update(self, **values: Any) -> None:
        self.values.update(values)
        self.write()

    def write(self) -> None:
        self.values["duration_s"] = round(time.monotonic() - self._started, 1)
        self.path.write_text(json.dumps(self.values, indent=2, default=str) + "\n")
        merged: dict[str, Any] = {}
        if self.together.exists():
            with contextlib.suppress(ValueError):
                merged = json.loads(self.together.read_text())
        merged[self.name] = self.values
        self.together.write_text(json.dumps(merged, indent=2, default=str) + "\n")

    def show(self) -> None:
        self.write()
        lines = [f"\n[reliability] {self.name}"]
        lines += [f"  {key}: {value}" for key, value in self.values.items()]
        lines.append(f"  figures written to {self.path} (all scenarios: {self.together})")
        print("\n".join(lines))  # noqa: T201 - the figures are the point of the suite


def seconds(values: Sequence[float]) -> dict[str, float] | None:
    """min / median / max of durations, rounded, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "min": round(ordered[0], 3),
        "median": round(ordered[len(ordered) // 2], 3),
        "max": round(ordered[-1], 3),
    }


async def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    if asyncio.iscoroutine(result):
        result = await result
    return result, time.monotonic() - started
