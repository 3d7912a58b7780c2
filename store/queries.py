"""The read side: matches, their history, emails and case studies (one session in, no writes)."""

from collections.abc import Sequence

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from store.tables import ApiKeyRow, CaseStudyRow, MatchHistoryRow, MatchRow, OutboxRow, UserRow


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


async def get_user(session: AsyncSession, *, email: str) -> UserRow | None:
    """Return the user with that address, or None."""
    return (
        await session.execute(select(UserRow).where(UserRow.email == email))
    ).scalar_one_or_none()


async def list_users(session: AsyncSession) -> Sequence[UserRow]:
    """Return every user, by address."""
    return (await session.execute(select(UserRow).order_by(UserRow.email))).scalars().all()


async def count_users(session: AsyncSession, *, role: str | None = None) -> int:
    """How many users there are (with that role)."""
    query = select(func.count()).select_from(UserRow)
    if role is not None:
        query = query.where(UserRow.role == role)
    return (await session.execute(query)).scalar_one()


async def get_api_key(session: AsyncSession, *, key_id: str) -> tuple[ApiKeyRow, UserRow] | None:
    """Return a key by its public id, with its user, or None."""
    found = (
        await session.execute(
            select(ApiKeyRow, UserRow)
            .join(UserRow, ApiKeyRow.user_id == UserRow.id)
            .where(ApiKeyRow.key_id == key_id)
        )
    ).one_or_none()
    return None if found is None else (found[0], found[1])


async def list_api_keys(
    session: AsyncSession, *, email: str | None = None
) -> Sequence[tuple[ApiKeyRow, UserRow]]:
    """Return every key (of one user), oldest first, each with its user."""
    query = select(ApiKeyRow, UserRow).join(UserRow, ApiKeyRow.user_id == UserRow.id)
    if email is not None:
        query = query.where(UserRow.email == email)
    rows = (await session.execute(query.order_by(ApiKeyRow.created_at, ApiKeyRow.id))).all()
    return [(key, user) for key, user in rows]
