"""The read side of the reports: the funnel's counts per key, the stalled matches and the
network's figures, all from the matches' milestones (one session in, no writes)."""

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Integer, String, and_, cast, func, literal_column, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import CloseReason, FocusArea, Stage
from domain.model import Country, Identifier
from domain.reports import TIMED_STAGES, FunnelBy, FunnelCounts
from store.queries import MAX_LIMIT, MAX_OFFSET
from store.tables import EoiRow, MatchRow, SolutionRow

_CLOSED = Stage.CLOSED.value


class ReportFilter(BaseModel):
    """Which matches a report counts: every criterion given must hold (AND)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workshop_id: Identifier | None = None
    focus_area: FocusArea | None = None
    adopter_country: Country | None = Field(default=None, description="ISO 3166 alpha-2")
    provider_country: Country | None = Field(default=None, description="ISO 3166 alpha-2")
    solution_id: Identifier | None = None
    year: int | None = Field(default=None, ge=1900, le=2999, description="the year they started")


def _started() -> Any:
    """When a match started: its first record, or when its row was written if none yet."""
    return func.coalesce(MatchRow.follow_up_at, MatchRow.created_at)


def _year() -> Any:
    return cast(func.extract("year", _started()), Integer)


KEYS: dict[str, Any] = {
    "workshop": lambda: MatchRow.workshop_id,
    "focus_area": lambda: MatchRow.focus_area,
    "adopter_country": lambda: MatchRow.adopter_country,
    "provider_country": lambda: MatchRow.provider_country,
    "solution": lambda: MatchRow.solution_id,
    "year": _year,
}

# reached a step: entered it or any later one (a match the Secretariat moved on past a stage
# still counts as having come that far)
_REACHED = {
    "field_visit": (MatchRow.field_visit_at, MatchRow.adaptation_at, MatchRow.outcome_at),
    "adaptation": (MatchRow.adaptation_at, MatchRow.outcome_at),
    "outcome": (MatchRow.outcome_at,),
}


def _where(filters: ReportFilter) -> list[Any]:
    conditions = [
        column == value
        for column, value in (
            (MatchRow.workshop_id, filters.workshop_id),
            (MatchRow.focus_area, filters.focus_area),
            (MatchRow.adopter_country, filters.adopter_country),
            (MatchRow.provider_country, filters.provider_country),
            (MatchRow.solution_id, filters.solution_id),
        )
        if value is not None
    ]
    if filters.year is not None:
        conditions.append(_year() == filters.year)
    return conditions


def _values(session: AsyncSession, column: Any) -> Any:
    """Every non-null value of a column in the group, as one comma-separated string."""
    as_text = cast(column, String)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return func.string_agg(as_text, ",")
    return func.group_concat(as_text, ",")


def _whole_days(session: AsyncSession, column: Any) -> Any:
    """Whole days, a day begun not counted: SQLite's cast truncates, PostgreSQL's rounds."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return cast(func.trunc(column), Integer)
    return cast(column, Integer)


def _grouped(session: AsyncSession, by: FunnelBy) -> Any:
    """The funnel's key. SQLite would group a column key by reading that column's own index,
    in order, and every ~800-byte row beside it; a unary plus hides the column's index, so it
    reads the narrow covering index ix_matches_funnel (its columns only) and sorts the keys.
    The workshop leads that index: read in its order, nothing to sort."""
    key = KEYS[by]()
    if (
        by not in ("year", "workshop")
        and session.bind is not None
        and session.bind.dialect.name == "sqlite"
    ):
        return literal_column(f"+matches.{key.name}", String)
    return key


async def funnel_counts(
    session: AsyncSession, *, by: FunnelBy, filters: ReportFilter
) -> list[FunnelCounts]:
    """Per key: how many matches, how many are open, how many reached each step, the whole
    days spent in each stage left as {days: matches}, and the closes by reason.

    One pass over the narrow covering index ix_matches_funnel (at 100,000 every pass costs):
    counts are aggregates, and the whole days of each stage come back as one string per key,
    counted here."""
    key = _grouped(session, by).label("key")

    def reached(columns: Sequence[Any]) -> Any:
        return func.count(func.coalesce(*columns) if len(columns) > 1 else columns[0])

    reasons = [r.value for r in CloseReason]
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # PostgreSQL prices a full index-only scan of the covering index above a scan of the
        # table, yet reads it 3–4 times faster (measured at 100,000: 21–30 against 85–110 ms,
        # after autovacuum has set the visibility map); for this statement's transaction only
        await session.execute(text("SET LOCAL enable_seqscan = off"))
    rows = (
        await session.execute(
            select(
                key,
                func.count().label("matches"),
                func.count().filter(MatchRow.stage != _CLOSED).label("open"),
                *(reached(columns).label(step) for step, columns in _REACHED.items()),
                *(func.count().filter(MatchRow.close_reason == r).label(r) for r in reasons),
                *(
                    _values(
                        session, _whole_days(session, getattr(MatchRow, f"days_{s.value}"))
                    ).label(f"days_{s.value}")
                    for s in TIMED_STAGES
                ),
            )
            .where(*_where(filters))
            .group_by(key)
        )
    ).all()
    return sorted((_counts(row._mapping, reasons) for row in rows), key=lambda c: c.key)


def _counts(row: Any, reasons: list[str]) -> FunnelCounts:
    """One key's counts from its row; built as is (the aggregates are already ints: no
    validation of some 100,000 histogram entries per funnel)."""
    return FunnelCounts.model_construct(
        key=str(row["key"]),
        matches=row["matches"],
        open=row["open"],
        reached={step: row[step] for step in ("field_visit", "adaptation", "outcome", "completed")},
        days={
            s.value: {int(d): n for d, n in Counter(joined.split(",")).items()}
            for s in TIMED_STAGES
            if (joined := row[f"days_{s.value}"])
        },
        close_reasons={r: row[r] for r in reasons if row[r]},
    )


async def data_version(session: AsyncSession) -> tuple[int, datetime | None]:
    """What changes whenever a report's figures may: how many matches, and the latest change
    to any (every writer of a match sets ``updated_at``; the index answers both)."""
    row = (await session.execute(select(func.count(), func.max(MatchRow.updated_at)))).one()
    return row[0], row[1]


async def stalled_matches(
    session: AsyncSession,
    *,
    before: datetime,
    filters: ReportFilter,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[MatchRow], int]:
    """The matches not closed whose last movement was before ``before`` (longest still
    first), one page, and how many there are in all."""
    limit, offset = min(limit, MAX_LIMIT), min(offset, MAX_OFFSET)
    condition = and_(
        MatchRow.stage != _CLOSED,
        func.coalesce(MatchRow.last_moved_at, MatchRow.created_at) < before,
        *_where(filters),
    )
    total = (
        await session.execute(select(func.count()).select_from(MatchRow).where(condition))
    ).scalar_one()
    rows = (
        await session.execute(
            select(MatchRow)
            .where(condition)
            .order_by(func.coalesce(MatchRow.last_moved_at, MatchRow.created_at), MatchRow.id)
            .limit(limit)
            .offset(offset)
        )
    ).scalars()
    return rows.all(), total


async def network_figures(session: AsyncSession, *, filters: ReportFilter) -> dict[str, Any]:
    """The counts the network summary is made of, and the outcome figures as histograms."""
    where = _where(filters)
    row = (
        await session.execute(
            select(
                func.count(func.distinct(MatchRow.workshop_id)).label("workshops"),
                func.count().label("opportunities"),
                func.count(MatchRow.visited_at).label("field_visits"),
                func.count(func.coalesce(MatchRow.adaptation_at, MatchRow.outcome_at)).label(
                    "adaptations"
                ),
                func.count(MatchRow.people_reached).label("outcomes"),
                func.count(MatchRow.close_reason)
                .filter(MatchRow.close_reason == "completed")
                .label("completed"),
                func.coalesce(func.sum(MatchRow.people_reached), 0).label("people_reached"),
            ).where(*where)
        )
    ).one()
    figures: dict[str, Any] = dict(row._mapping)
    countries = union_all(
        select(MatchRow.adopter_country.label("c")).where(*where),
        select(MatchRow.provider_country.label("c")).where(*where),
    ).subquery()
    figures["countries"] = (
        await session.execute(select(func.count(func.distinct(countries.c.c))))
    ).scalar_one()
    figures["institutions"] = await _institutions(session, where=where)
    for figure in ("time_saved_days", "cost_saved_usd", "visits_saved"):
        column = getattr(MatchRow, figure)
        histogram = await session.execute(
            select(column, func.count()).where(*where, column.is_not(None)).group_by(column)
        )
        figures[figure] = {float(value): count for value, count in histogram}
    return figures


async def _institutions(session: AsyncSession, *, where: list[Any]) -> int:
    """How many institutions take part: the adopters and the solutions' providers."""
    ids = union_all(
        select(EoiRow.adopter_institution_id.label("i"))
        .join(MatchRow, MatchRow.eoi_id == EoiRow.id)
        .where(*where),
        select(SolutionRow.provider_institution_id.label("i"))
        .join(MatchRow, MatchRow.solution_id == SolutionRow.id)
        .where(*where),
    ).subquery()
    return (await session.execute(select(func.count(func.distinct(ids.c.i))))).scalar_one()
