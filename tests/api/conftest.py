"""The API in process: over the test stack (a worker on the test server, both databases), or
over a migrated SQLite database and a Temporal that is not there (enough for what reads the
database or is refused before any workflow is reached)."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from infra.settings import Settings
from tests.support import bearer, http, migrated_sqlite
from workers.api import open_backend
from workers.http import create_app
from workers.ports import free_port


@pytest.fixture
async def api(stack, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the test stack, reached as http://matchmaker.test with an admin's key."""
    settings = Settings(
        database_url=database_url, task_queue=stack.task_queue, allowed_hosts=["matchmaker.test"]
    )
    async with http(
        create_app(settings, backend=stack.backend),
        base_url="http://matchmaker.test",
        headers=await bearer(stack.backend.sessions),
    ) as client:
        yield client


@pytest.fixture
def offline_settings(tmp_path: Path) -> Settings:
    """Settings of a migrated SQLite database and a Temporal nobody listens for."""
    url = migrated_sqlite(tmp_path / "matchmaker.db")
    return Settings(database_url=url, temporal_target=f"127.0.0.1:{free_port()}")


@pytest.fixture
async def offline_app(offline_settings: Settings) -> AsyncIterator[FastAPI]:
    """The API over ``offline_settings`` (middleware may still be added before a request)."""
    async with open_backend(offline_settings) as backend:
        yield create_app(offline_settings, backend=backend)


@pytest.fixture
async def offline_api(offline_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The offline API, reached as http://localhost with an admin's key."""
    headers = await bearer(offline_app.state.backend.sessions)
    async with http(offline_app, headers=headers) as client:
        yield client
