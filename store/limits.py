"""Failures per client against a limit, shared by every API replica (never commit)."""

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.engine import rowcount
from store.tables import RateLimitRow
from store.writes import dialect_insert

_limits = RateLimitRow.__table__


async def failures_of(session: AsyncSession, *, scope: str, client: str) -> list[float]:
    """The instants the client failed, as last written ([] when none are kept)."""
    found = await session.scalar(
        select(_limits.c.failures).where(_limits.c.scope == scope, _limits.c.client == client)
    )
    return list(found or [])


async def locked_failures(
    session: AsyncSession, *, scope: str, client: str, now: datetime
) -> list[float]:
    """The client's failures, its row made if need be and held until the unit of work ends:
    a writer of the same client on another replica waits, then reads what this one wrote."""
    insert = dialect_insert(session, RateLimitRow).values(
        scope=scope, client=client, failures=[], updated_at=now
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[_limits.c.scope, _limits.c.client],
            set_={"updated_at": insert.excluded.updated_at},
        )
    )
    return await failures_of(session, scope=scope, client=client)


async def save_failures(
    session: AsyncSession, *, scope: str, client: str, failures: list[float], now: datetime
) -> None:
    """Store the client's failures (its row locked by ``locked_failures``)."""
    await session.execute(
        update(_limits)
        .where(_limits.c.scope == scope, _limits.c.client == client)
        .values(failures=failures, updated_at=now)
    )


async def forget_quiet(session: AsyncSession, *, scope: str, before: datetime) -> int:
    """Delete the scope's rows not written since ``before`` (their failures have all left
    the window); how many."""
    result = await session.execute(
        delete(_limits).where(_limits.c.scope == scope, _limits.c.updated_at < before)
    )
    return max(rowcount(result), 0)
