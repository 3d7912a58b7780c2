"""The read side: matches, their history, emails and case studies (one session in, no writes)."""

from collections.abc import Sequence

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from store.tables import CaseStudyRow, MatchHistoryRow, MatchRow, OutboxRow


async def get_match(session: AsyncSession, *, match_id: str) -> MatchRow | None:
    """Return one match or None."""
    return await session.get(MatchRow, match_id)


async def list_matches(
    session: AsyncSession,
    *,
    stage: str | None = None,
    status: str | None = None,
    focus_area: str | None = None,
    workshop_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[MatchRow], int]:
    """Return one page of matches (newest first) and the total that match the filters."""
    query = select(MatchRow)
    for column, value in (
        (MatchRow.stage, stage),
        (MatchRow.status, status),
        (MatchRow.focus_area, focus_area),
        (MatchRow.workshop_id, workshop_id),
    ):
        if value is not None:
            query = query.where(column == value)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (
        await session.execute(
            query.order_by(MatchRow.created_at.desc(), MatchRow.id).limit(limit).offset(offset)
        )
    ).scalars()
    return rows.all(), total


async def list_history(session: AsyncSession, *, match_id: str) -> Sequence[MatchHistoryRow]:
    """Return a match's history in order."""
    return (
        (
            await session.execute(
                select(MatchHistoryRow)
                .where(MatchHistoryRow.match_id == match_id)
                .order_by(MatchHistoryRow.seq)
            )
        )
        .scalars()
        .all()
    )


async def list_outbox(session: AsyncSession, *, match_id: str) -> Sequence[OutboxRow]:
    """Return the emails recorded for a match."""
    return (
        (
            await session.execute(
                select(OutboxRow).where(OutboxRow.match_id == match_id).order_by(OutboxRow.id)
            )
        )
        .scalars()
        .all()
    )


async def get_case_study(session: AsyncSession, *, match_id: str) -> CaseStudyRow | None:
    """Return the case study drafted for a match, if any."""
    return (
        await session.execute(select(CaseStudyRow).where(CaseStudyRow.match_id == match_id))
    ).scalar_one_or_none()


async def ping(session: AsyncSession) -> None:
    """Raise unless the database answers."""
    await session.execute(text("SELECT 1"))
