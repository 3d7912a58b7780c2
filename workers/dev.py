"""`matchmaker dev`: the whole embedded stack in one supervised process tree."""

import asyncio
import contextlib
import os
import secrets
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
import uvicorn
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from infra.heap import freeze_startup_heap
from infra.settings import Settings
from infra.telemetry import client_options as telemetry_options
from infra.telemetry import instrument_app, tracer_provider
from infra.temporal import (
    binary_path,
    connect,
    ensure_search_attributes,
    payload_codec,
    search_attribute_flags,
)
from services import access, console_auth
from store.engine import upgrade_database
from workers.api import backend_for, uvicorn_options
from workers.codec_server import create_codec_app
from workers.http import create_app
from workers.mailcatcher import start_mail_catcher
from workers.observe import metrics_endpoint
from workers.ports import free_port, port_is_free
from workers.serving import QuietServer
from workers.worker import WorkerLimits, build_worker, open_resources
from workflows.search_attributes import ALL_KEYS

logger = structlog.get_logger()


class DevStackError(RuntimeError):
    """The embedded stack cannot start; the message is one line for the user."""


@dataclass(frozen=True)
class DevPorts:
    temporal: int
    ui: int
    api: int
    smtp: int
    codec: int


ADMIN_KEY_FILE = "admin-api-key"


def admin_key_path(settings: Settings) -> Path:
    """Where the dev stack keeps its admin's API key (readable by its owner only)."""
    return settings.data_dir / ADMIN_KEY_FILE


def _write_secret(path: Path, text: str) -> None:
    """Write a file only its owner can read, never letting it be readable by others."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text + "\n")


async def ensure_admin_key(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> str | None:
    """Give the dev stack an admin API key on its first start (in ``admin_key_path``); return
    it to be shown that once, or None when the kept one still works."""
    path = admin_key_path(settings)
    existing = path.read_text().strip() if path.exists() else None
    new = await access.dev_admin_key(
        sessions, email=settings.secretariat_email, name="Secretariat (dev)", existing=existing
    )
    if new is None:
        return None
    await asyncio.to_thread(_write_secret, path, new.token)
    return new.token


ADMIN_PASSWORD_FILE = "admin-password"


def admin_password_path(settings: Settings) -> Path:
    """Where the dev stack keeps its admin's console password (readable by its owner only)."""
    return settings.data_dir / ADMIN_PASSWORD_FILE


async def ensure_admin_password(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> str | None:
    """Give the dev stack's admin a console password on its first start (in
    ``admin_password_path``); return it to be shown that once, or None when they have one
    (kept from an earlier start, or set since with `matchmaker users set-password`)."""
    path = admin_password_path(settings)
    new = await console_auth.dev_admin_password(sessions, email=settings.secretariat_email)
    if new is None:
        return None
    await asyncio.to_thread(_write_secret, path, new)
    return new


def _temporal_port(settings: Settings) -> int:
    return int(settings.temporal_target.rsplit(":", 1)[1])


def check_ports(settings: Settings) -> DevPorts:
    """Refuse to start when a port the stack needs is taken."""
    ports = DevPorts(
        temporal=_temporal_port(settings),
        ui=settings.temporal_ui_port,
        api=settings.api_port,
        smtp=settings.smtp_port,
        codec=settings.codec_port,
    )
    for name, port in vars(ports).items():
        if not port_is_free("127.0.0.1", port):
            raise DevStackError(
                f"port {port} ({name}) is already in use; stop what holds it or choose another"
            )
    return ports


# `make run` serves metrics on these ports unless configured otherwise (or they are taken)
DEV_METRICS_PORT = 9464
DEV_TEMPORAL_METRICS_PORT = 9465


def with_dev_metrics(settings: Settings) -> Settings:
    """The settings with the dev stack's metrics ports filled in where unset and free: the
    application's (the API's endpoint: one process) and the Temporal SDK's."""
    ports: dict[str, int] = {}
    for name, default in (
        ("api_metrics_port", DEV_METRICS_PORT),
        ("temporal_metrics_port", DEV_TEMPORAL_METRICS_PORT),
    ):
        if getattr(settings, name) is None and port_is_free(settings.metrics_host, default):
            ports[name] = default
    return settings.model_copy(update=ports)


def _temporal_command(settings: Settings, ports: DevPorts) -> list[str]:
    return [
        str(binary_path("temporal")),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(ports.temporal),
        "--ui-port",
        str(ports.ui),
        "--http-port",
        str(free_port()),
        "--metrics-port",
        str(free_port()),
        "--namespace",
        settings.temporal_namespace,
        "--db-filename",
        str(settings.temporal_db_file.resolve()),
        *search_attribute_flags(ALL_KEYS),
        "--ui-codec-endpoint",
        codec_endpoint(settings, ports),
    ]


def _with_codec_wiring(settings: Settings, ports: DevPorts) -> Settings:
    """The settings the dev UI and codec server share: a token fresh each run (only this run's
    UI knows it) unless one is set, and the UI's own origin unless origins are set."""
    update: dict[str, object] = {}
    if settings.codec_ui_token is None:
        update["codec_ui_token"] = SecretStr(secrets.token_urlsafe(24))
    if "codec_cors_origins" not in settings.model_fields_set:
        update["codec_cors_origins"] = [
            f"http://{h}:{ports.ui}" for h in ("127.0.0.1", "localhost")
        ]
    return settings.model_copy(update=update)


def codec_endpoint(settings: Settings, ports: DevPorts) -> str:
    """The codec server as the dev UI calls it: under the run's UI token (the UI sends no key)."""
    assert settings.codec_ui_token is not None
    return f"http://127.0.0.1:{ports.codec}/ui/{settings.codec_ui_token.get_secret_value()}"


def _last_line(path: Path) -> str:
    lines = path.read_text(errors="replace").strip().splitlines()
    return lines[-1][:300] if lines else "no output"


async def _wait_for_temporal(
    settings: Settings,
    process: asyncio.subprocess.Process,
    log_file: Path,
    client_options: dict[str, Any],
) -> Client:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        if process.returncode is not None:
            tail = [await asyncio.to_thread(_last_line, log_file)]
            raise DevStackError(
                f"Temporal dev server exited ({process.returncode}): {tail[0][:300]}"
            )
        try:
            client = await connect(settings, **client_options)
            await client.service_client.check_health()
            return client
        except Exception:  # noqa: BLE001 - keep polling until the deadline
            if asyncio.get_running_loop().time() > deadline:
                raise DevStackError("Temporal dev server did not answer within 60 s") from None
            await asyncio.sleep(0.25)


async def _stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def run_dev(settings: Settings) -> int:
    """Start Temporal, the SMTP catcher, the worker and the API; stop all of them on a signal."""
    ports = check_ports(settings)
    settings = _with_codec_wiring(settings, ports)
    settings = with_dev_metrics(settings)
    provider = tracer_provider(settings, service="matchmaker-dev")
    command = _temporal_command(settings, ports)  # resolves the binary: fails early if missing
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade_database, settings.resolved_database_url)

    log_path = settings.data_dir / "temporal.log"
    with log_path.open("ab") as temporal_log:  # noqa: ASYNC230 - opening a log file is instant
        process = await asyncio.create_subprocess_exec(
            *command, stdout=temporal_log, stderr=asyncio.subprocess.STDOUT, start_new_session=True
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    catcher = None
    exit_code = 0
    try:
        client = await _wait_for_temporal(
            settings, process, log_path, telemetry_options(settings, provider)
        )
        await ensure_search_attributes(client, settings.temporal_namespace, ALL_KEYS)
        catcher = start_mail_catcher(host="127.0.0.1", port=ports.smtp, maildir=settings.mail_dir)
        async with (
            open_resources(settings, provider=provider) as resources,
            contextlib.AsyncExitStack() as stack,
        ):
            try:
                new_admin_key = await ensure_admin_key(settings, resources.sessions)
                new_password = await ensure_admin_password(settings, resources.sessions)
            except access.AccessError as exc:
                raise DevStackError(str(exc)) from None
            worker = build_worker(
                client,
                task_queue=settings.task_queue,
                resources=resources,
                limits=WorkerLimits.from_settings(settings),
                sandboxed=settings.worker_workflow_sandbox,
            )
            app = create_app(
                settings, backend=backend_for(settings, client=client, sessions=resources.sessions)
            )
            instrument_app(app, provider)
            metrics = metrics_endpoint(
                settings, settings.api_metrics_port, sessions=resources.sessions
            )
            stack.enter_context(metrics)
            server = QuietServer(
                uvicorn.Config(
                    app,
                    **(uvicorn_options(settings) | {"port": ports.api}),
                    lifespan="on",
                )
            )
            codec = QuietServer(
                uvicorn.Config(
                    create_codec_app(
                        settings, codec=payload_codec(settings), sessions=resources.sessions
                    ),
                    host="127.0.0.1",
                    port=ports.codec,
                    log_config=None,
                    access_log=False,
                    lifespan="off",
                    **settings.proxy_options(),
                )
            )
            freeze_startup_heap()
            tasks = {
                asyncio.create_task(worker.run(), name="worker"),
                asyncio.create_task(server.serve(), name="api"),
                asyncio.create_task(codec.serve(), name="codec-server"),
                asyncio.create_task(stop.wait(), name="signal"),
                asyncio.create_task(_watch(process), name="temporal"),
            }
            await _announce(settings, ports, server, new_admin_key, new_password)
            done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.get_name() != "signal":
                    exit_code = 1
                    error = task.exception() if not task.cancelled() else None
                    logger.error(
                        "component stopped unexpectedly",
                        component=task.get_name(),
                        error=str(error),
                    )
            logger.info("shutting down")
            server.should_exit = codec.should_exit = True
            with contextlib.suppress(Exception):
                await worker.shutdown()
            for task in tasks:
                if task.get_name() in ("signal", "temporal"):
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        if catcher is not None:
            catcher.stop()
        await _stop_process(process)
    logger.info("stopped")
    return exit_code


async def _watch(process: asyncio.subprocess.Process) -> None:
    await process.wait()
    raise DevStackError(f"Temporal dev server exited with {process.returncode}")


def _telemetry_lines(settings: Settings) -> list[str]:
    host = settings.metrics_host
    lines = []
    for label, port, default, variable in (
        ("Metrics    ", settings.api_metrics_port, DEV_METRICS_PORT, "API_METRICS_PORT"),
        ("SDK metrics", settings.temporal_metrics_port, DEV_TEMPORAL_METRICS_PORT,
         "TEMPORAL_METRICS_PORT"),
    ):  # fmt: skip
        if port is not None:
            lines.append(f"  {label}    http://{host}:{port}/metrics")
        else:  # with_dev_metrics left it unset: its port was taken
            lines.append(
                f"  {label}    off: port {default} is taken (set MATCHMAKER_{variable} to another)"
            )
    if settings.otlp_endpoint:
        lines.append(f"  Traces         OTLP to {settings.otlp_endpoint}")
    return lines


async def _announce(
    settings: Settings,
    ports: DevPorts,
    server: uvicorn.Server,
    new_admin_key: str | None,
    new_password: str | None = None,
) -> None:
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    lines = [
        "Matchmaker dev stack is up:",
        f"  API            http://127.0.0.1:{ports.api}  (docs: /docs, health: /healthz)",
        f"  Temporal UI    http://127.0.0.1:{ports.ui}  (payloads decoded by the codec "
        f"server on 127.0.0.1:{ports.codec})",
        f"  Temporal gRPC  127.0.0.1:{ports.temporal}  namespace {settings.temporal_namespace}",
        f"  SMTP catcher   127.0.0.1:{ports.smtp}  -> Maildir {settings.mail_dir.resolve()}",
        f"  Database       {settings.resolved_database_url}",
        *_telemetry_lines(settings),
        f"  Admin API key  {admin_key_path(settings)}  "
        '(curl -H "Authorization: Bearer $(cat ' + str(admin_key_path(settings)) + ')" …)',
    ]
    if new_admin_key is not None:
        lines.append(
            f"  New admin API key (shown this once, kept in the file above): {new_admin_key}"
        )
    lines.append(
        f"  Console        http://127.0.0.1:{ports.api}/console  "
        f"(sign in as {settings.secretariat_email}, password in {admin_password_path(settings)}"
        " unless changed since)"
    )
    if new_password is not None:
        lines.append(
            f"  New console password (shown this once, kept in the file above): {new_password}"
        )
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)  # noqa: T201 - the CLI's own output
