"""Two replicas over one database: an engine (a pool of connections) each."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from store.engine import make_engine, make_sessionmaker


@pytest.fixture
async def replicas(database_url: str) -> AsyncIterator[list[async_sessionmaker]]:
    """The sessions of two API replicas over the test's database."""
    engines = [make_engine(database_url), make_engine(database_url)]
    try:
        yield [make_sessionmaker(engine) for engine in engines]
    finally:
        for engine in engines:
            await engine.dispose()
