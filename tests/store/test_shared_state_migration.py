"""Migration 0010r (rate limits and console uploads in the database) goes down and up again
on both databases, and its tables start empty."""

import asyncio

from alembic import command
from sqlalchemy import inspect, text

from store.engine import alembic_config


async def test_shared_state_tables_migrate_down_and_up(database_url, sessions):
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0009c")
    async with sessions() as session:
        tables = await session.run_sync(lambda s: inspect(s.connection()).get_table_names())
    assert "rate_limits" not in tables and "console_uploads" not in tables
    await asyncio.to_thread(command.upgrade, config, "head")
    async with sessions() as session:
        for table in ("rate_limits", "console_uploads"):
            assert (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar() == 0
