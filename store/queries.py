"""The read side: matches, their history, emails and case studies (one session in, no writes)."""

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain import paging
from domain.enums import CloseReason, FocusArea, MatchStatus, Party, Stage
from domain.model import Country, Identifier
from domain.paging import CURSOR_MAX
from domain.text import Name
from store import paging as keyset
from store.tables import ApiKeyRow, CaseStudyRow, MatchHistoryRow, MatchRow, OutboxRow, UserRow

# A page is bounded both ways: a huge offset or limit is a mistake to name, not a query for the
# database to choke on.
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000
# The match list's offset stops here: past it, keyset paging (``after``) costs a page, where an
# offset costs every row it skips (docs/benchmarks.md).
MAX_LIST_OFFSET = 10_000
# The list counts the matches that pass its filters only this far past the page: a Secretariat
# reads "1,000+ matches" the same as "41,237", and counting every passing match of 100,000
# costs more than the page itself (docs/benchmarks.md). Past the cap the total is a lower bound.
COUNT_CAP = 1000
# SQLite: a free-text needle found in at most this many matches is looked up in the trigram
# table first (each id it yields costs about a microsecond); a commoner one is found by reading
# the page in order (store/queries.py text_search).
FTS_AT_MOST = 5000

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
    offset: int = Field(
        default=0,
        ge=0,
        le=MAX_LIST_OFFSET,
        description=f"skip this many (at most {MAX_LIST_OFFSET:,}; deeper, page with after)",
    )
    after: str | None = Field(
        default=None,
        max_length=CURSOR_MAX,
        description="continue after the page that answered this cursor as its 'next' (keyset "
        "paging: a deep page costs its own rows); with the same filters and sort, no offset",
    )

    @field_validator("after")
    @classmethod
    def _a_cursor_of_this_list(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A cursor this list made, for these filters and this sort (checked, not trusted)."""
        if value is None:
            return None
        if "sort" not in info.data or "offset" not in info.data:
            return value  # refused for those fields already
        why = paging.refusal(
            paging.decode(value),
            sort=info.data["sort"],
            filters=filters_digest(info.data),
            offset=info.data["offset"],
        )
        if why is not None:
            raise ValueError(why)
        return value


_PAGING = ("sort", "limit", "offset", "after")


def filters_digest(values: dict[str, Any]) -> str:
    """The digest of a list's filters (not its paging) that its cursors carry."""
    return paging.filters_digest(
        {
            k: v.value if isinstance(v, Enum) else v
            for k, v in values.items()
            if k not in _PAGING and v is not None
        }
    )


_LIKE_SPECIAL = re.compile(r"[\\%_]")


async def get_match(session: AsyncSession, *, match_id: str) -> MatchRow | None:
    """Return one match or None."""
    return await session.get(MatchRow, match_id)


async def list_matches(
    session: AsyncSession, *, filters: MatchFilter, now: datetime
) -> tuple[Sequence[MatchRow], int, bool, str | None]:
    """Return one page of the matches that pass the filters, in the filters' order (from
    ``offset``, or after the cursor ``after``), how many pass them, whether that count stopped
    at the cap (then at least that many pass), and the cursor of the next page (None on the
    last): the count goes ``COUNT_CAP`` matches past the page's end at most (``now`` tells
    what is overdue)."""
    found = await text_search(session, filters.text.casefold()) if filters.text else []
    where = _conditions(filters, now, MatchRow.next_deadline) + found
    cap = COUNT_CAP + filters.offset + filters.limit
    counted = select(MatchRow.id).where(*where).limit(cap + 1).subquery()
    total = (await session.execute(select(func.count()).select_from(counted))).scalar_one()
    page = where
    if (
        filters.overdue is not None
        and not filters.sort.endswith("next_deadline")
        and _sqlite(session)
    ):
        # SQLite would read the (many) overdue matches through the deadline's index and sort
        # them all; read in the page's order instead and stop at the page's end (a unary plus
        # hides the deadline's index). The count above still reads that index, up to its cap.
        hidden = literal_column("+matches.next_deadline", MatchRow.next_deadline.type)
        page = _conditions(filters, now, hidden) + found
    later: list[Any] = []
    then_undated = False
    if filters.after is not None:
        later, then_undated = keyset.after(paging.decode(filters.after))
    wanted = filters.limit + 1  # one more tells whether there is a next page

    async def read(conditions: list[Any], count: int) -> list[MatchRow]:
        query = select(MatchRow).where(*page, *conditions).order_by(*keyset.ORDER[filters.sort])
        rows = await session.execute(query.limit(count).offset(filters.offset))
        return list(rows.scalars())

    rows = await read(later, wanted)
    if then_undated and len(rows) < wanted:  # the matches without a deadline come last
        rows += await read([MatchRow.next_deadline.is_(None)], wanted - len(rows))
    following = None
    if len(rows) > filters.limit:
        rows = rows[: filters.limit]
        following = keyset.cursor(
            rows[-1], sort=filters.sort, filters=filters_digest(dict(filters))
        )
    return rows, min(total, cap), total > cap, following


def _sqlite(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "sqlite"


def _conditions(filters: MatchFilter, now: datetime, deadline: Any) -> list[Any]:
    """The conditions of every filter but free text (``deadline``: the column to compare)."""
    where = [
        column == value
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
        )
        if value is not None
    ]
    if filters.overdue is True:
        where.append(deadline < now)
    elif filters.overdue is False:
        where.append(or_(deadline.is_(None), deadline >= now))
    if filters.waiting_on is not None:  # no party's name is part of another's
        where.append(MatchRow.waiting_on.like(f"%{filters.waiting_on.value}%"))
    return where


async def text_search(session: AsyncSession, needle: str) -> list[Any]:
    """The conditions that find ``needle`` (casefolded) within ``search_text``: a substring
    ``LIKE``, which decides. On PostgreSQL the trigram index (pg_trgm, when the migration could
    create it) serves it. On SQLite a needle found in few matches (at most ``FTS_AT_MOST``) is
    first looked up in the trigram table ``matches_text``; a commoner one is found soonest by
    reading the matches in the page's order (and the count stops at its cap). Telling which
    costs one look-up in the trigram table, stopped past ``FTS_AT_MOST``."""
    pattern = "%" + _LIKE_SPECIAL.sub(r"\\\g<0>", needle) + "%"
    like = MatchRow.search_text.like(pattern, escape="\\")
    if not _sqlite(session) or len(needle) < 3:
        return [like]
    phrase = '"' + needle.replace('"', '""') + '"'
    hits = await session.execute(
        text(
            "SELECT count(*) FROM (SELECT rowid FROM matches_text WHERE matches_text MATCH "
            ":phrase LIMIT :most)"
        ),
        {"phrase": phrase, "most": FTS_AT_MOST + 1},
    )
    if hits.scalar_one() > FTS_AT_MOST:
        return [like]
    found = text("SELECT id FROM matches_text WHERE matches_text MATCH :phrase").bindparams(
        phrase=phrase
    )
    return [MatchRow.id.in_(found.columns(literal_column("id"))), like]


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


async def count_matches_by_stage(session: AsyncSession) -> list[tuple[str, str, int]]:
    """How many matches stand at each (stage, status): one grouped query over the indexes."""
    rows = await session.execute(
        select(MatchRow.stage, MatchRow.status, func.count()).group_by(
            MatchRow.stage, MatchRow.status
        )
    )
    return [(stage, status, count) for stage, status, count in rows.all()]


async def outbox_by_status(session: AsyncSession) -> list[tuple[str, int, datetime | None]]:
    """How many emails the outbox holds in each status, and when the oldest of each was
    recorded: one grouped query."""
    rows = await session.execute(
        select(OutboxRow.status, func.count(), func.min(OutboxRow.created_at)).group_by(
            OutboxRow.status
        )
    )
    return [(status, count, _utc(oldest)) for status, count, oldest in rows.all()]


def _utc(value: Any) -> datetime | None:
    """A ``min()`` of a UTC column as an aware datetime (SQLite hands back the raw text)."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
