"""Database failures: poison is non-retryable, outages are retried, messages stay short."""

from datetime import UTC, datetime

import pytest
from temporalio.exceptions import ApplicationError

from activities.failures import (
    DATA_REJECTED,
    DATABASE_UNAVAILABLE,
    MESSAGE_MAX,
    cut,
    database_errors,
)
from store import writes
from store.engine import make_engine, make_sessionmaker
from tests.support import create_database, record_eoi, unique_eoi
from workers.ports import free_port

PRIVATE = "ana.private@example.org"


async def test_a_value_postgresql_refuses_is_poison_without_the_statement(postgres):
    """Past the input checks (say, a bug), a refused value fails once, not forever."""
    url = await create_database(postgres)
    import asyncio

    from store.engine import upgrade_database

    await asyncio.to_thread(upgrade_database, url)
    engine = make_engine(url)
    eoi = unique_eoi()
    try:
        await record_eoi(make_sessionmaker(engine), eoi)
        with pytest.raises(ApplicationError) as caught, database_errors("recording the history"):
            async with make_sessionmaker(engine)() as session:
                entry = {
                    "seq": 9,
                    "kind": "note",
                    "stage": "follow_up",
                    "actor": "x" * 300,  # the column holds 200
                    "summary": f"{PRIVATE} " * 500,
                    "data": {},
                    "occurred_at": datetime.now(UTC),
                }
                await writes.append_history_entries(session, match_id=eoi.match_id, entries=[entry])
                await session.commit()
    finally:
        await engine.dispose()
    error = caught.value
    assert error.type == DATA_REJECTED and error.non_retryable
    assert error.message.startswith("the database refused recording the history: ")
    assert "too long" in error.message
    assert PRIVATE not in error.message and "INSERT" not in error.message
    assert error.__cause__ is None  # the SQL and its parameters do not travel with it


async def test_an_unreachable_database_is_retried():
    engine = make_engine(f"postgresql+asyncpg://matchmaker@127.0.0.1:{free_port()}/matchmaker")
    try:
        with pytest.raises(ApplicationError) as caught, database_errors("recording the match"):
            async with make_sessionmaker(engine)() as session:
                await writes.create_match(
                    session,
                    eoi=unique_eoi(),
                    workflow_id="w",
                    stage="follow_up",
                    status="active",
                    next_deadline=None,
                )
    finally:
        await engine.dispose()
    assert caught.value.type == DATABASE_UNAVAILABLE
    assert not caught.value.non_retryable
    assert caught.value.message.startswith("the database failed while recording the match")


def test_messages_are_cut_to_what_the_temporal_ui_shows():
    assert cut("short") == "short"
    long = cut("word " * 1000)
    assert len(long) == MESSAGE_MAX and long.endswith("…")
