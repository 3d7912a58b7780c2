"""Units of work run again when PostgreSQL breaks them to resolve a conflict.

PostgreSQL ends one transaction of a deadlock (40P01) or of a serialization failure (40001)
and expects the application to run it again: the others went through. Writers that share
rows (a workshop, an institution, the funnel's cells) can meet so when many matches of one
workshop are recorded at once, as an import does. Activities are retried by Temporal; a use
case that writes from a request runs its unit of work through ``run_unit``."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")

RETRIED = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
ATTEMPTS = 5


def broken_by_the_database(exc: BaseException) -> bool:
    """Whether PostgreSQL ended the transaction to let a conflicting one through."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "pgcode", None) in RETRIED


async def run_unit(
    sessions: async_sessionmaker[AsyncSession],
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    attempts: int = ATTEMPTS,
) -> T:
    """Run ``work`` in a session and commit; run it again in a fresh session, after a short
    random pause, when the database broke it to resolve a conflict."""
    for attempt in range(1, attempts + 1):
        try:
            async with sessions() as session:
                result = await work(session)
                await session.commit()
                return result
        except DBAPIError as exc:
            if attempt == attempts or not broken_by_the_database(exc):
                raise
            await asyncio.sleep(random.uniform(0.01, 0.05) * 2**attempt)  # noqa: S311
    raise AssertionError("unreachable")
