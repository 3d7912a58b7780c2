"""The figures an operator watches, read from the database: matches by stage and status, the
outbox by status and the wait of its oldest email."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from infra.metrics import StoreFigures
from store import queries

# an email not yet handed to the SMTP server (claimed and being sent counts as waiting too)
WAITING = ("pending", "sending")


async def store_figures(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime | None = None
) -> StoreFigures:
    """Two grouped queries: matches per (stage, status), emails per outbox status."""
    now = now or datetime.now(UTC)
    async with sessions() as session:
        matches = await queries.count_matches_by_stage(session)
        outbox = await queries.outbox_by_status(session)
    waiting = [oldest for status, _count, oldest in outbox if status in WAITING and oldest]
    return StoreFigures(
        matches={(stage, status): count for stage, status, count in matches},
        outbox={status: count for status, count, _oldest in outbox},
        oldest_pending_seconds=max(0.0, (now - min(waiting)).total_seconds()) if waiting else None,
    )


def outbox_verdict(figures: StoreFigures, *, threshold_seconds: float) -> str:
    """``ok`` when no email has waited longer than the threshold, else a sentence saying how
    long the oldest has waited (the outbox is not draining: SMTP down, or no worker)."""
    age = figures.oldest_pending_seconds
    if age is None or age <= threshold_seconds:
        return "ok"
    waiting = sum(figures.outbox.get(status, 0) for status in WAITING)
    return (
        f"behind: the oldest of {waiting} waiting emails has waited {age:.0f} s "
        f"(more than {threshold_seconds:.0f} s)"
    )
