"""The console in process over a migrated database (SQLite and PostgreSQL), reached over
https (its cookie is Secure there) as https://matchmaker.test; Temporal is not needed to sign
in, and is not there unless a test asks for the stack."""

from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from infra import passwords
from infra.settings import Settings
from tests.support import http
from workers.api import open_backend
from workers.http import create_app
from workers.ports import free_port

BASE = "https://matchmaker.test"


def console_settings(database_url: str, **changes: object) -> Settings:
    values: dict = {"allowed_hosts": ["matchmaker.test"], "public_base_url": BASE} | changes
    return Settings(database_url=database_url, **values)


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with small costs: the defaults (64 MiB, 3 passes) are for production and take
    seconds on a busy test machine; what is tested here is the use of the hash, not its cost."""
    quick = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", quick)
    dummy = quick.hash("no user has this password")
    monkeypatch.setattr(passwords, "_dummy", lambda: dummy)


@pytest.fixture
async def console_app(database_url: str) -> AsyncIterator[FastAPI]:
    settings = console_settings(database_url, temporal_target=f"127.0.0.1:{free_port()}")
    async with open_backend(settings) as backend:
        yield create_app(settings, backend=backend)


@pytest.fixture
async def browser(console_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that keeps cookies, like a browser, and follows no redirect by itself."""
    async with http(console_app, base_url=BASE) as client:
        yield client


@pytest.fixture
async def live_console(stack, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The console over the test stack (a worker on the time-skipping test server), so that
    matches run and actions reach their workflows."""
    settings = console_settings(database_url, task_queue=stack.task_queue)
    app = create_app(settings, backend=stack.backend)
    async with http(app, base_url=BASE) as client:
        client.app = app  # type: ignore[attr-defined]
        client.started = []  # type: ignore[attr-defined]
        try:
            yield client
        finally:
            # a match left running on the shared time-skipping server, with no worker for its
            # timers, holds up the clock of later tests that skip time
            for match_id in client.started:  # type: ignore[attr-defined]
                await stack.client.get_workflow_handle(match_id).terminate("test over")
