"""Fixtures of the reliability suite: one Temporal dev server process for the session, the
figures of each test, the logs of the processes shown on failure, no process left behind."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.client import Client

from services.backend import Backend
from tests.reliability.harness import (
    STARTED,
    Api,
    Figures,
    MailServer,
    TemporalServer,
    Worker,
    backend_of,
    kill_all,
    matchmaker_env,
)
from tests.support import PostgresServer, migrated_postgres

_TEST_STARTED = pytest.StashKey[float]()


@pytest.fixture(scope="session")
def reliability_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reliability")


@pytest.fixture(scope="session", autouse=True)
def _no_stray_processes() -> Iterator[None]:
    """Whatever a test or fixture left running is killed when the suite ends."""
    yield
    left = kill_all()
    if left:
        print(f"\n[reliability] killed at teardown: {', '.join(left)}")  # noqa: T201


@pytest.fixture(scope="session")
async def temporal_server(reliability_dir: Path) -> AsyncIterator[TemporalServer]:
    """A Temporal dev server process, in memory, shared by the scenarios that do not stop it
    (each scenario runs its own worker on a task queue of its own)."""
    server = TemporalServer(reliability_dir, name="temporal-shared")
    server.start()
    try:
        await server.ready()
        yield server
    finally:
        await server.astop()


@pytest.fixture(scope="session")
async def temporal_client(temporal_server: TemporalServer) -> Client:
    return await temporal_server.ready()


SMTP_LOGIN = ("matchmaker", "not-a-real-password")


@dataclass
class Stack:
    """A worker and an API process, their database and mail server, and the services'
    backend in the test process (same database, same task queue)."""

    worker: Worker
    api: Api
    mail: MailServer
    database_url: str
    backend: Backend


@pytest.fixture(scope="session")
async def stack(
    reliability_dir: Path,
    temporal_server: TemporalServer,
    temporal_client: Client,
    postgres: PostgresServer,
) -> AsyncIterator[Stack]:
    """`matchmaker worker` and `matchmaker api` on the shared Temporal server and a database
    of their own; the mail server asks for a login, which the worker is configured with."""
    database_url = await migrated_postgres(postgres)
    mail = MailServer(credentials=SMTP_LOGIN).start()
    task_queue = f"rel-stack-{uuid.uuid4().hex[:8]}"
    env = matchmaker_env(
        temporal_target=temporal_server.target,
        task_queue=task_queue,
        database_url=database_url,
        smtp_port=mail.port,
        smtp_username=SMTP_LOGIN[0],
        smtp_password=SMTP_LOGIN[1],
        smtp_timeout_seconds=10,
    )
    directory = reliability_dir / "stack"
    directory.mkdir()
    worker, api = Worker(directory, env), Api(directory, env)
    try:
        worker.start()
        api.start()
        await asyncio.gather(worker.ready(), api.ready())
        async with backend_of(temporal_client, database_url, task_queue) as backend:
            yield Stack(
                worker=worker, api=api, mail=mail, database_url=database_url, backend=backend
            )
    finally:
        await asyncio.gather(worker.astop(), api.astop())
        mail.stop()


def figures_for(name: str, directory: Path, tmp_path_factory: pytest.TempPathFactory) -> Figures:
    together = tmp_path_factory.getbasetemp() / "reliability-figures.json"
    return Figures(name, directory / "figures.json", together)


@pytest.fixture
def figures(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Figures]:
    """The test's figures, printed and written to JSON at the end, whatever the outcome."""
    collected = figures_for(request.node.name, tmp_path, tmp_path_factory)
    yield collected
    collected.show()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    item.stash[_TEST_STARTED] = time.monotonic()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """On failure, show the tail of the log of every process that ran during the test."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    since = item.stash.get(_TEST_STARTED, 0.0)
    for proc in STARTED:
        if proc.alive or (proc.stopped_at or 0.0) >= since:
            report.sections.append((f"{proc.name} log, last lines ({proc.log})", proc.tail()))
