import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support import start_test_server

HISTORIES = Path(__file__).parent / "histories"


@pytest.fixture
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A test server per test: time skipping stalls while other tests' workflows wait on tasks."""
    env = await start_test_server()
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(params=["sqlite"])
async def database_url(request, tmp_path):
    """Workflow paths run on SQLite; the activity and API suites cover PostgreSQL too."""
    import asyncio

    from store.engine import upgrade_database

    url = f"sqlite+aiosqlite:///{tmp_path / 'matchmaker.db'}"
    await asyncio.to_thread(upgrade_database, url)
    return url


@pytest.fixture
def keep_history():
    """Return a function that stores a finished workflow's history for the replay test.

    Histories are (re)written only when MATCHMAKER_RECORD_HISTORIES=1; otherwise the stored
    files stay as they are, so CI replays histories made by earlier code.
    """

    async def keep(handle, name: str) -> None:
        if os.environ.get("MATCHMAKER_RECORD_HISTORIES") == "1":
            history = await handle.fetch_history()
            HISTORIES.mkdir(exist_ok=True)
            (HISTORIES / f"{name}.json").write_text(history.to_json())

    return keep
