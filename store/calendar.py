"""Day 0 of the stack's calendar, kept in the database so that every replica reads the same."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.tables import StackCalendarRow
from store.writes import dialect_insert


async def read_epoch(session: AsyncSession) -> datetime | None:
    """The calendar's day 0, or None before the stack's first match."""
    return await session.scalar(select(StackCalendarRow.epoch).where(StackCalendarRow.id == 1))


async def calendar_epoch(session: AsyncSession, *, now: datetime) -> datetime:
    """The calendar's day 0: ``now`` when none is stored yet (the first to ask fixes it)."""
    found = await session.scalar(select(StackCalendarRow.epoch).where(StackCalendarRow.id == 1))
    if found is not None:
        return found
    await session.execute(
        dialect_insert(session, StackCalendarRow).values(id=1, epoch=now).on_conflict_do_nothing()
    )
    epoch = await read_epoch(session)
    assert epoch is not None  # inserted just now, or by whoever came first
    return epoch
