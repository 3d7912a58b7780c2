"""Migration 0007s goes down and up again on both databases, keeping the users."""

import asyncio

from alembic import command
from sqlalchemy import text

from domain.access import Role
from services import access
from store.engine import alembic_config


async def test_console_sessions_migrate_down_and_up(database_url, sessions):
    await access.add_user(sessions, email="ana@ssn4psi.org", name="Ana", role=Role.STAFF)
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0007f")
    await asyncio.to_thread(command.upgrade, config, "head")
    async with sessions() as session:
        rows = (await session.execute(text("SELECT email, password_hash FROM users"))).all()
        count = (await session.execute(text("SELECT count(*) FROM console_sessions"))).scalar()
    assert [tuple(r) for r in rows] == [("ana@ssn4psi.org", None)] and count == 0
