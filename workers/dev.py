"""`matchmaker dev`: the whole embedded stack, shaped like production.

The supervisor does the first start's duties once (migrations, the payload key, search
attributes, the admin's key and password), then runs each part as a process of its own, each
through the entry point production uses: the Temporal dev server, `matchmaker api`,
`matchmaker worker`, `matchmaker codec-server` and `matchmaker mail-catcher`, their settings
passed in their environment. It prints the banner once every one answers, writes the state
file other commands find the stack by (workers/devstate.py), and stops them all, in order, on
Ctrl-C or SIGTERM. A process that dies on its own is not restarted: the supervisor says which
and how, and stops the others (a crash in dev is for the developer to see, not to hide)."""

import asyncio
import contextlib
import os
import secrets
import signal
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import structlog
from pydantic import SecretStr
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

from infra.settings import Settings
from infra.temporal import (
    binary_path,
    connect,
    ensure_search_attributes,
    search_attribute_flags,
)
from services import access, console_auth
from store.engine import make_engine, make_sessionmaker, upgrade_database
from workers import devstate
from workers.ports import free_port, port_is_free
from workers.supervisor import (
    Child,
    ChildFailed,
    Probe,
    answers_200,
    first_exit,
    identity_of,
    output,
    port_open,
)
from workflows.search_attributes import ALL_KEYS

logger = structlog.get_logger()


class DevStackError(RuntimeError):
    """The embedded stack cannot start; the message is for the user, a line per problem."""


@dataclass(frozen=True)
class DevPorts:
    temporal: int
    ui: int
    api: int
    smtp: int
    codec: int
    api_metrics: int | None = None
    worker_metrics: int | None = None
    sdk_metrics: int | None = None


# each port: what listens on it, the option of `matchmaker dev` and the variable that move it
PORT_CHOICES = {
    "temporal": ("Temporal", "--temporal-port", "MATCHMAKER_TEMPORAL_TARGET"),
    "ui": ("Temporal UI", "--ui-port", "MATCHMAKER_TEMPORAL_UI_PORT"),
    "api": ("API", "--api-port", "MATCHMAKER_API_PORT"),
    "smtp": ("SMTP catcher", "--smtp-port", "MATCHMAKER_SMTP_PORT"),
    "codec": ("codec server", "--codec-port", "MATCHMAKER_CODEC_PORT"),
    "api_metrics": ("API metrics", "--api-metrics-port", "MATCHMAKER_API_METRICS_PORT"),
    "worker_metrics": (
        "worker metrics",
        "--worker-metrics-port",
        "MATCHMAKER_WORKER_METRICS_PORT",
    ),
    "sdk_metrics": ("SDK metrics", "--sdk-metrics-port", "MATCHMAKER_TEMPORAL_METRICS_PORT"),
}

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


async def ensure_admin_key(settings: Settings, sessions) -> str | None:  # type: ignore[no-untyped-def]
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


async def ensure_admin_password(settings: Settings, sessions) -> str | None:  # type: ignore[no-untyped-def]
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


def _ports_of(settings: Settings) -> DevPorts:
    return DevPorts(
        temporal=_temporal_port(settings),
        ui=settings.temporal_ui_port,
        api=settings.api_port,
        smtp=settings.smtp_port,
        codec=settings.codec_port,
        api_metrics=settings.api_metrics_port,
        worker_metrics=settings.worker_metrics_port,
        sdk_metrics=settings.temporal_metrics_port,
    )


def _host_of(settings: Settings, name: str) -> str:
    """The address the port's process binds."""
    if name == "api":
        return settings.api_host
    if name == "codec":
        return settings.codec_host
    if name.endswith("metrics"):
        return settings.metrics_host
    return "127.0.0.1"


def check_ports(settings: Settings) -> DevPorts:
    """Refuse to start when a port the stack needs is taken, saying for each taken port what
    it was for and how to choose another."""
    ports = _ports_of(settings)
    problems = [
        f"port {port} ({PORT_CHOICES[name][0]}) is already in use: stop what holds it, or "
        f"choose another with {PORT_CHOICES[name][1]} (or {PORT_CHOICES[name][2]})"
        for name, port in asdict(ports).items()
        if port is not None and not port_is_free(_host_of(settings, name), port)
    ]
    chosen = [port for port in asdict(ports).values() if port is not None]
    for port in sorted({p for p in chosen if chosen.count(p) > 1}):
        names = [PORT_CHOICES[n][0] for n, p in asdict(ports).items() if p == port]
        problems.append(f"port {port} is chosen twice ({' and '.join(names)}): give each its own")
    if problems:
        raise DevStackError("\n".join(problems))
    return ports


# `make run` serves metrics on these ports unless configured otherwise (or they are taken)
DEV_METRICS_PORT = 9464
DEV_TEMPORAL_METRICS_PORT = 9465
DEV_WORKER_METRICS_PORT = 9466
DEV_METRICS = (
    ("api_metrics_port", DEV_METRICS_PORT),
    ("temporal_metrics_port", DEV_TEMPORAL_METRICS_PORT),
    ("worker_metrics_port", DEV_WORKER_METRICS_PORT),
)


def with_dev_metrics(settings: Settings) -> Settings:
    """The settings with the dev stack's metrics ports filled in where unset and free: the
    API's (the application's figures and the database's), the worker's Temporal SDK's, and
    the worker's own (email attempts)."""
    ports: dict[str, int] = {}
    for name, default in DEV_METRICS:
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


# --- the processes ---------------------------------------------------------------------

METRICS_VARIABLES = (
    "MATCHMAKER_API_METRICS_PORT",
    "MATCHMAKER_WORKER_METRICS_PORT",
    "MATCHMAKER_TEMPORAL_METRICS_PORT",
)


def _json_logs(settings: Settings) -> bool:
    """The children write to a pipe: they log as the supervisor would on its stdout."""
    return settings.log_json if settings.log_json is not None else not sys.stdout.isatty()


def _in_dotenv(variable: str) -> bool:
    """Whether the `.env` file the settings read gives ``variable`` a value."""
    from dotenv import dotenv_values

    env_file = Settings.model_config.get("env_file")
    if not isinstance(env_file, str | Path) or not Path(env_file).is_file():
        return False
    values = dotenv_values(env_file)
    return any(name.upper() == variable and value for name, value in values.items())


def child_environments(settings: Settings, ports: DevPorts) -> dict[str, dict[str, str]]:
    """Each child's environment: the supervisor's, with every setting it decided made
    explicit, and each metrics port given to the one process that serves it."""
    assert settings.codec_ui_token is not None
    base = {k: v for k, v in os.environ.items() if k not in METRICS_VARIABLES}
    base.update(
        {
            "MATCHMAKER_DATA_DIR": str(settings.data_dir.resolve()),
            "MATCHMAKER_DATABASE_URL": settings.resolved_database_url,
            "MATCHMAKER_TEMPORAL_TARGET": settings.temporal_target,
            "MATCHMAKER_TEMPORAL_NAMESPACE": settings.temporal_namespace,
            "MATCHMAKER_TASK_QUEUE": settings.task_queue,
            "MATCHMAKER_TEMPORAL_UI_PORT": str(ports.ui),
            "MATCHMAKER_API_PORT": str(ports.api),
            "MATCHMAKER_PUBLIC_BASE_URL": settings.public_base_url,
            "MATCHMAKER_SMTP_PORT": str(ports.smtp),
            "MATCHMAKER_CODEC_PORT": str(ports.codec),
            "MATCHMAKER_CODEC_UI_TOKEN": settings.codec_ui_token.get_secret_value(),
            "MATCHMAKER_CODEC_CORS_ORIGINS": ",".join(settings.codec_cors_origins),
            "MATCHMAKER_LOG_JSON": "true" if _json_logs(settings) else "false",
        }
    )

    def given(**ports_by_variable: int | None) -> dict[str, str]:
        return {**base, **{k: str(v) for k, v in ports_by_variable.items() if v is not None}}

    api = given(MATCHMAKER_API_METRICS_PORT=ports.api_metrics)
    if _in_dotenv("MATCHMAKER_TEMPORAL_METRICS_PORT"):
        # the SDK's metrics are the worker's; a port named in `.env`, which the API reads
        # too, would be bound twice: the API's goes to a port of the system's choosing
        api["MATCHMAKER_TEMPORAL_METRICS_PORT"] = "0"
    return {
        "api": api,
        "worker": given(
            MATCHMAKER_WORKER_METRICS_PORT=ports.worker_metrics,
            MATCHMAKER_TEMPORAL_METRICS_PORT=ports.sdk_metrics,
        ),
        "codec-server": given(),
        "mail-catcher": given(),
    }


def _children(settings: Settings, ports: DevPorts) -> list[Child]:
    """The processes of the stack but Temporal, in the order they start."""
    matchmaker = str(binary_path("matchmaker"))
    env = child_environments(settings, ports)
    return [
        Child("mail-catcher", [matchmaker, "mail-catcher"], env["mail-catcher"]),
        Child("worker", [matchmaker, "worker"], env["worker"]),
        Child(
            "api",
            [matchmaker, "api"],
            env["api"],
            stop_timeout=settings.api_graceful_shutdown_seconds + 15,
        ),
        Child("codec-server", [matchmaker, "codec-server"], env["codec-server"]),
    ]


def _temporal_ready(settings: Settings, found: list[Client]) -> Probe:
    async def probe() -> bool:
        try:
            client = await connect(settings)
            await client.service_client.check_health()
        except Exception:  # noqa: BLE001 - not up yet
            return False
        found.append(client)
        return True

    return probe


def worker_polling(client: Client, settings: Settings, pid: int) -> Probe:
    """Ready once the worker in process ``pid`` polls the task queue for workflow tasks."""
    identity = identity_of(pid)
    request = DescribeTaskQueueRequest(
        namespace=settings.temporal_namespace,
        task_queue=TaskQueue(name=settings.task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )

    async def probe() -> bool:
        try:
            described = await client.workflow_service.describe_task_queue(request)
        except RPCError:
            return False
        return any(poller.identity == identity for poller in described.pollers)

    return probe


STARTUP_SECONDS = 120  # four Python processes importing the app at once, on two cores


@dataclass
class Started:
    new_admin_key: str | None
    new_password: str | None


class DevStack:
    """The supervisor's state: its processes, and what the first start made."""

    def __init__(self, settings: Settings, ports: DevPorts) -> None:
        self.settings = settings
        self.ports = ports
        self.temporal = Child(
            "temporal",
            _temporal_command(settings, ports),  # resolves the binary: fails early if missing
            dict(os.environ),
            log_file=settings.data_dir / "temporal.log",
            stop_timeout=15,
        )
        self.children = _children(settings, ports)
        self.width = max(len(child.name) for child in self.children)

    @property
    def started(self) -> list[Child]:
        return [c for c in (self.temporal, *self.children) if c.process is not None]

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    async def start(self) -> Started:
        """The first start's duties, once, then every process until each is ready."""
        settings = self.settings
        await self.temporal.start(output(), self.width)
        clients: list[Client] = []
        await asyncio.gather(  # the database is migrated while Temporal boots
            asyncio.to_thread(upgrade_database, settings.resolved_database_url),
            self.temporal.ready(_temporal_ready(settings, clients), within=60, interval=0.25),
        )
        client = clients[0]
        await ensure_search_attributes(client, settings.temporal_namespace, ALL_KEYS)
        engine = make_engine(settings.resolved_database_url)
        try:
            sessions = make_sessionmaker(engine)
            try:
                new_key = await ensure_admin_key(settings, sessions)
                new_password = await ensure_admin_password(settings, sessions)
            except access.AccessError as exc:
                raise DevStackError(str(exc)) from None
        finally:
            await engine.dispose()
        logger.info("first start's duties done; starting the processes")
        for child in self.children:
            await child.start(output(), self.width)
        probes = {
            "mail-catcher": port_open("127.0.0.1", self.ports.smtp),
            "worker": worker_polling(client, settings, self.child("worker").pid),
            "api": answers_200("127.0.0.1", self.ports.api, "/healthz"),
            "codec-server": port_open(settings.codec_host, self.ports.codec),
        }
        await asyncio.gather(
            *(c.ready(probes[c.name], within=STARTUP_SECONDS) for c in self.children)
        )
        return Started(new_key, new_password)

    async def stop(self) -> None:
        """Stop what runs: the API, the codec server and the worker first (requests and
        workflow tasks under way finish against Temporal and the mail catcher), then the mail
        catcher, then Temporal."""
        children = {c.name: c for c in self.children}
        await asyncio.gather(*(children[n].stop() for n in ("api", "codec-server", "worker")))
        await children["mail-catcher"].stop()
        await self.temporal.stop()

    def kill(self) -> None:
        for child in self.started:
            child.kill()

    def write_state(self) -> Path:
        settings, ports = self.settings, self.ports
        return devstate.write_state(
            settings.data_dir,
            settings={
                "temporal_target": settings.temporal_target,
                "temporal_namespace": settings.temporal_namespace,
                "task_queue": settings.task_queue,
                "database_url": settings.resolved_database_url,
                "api_port": ports.api,
                "public_base_url": settings.public_base_url,
                "temporal_ui_port": ports.ui,
                "smtp_port": ports.smtp,
                "codec_port": ports.codec,
            },
            processes={child.name: child.pid for child in self.started},
            api_url=f"http://127.0.0.1:{ports.api}",
            extra={"ports": asdict(ports)},
        )


def _refuse_a_running_stack(settings: Settings) -> None:
    """Refuse to start over a stack running from the same data directory; replace the file
    of one that did not stop cleanly, naming what it left running."""
    state = devstate.read_state(settings.data_dir)
    if state is None:
        return
    if state.running:
        raise DevStackError(
            f"a dev stack is already running from {settings.data_dir} (pid {state.pid}, API "
            f"{state.api_url}): stop it first, or give this one another --data-dir"
        )
    survivors = state.survivors()
    logger.warning(
        "the previous dev stack did not stop cleanly; its state file is replaced",
        pid=state.pid,
        still_running=", ".join(f"{name} (pid {pid})" for name, pid in survivors.items()) or None,
        stop_them=f"kill {' '.join(map(str, survivors.values()))}" if survivors else None,
    )
    state.path.unlink(missing_ok=True)


async def run_dev(settings: Settings) -> int:
    """Start the stack; stop all of it on a signal, or when one of its processes stops."""
    _refuse_a_running_stack(settings)
    settings = with_dev_metrics(settings)
    ports = check_ports(settings)
    settings = _with_codec_wiring(settings, ports)
    stack = DevStack(settings, ports)
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    stop = asyncio.Event()

    def on_signal() -> None:
        if stop.is_set():  # a second Ctrl-C: no more waiting
            logger.warning("stopping now")
            stack.kill()
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    stopped = asyncio.create_task(stop.wait(), name="signal")
    exit_code = 0
    try:
        starting = asyncio.create_task(stack.start(), name="start")
        await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, ChildFailed, DevStackError):
                await starting
            return 0
        try:
            started = starting.result()
        except ChildFailed as exc:
            raise DevStackError(str(exc)) from None
        state_file = stack.write_state()
        _announce(settings, ports, stack, state_file, started)
        running = asyncio.create_task(first_exit(stack.started), name="children")
        await asyncio.wait({running, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            gone = running.result()
            exit_code = 1
            logger.error(
                "a process of the stack stopped unexpectedly; stopping the others",
                process=gone.name,
                reason=str(gone.failure("while running")),
            )
        else:
            running.cancel()
        logger.info("shutting down")
    finally:
        stopped.cancel()
        await stack.stop()
        devstate.remove_state(settings.data_dir)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    logger.info("stopped")
    return exit_code


def _telemetry_lines(settings: Settings) -> list[str]:
    host = settings.metrics_host
    lines = []
    for label, port, default, name in (
        ("Metrics    ", settings.api_metrics_port, DEV_METRICS_PORT, "api_metrics"),
        ("SDK metrics", settings.temporal_metrics_port, DEV_TEMPORAL_METRICS_PORT,
         "sdk_metrics"),
        ("Worker     ", settings.worker_metrics_port, DEV_WORKER_METRICS_PORT,
         "worker_metrics"),
    ):  # fmt: skip
        what = {
            "api_metrics": "the API's: matches, outbox, answers, latency",
            "sdk_metrics": "the worker's Temporal SDK",
            "worker_metrics": "the worker's: email attempts",
        }[name]
        if port is not None:
            lines.append(f"  {label}    http://{host}:{port}/metrics  ({what})")
        else:  # with_dev_metrics left it unset: its port was taken
            _, option, variable = PORT_CHOICES[name]
            lines.append(
                f"  {label}    off: port {default} is taken (choose another with {option} or "
                f"{variable})"
            )
    if settings.otlp_endpoint:
        lines.append(f"  Traces         OTLP to {settings.otlp_endpoint}")
    return lines


def _announce(
    settings: Settings,
    ports: DevPorts,
    stack: DevStack,
    state_file: Path,
    started: Started,
) -> None:
    lines = [
        "Matchmaker dev stack is up:",
        f"  API            http://127.0.0.1:{ports.api}  (docs: /docs, health: /healthz)",
        f"  Temporal UI    http://127.0.0.1:{ports.ui}  (payloads decoded by the codec "
        f"server on 127.0.0.1:{ports.codec})",
        f"  Temporal gRPC  127.0.0.1:{ports.temporal}  namespace {settings.temporal_namespace}",
        f"  SMTP catcher   127.0.0.1:{ports.smtp}  -> Maildir {settings.mail_dir.resolve()}",
        f"  Database       {settings.resolved_database_url}",
        *_telemetry_lines(settings),
        "  Processes      "
        + ", ".join(f"{child.name} {child.pid}" for child in stack.started)
        + f"  (pids; other commands find them in {state_file})",
        f"  Admin API key  {admin_key_path(settings)}  "
        '(curl -H "Authorization: Bearer $(cat ' + str(admin_key_path(settings)) + ')" …)',
    ]
    if started.new_admin_key is not None:
        lines.append(
            "  New admin API key (shown this once, kept in the file above): "
            + started.new_admin_key
        )
    lines.append(
        f"  Console        http://127.0.0.1:{ports.api}/console  "
        f"(sign in as {settings.secretariat_email}, password in {admin_password_path(settings)}"
        " unless changed since)"
    )
    if started.new_password is not None:
        lines.append(
            "  New console password (shown this once, kept in the file above): "
            + started.new_password
        )
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)  # noqa: T201 - the CLI's own output
