"""Shared fixtures: real PostgreSQL and SQLite databases, SMTP server, Temporal test server."""

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.notifications import MailIdentity
from activities.smtp import SmtpMailer
from infra.settings import Settings
from services.backend import Backend
from store.engine import make_engine, make_sessionmaker
from tests.support import (
    PAYLOAD_KEY,
    PostgresServer,
    RecordingHandler,
    migrated_postgres,
    migrated_sqlite,
    smtp_server,
    start_postgres,
    start_test_server,
)
from workers.worker import Resources, build_worker, partner_links


@pytest.fixture(scope="session", autouse=True)
def payload_key_in_environment() -> Iterator[None]:
    """Every Settings the tests build, here or in a child process (`matchmaker api`, the CLI),
    opens what the test servers' clients seal: the session's payload key."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MATCHMAKER_PAYLOAD_KEYS", PAYLOAD_KEY)
        yield


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster for the whole session (Debian's `postgresql` package)."""
    server = start_postgres()
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run installs Debian's postgresql")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of its own on each backend (a copy of the session's template)."""
    if request.param == "sqlite":
        return migrated_sqlite(tmp_path / "matchmaker.db")
    return await migrated_postgres(request.getfixturevalue("postgres"))


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker]:
    engine = make_engine(database_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def smtp() -> Iterator[tuple[RecordingHandler, int]]:
    """A real SMTP server on loopback and the port it listens on."""
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping test server for the tests that do not skip time themselves."""
    env = await start_test_server()
    try:
        yield env
    finally:
        await env.shutdown()


WORKER_SHUTDOWN_S = 60


@dataclass
class Stack:
    client: Client
    task_queue: str
    resources: Resources
    mail: RecordingHandler

    @property
    def backend(self) -> Backend:
        return Backend(
            client=self.client, sessions=self.resources.sessions, task_queue=self.task_queue
        )


def resources_for_tests(sessions, smtp_port: int) -> Resources:  # type: ignore[no-untyped-def]
    """The activities' database (the sessions fixture owns the engine) and the test SMTP
    server; partner links signed with the dev secret, as the API of the tests has it."""
    return Resources(
        engine=None,  # type: ignore[arg-type]
        sessions=sessions,
        mailer=SmtpMailer(host="127.0.0.1", port=smtp_port, timeout=5),
        identity=MailIdentity(
            sender="matchmaker@ssn4psi.org",
            sender_name="SSN4PSI Matchmaker",
            secretariat_email="secretariat@ssn4psi.org",
            public_base_url="http://matchmaker.test",
        ),
        links=partner_links(Settings()),
    )


@pytest.fixture
async def stack(temporal_env, sessions, smtp) -> AsyncIterator[Stack]:
    """A worker with the real activities (database + SMTP) on a fresh task queue."""
    handler, port = smtp
    resources = resources_for_tests(sessions, port)
    task_queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = build_worker(temporal_env.client, task_queue=task_queue, resources=resources)
    running = asyncio.create_task(worker.run())
    try:
        yield Stack(
            client=temporal_env.client, task_queue=task_queue, resources=resources, mail=handler
        )
    finally:
        # The test is over: its worker's shutdown must not hold up the session. Against the
        # time-skipping server it once waited forever (a poll never answered, in a parallel
        # run); its task queue is the test's own, so a worker left polling harms no other test.
        try:
            await asyncio.wait_for(asyncio.shield(worker.shutdown()), timeout=WORKER_SHUTDOWN_S)
            await running
        except TimeoutError:
            sys.stderr.write(f"worker of {task_queue} still shutting down; left to the session\n")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``make test``'s parallel workers (pytest-xdist, ``--dist loadgroup``), the tests that
    share a fixture wider than one test run in one worker, so it is built once: a module-scoped
    fixture keeps its module together, a session-scoped one of a sub-folder (the reliability
    stack) its folder. The root's session fixtures (PostgreSQL, the test server) are each
    worker's own."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        for definitions in info.name2fixturedefs.values():
            definition = definitions[-1]
            if definition.scope == "module":
                item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
                break
            if definition.scope == "session" and definition.baseid not in ("", "tests"):
                item.add_marker(pytest.mark.xdist_group(definition.baseid))
                break
