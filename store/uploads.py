"""The console's uploads and their imports' progress (repository functions; never commit)."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from store.engine import rowcount
from store.tables import ConsoleUploadRow

RUNNING = "running"


async def add_upload(session: AsyncSession, *, keep: int, **values: Any) -> None:
    """Hold a checked upload; of those not running, the newest ``keep`` (this one among them)
    stay and older ones go."""
    table = ConsoleUploadRow.__table__
    older = (
        select(table.c.id)
        .where(table.c.state != RUNNING)
        .order_by(table.c.held_at.desc(), table.c.id)
        .offset(keep - 1)
    )
    gone = list((await session.scalars(older)).all())
    if gone:
        await session.execute(delete(table).where(table.c.id.in_(gone)))
    session.add(ConsoleUploadRow(**values))
    await session.flush()


async def get_upload(
    session: AsyncSession, *, upload_id: str, with_rows: bool = False
) -> ConsoleUploadRow | None:
    """An upload by its id; its parsed rows (large) are read only ``with_rows``."""
    query = select(ConsoleUploadRow).where(ConsoleUploadRow.id == upload_id)
    if not with_rows:
        query = query.options(defer(ConsoleUploadRow.parsed, raiseload=True))
    return await session.scalar(query)


async def claim_upload(session: AsyncSession, *, upload_id: str, owner: str, now: datetime) -> bool:
    """Mark a checked upload as running (once: whoever claims it first runs the import)."""
    table = ConsoleUploadRow.__table__
    result = await session.execute(
        update(table)
        .where(table.c.id == upload_id, table.c.owner == owner, table.c.state == "checked")
        .values(state=RUNNING, updated_at=now)
    )
    return rowcount(result) == 1


async def save_progress(
    session: AsyncSession, *, upload_id: str, now: datetime, **values: Any
) -> None:
    """Write an import's counts (or its end) and the time: its replica is alive."""
    table = ConsoleUploadRow.__table__
    await session.execute(
        update(table).where(table.c.id == upload_id).values(updated_at=now, **values)
    )


async def forget_uploads(session: AsyncSession, *, before: datetime) -> int:
    """Delete the uploads not written since ``before`` (a running import writes every few
    seconds, so only one whose replica died goes); how many."""
    table = ConsoleUploadRow.__table__
    result = await session.execute(delete(table).where(table.c.updated_at < before))
    return max(rowcount(result), 0)
