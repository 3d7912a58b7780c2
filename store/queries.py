"""The read side: matches, their history, emails and case studies (one session in, no writes)."""

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import case, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import CloseReason, FocusArea, MatchStatus, Party, Stage
from domain.model import Country, Identifier
from domain.text import Name
from store.tables import ApiKeyRow, CaseStudyRow, MatchHistoryRow, MatchRow, OutboxRow, UserRow

# A page is bounded both ways: a huge offset or limit is a mistake to name, not a query for the
# database to choke on.
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000

MatchSort = Literal[
    "next_deadline",
    "-next_deadline",
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "stage",
]


class MatchFilter(BaseModel):
    """Which matches to list, in which order, which page: the one value the HTTP query, the
    CLI's options and the query below share. Every criterion given must hold (AND)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: Stage | None = None
    status: MatchStatus | None = None
    close_reason: CloseReason | None = None
    focus_area: FocusArea | None = None
    adopter_country: Country | None = Field(default=None, description="ISO 3166 alpha-2")
    provider_country: Country | None = Field(default=None, description="ISO 3166 alpha-2")
    solution_id: Identifier | None = None
    workshop_id: Identifier | None = None
    overdue: bool | None = Field(
        default=None,
        description="true: the next deadline has passed; false: it has not, or there is none",
    )
    waiting_on: Party | None = Field(
        default=None,
        description="a partner with an unanswered prompt, or the Secretariat (the match needs "
        "attention or is paused)",
    )
    needs_attention: bool | None = None
    text: Name | None = Field(
        default=None,
        description="case-insensitive, within the summary, the solution's title and both "
        "institutions' names",
    )
    sort: MatchSort = Field(
        default="-created_at", description="a field, descending with a leading '-'"
    )
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


_LIKE_SPECIAL = re.compile(r"[\\%_]")
_STAGE_ORDER = case(
    {stage.value: position for position, stage in enumerate(Stage)}, value=MatchRow.stage
)
# matches without a deadline come last either way
_ORDER = {
    "next_deadline": (MatchRow.next_deadline.asc().nulls_last(),),
    "-next_deadline": (MatchRow.next_deadline.desc().nulls_last(),),
    "created_at": (MatchRow.created_at.asc(),),
    "-created_at": (MatchRow.created_at.desc(),),
    "updated_at": (MatchRow.updated_at.asc(),),
    "-updated_at": (MatchRow.updated_at.desc(),),
    "stage": (_STAGE_ORDER.asc(),),
}


async def get_match(session: AsyncSession, *, match_id: str) -> MatchRow | None:
    """Return one match or None."""
    return await session.get(MatchRow, match_id)


async def list_matches(
    session: AsyncSession, *, filters: MatchFilter, now: datetime
) -> tuple[Sequence[MatchRow], int]:
    """Return one page of the matches that pass the filters, in the filters' order, and how
    many pass them in all (``now`` tells what is overdue)."""
    query = select(MatchRow)
    for column, value in (
        (MatchRow.stage, filters.stage),
        (MatchRow.status, filters.status),
        (MatchRow.close_reason, filters.close_reason),
        (MatchRow.focus_area, filters.focus_area),
        (MatchRow.adopter_country, filters.adopter_country),
        (MatchRow.provider_country, filters.provider_country),
        (MatchRow.solution_id, filters.solution_id),
        (MatchRow.workshop_id, filters.workshop_id),
        (MatchRow.needs_attention, filters.needs_attention),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.overdue is True:
        query = query.where(MatchRow.next_deadline < now)
    elif filters.overdue is False:
        query = query.where(or_(MatchRow.next_deadline.is_(None), MatchRow.next_deadline >= now))
    if filters.waiting_on is not None:  # no party's name is part of another's
        query = query.where(MatchRow.waiting_on.like(f"%{filters.waiting_on.value}%"))
    if filters.text:
        pattern = "%" + _LIKE_SPECIAL.sub(r"\\\g<0>", filters.text.casefold()) + "%"
        query = query.where(MatchRow.search_text.like(pattern, escape="\\"))
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (
        await session.execute(
            query.order_by(*_ORDER[filters.sort], MatchRow.created_at.desc(), MatchRow.id)
            .limit(filters.limit)
            .offset(filters.offset)
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
