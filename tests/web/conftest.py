"""Partner pages in process, over the test stack (a worker on the test server, on SQLite: the
pages are the subject here; the store, services and API suites run both databases)."""

from collections.abc import AsyncIterator

import httpx
import pytest

from infra.settings import Settings
from tests.support import http, sqlite_database_url  # noqa: F401
from workers.http import create_app


@pytest.fixture
async def pages(stack, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The partner pages at http://matchmaker.test, with no key: the link is the credential."""
    settings = Settings(
        database_url=database_url,
        task_queue=stack.task_queue,
        allowed_hosts=["matchmaker.test"],
        public_base_url="http://matchmaker.test",
    )
    async with http(
        create_app(settings, backend=stack.backend), base_url="http://matchmaker.test"
    ) as client:
        yield client
