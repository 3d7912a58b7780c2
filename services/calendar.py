"""The stack's calendar, as new matches start on it (see domain/calendar.py)."""

import weakref
from datetime import UTC, datetime

from domain.calendar import Calendar
from services.backend import Backend
from store.calendar import calendar_epoch, read_epoch

# day 0 never changes once stored: each process reads it once per database
_epochs: "weakref.WeakKeyDictionary[object, datetime]" = weakref.WeakKeyDictionary()


async def known_calendar(backend: Backend) -> Calendar | None:
    """The stack's compressed calendar for reading dates, without fixing its day 0 (None on
    real days, or before the stack started its first match)."""
    if not backend.compressed_days:
        return None
    epoch = _epochs.get(backend.sessions)
    if epoch is None:
        async with backend.sessions() as session:
            epoch = await read_epoch(session)
        if epoch is None:
            return None
        _epochs[backend.sessions] = epoch
    return Calendar(epoch=epoch, day_seconds=backend.day_seconds)


async def stack_calendar(backend: Backend) -> Calendar | None:
    """The compressed calendar new matches keep, or None on a stack of real days."""
    if not backend.compressed_days:
        return None
    epoch = _epochs.get(backend.sessions)
    if epoch is None:
        async with backend.sessions() as session:
            epoch = await calendar_epoch(session, now=datetime.now(UTC))
            await session.commit()
        _epochs[backend.sessions] = epoch
    return Calendar(epoch=epoch, day_seconds=backend.day_seconds)
