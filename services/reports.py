"""Reports: the funnel per workshop, focus area, country, solution or year; the stalled
matches; the network summary. Counts from the store, arithmetic from domain/reports.py."""

import csv
import io
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from pydantic import BaseModel, Field

from domain import reports as arithmetic
from domain.enums import CloseReason
from domain.funnel_cells import Cell
from domain.reports import FUNNEL_STAGES, FunnelBy, FunnelCounts, FunnelRow, NetworkFigures
from services.backend import Backend
from services.outages import outages_refused
from store import funnel_cells as cells
from store import reports as store
from store.reports import ReportFilter

__all__ = ["FunnelBy", "ReportFilter"]

# The funnel of every match, or of one year's, is read from its cells (kept by the writers of a
# match: store/funnel_cells.py). Any other filter reads the matches it counts (from the narrow
# covering index ix_matches_funnel), while matches change a few times a day each: the last
# such funnels computed are kept per database and answered again until the data version (how
# many matches, their latest change) moves.
FUNNELS_KEPT = 32
_networks: "WeakKeyDictionary[Any, OrderedDict[ReportFilter, tuple[Any, NetworkSummary]]]" = WeakKeyDictionary()  # fmt: skip
_funnels: "WeakKeyDictionary[Any, OrderedDict[tuple[str, ReportFilter], tuple[Any, FunnelReport]]]" = WeakKeyDictionary()


# per database, what was computed from each funnel cell read: (its version, counts, row)
_cells_kept: "WeakKeyDictionary[Any, dict[Cell, tuple[int, FunnelCounts, FunnelRow]]]" = (
    WeakKeyDictionary()
)
_totals_kept: dict[tuple[Any, tuple[tuple[Cell, int], ...]], FunnelRow] = {}


class FunnelReport(BaseModel):
    by: FunnelBy
    filters: ReportFilter
    rows: list[FunnelRow]
    total: FunnelRow = Field(description="every row together (key 'all')")


class StalledMatch(BaseModel):
    id: str
    workshop_id: str
    focus_area: str
    adopter_country: str
    provider_country: str
    stage: str
    status: str
    last_moved_at: datetime
    days_still: float = Field(description="days since the match last moved")


class StalledList(BaseModel):
    days: int
    before: datetime = Field(description="matches that have not moved since this moment")
    items: list[StalledMatch]
    total: int
    limit: int
    offset: int


class NetworkSummary(BaseModel):
    filters: ReportFilter
    figures: NetworkFigures
    sentence: str = Field(description="the summary as the Network publishes it")


@outages_refused()
async def funnel(
    backend: Backend, *, by: FunnelBy = "workshop", filters: ReportFilter | None = None
) -> FunnelReport:
    """The funnel, one row per key of ``by``, and every row together."""
    filters = filters or ReportFilter()
    if filters.model_dump(exclude_none=True).keys() <= {"year"}:
        return await _from_cells(backend, by=by, filters=filters)
    cache = _funnels.setdefault(backend.sessions, OrderedDict())
    async with backend.sessions() as session:
        version = await store.data_version(session)
        cached = cache.get((by, filters))
        if cached is not None and cached[0] == version:
            cache.move_to_end((by, filters))
            return cached[1]
        counts = await store.funnel_counts(session, by=by, filters=filters)
    report = FunnelReport(
        by=by,
        filters=filters,
        rows=[arithmetic.funnel_row(c) for c in counts],
        total=arithmetic.funnel_row(arithmetic.combine(counts)),
    )
    cache[(by, filters)] = (version, report)
    while len(cache) > FUNNELS_KEPT:
        cache.popitem(last=False)
    return report


async def _from_cells(backend: Backend, *, by: FunnelBy, filters: ReportFilter) -> FunnelReport:
    """The funnel of every match, or of one year's, from its cells (kept by the writers of a
    match, store/funnel_cells.py): their versions read, the counts of the cells that moved
    since last read, each row computed again only when its cell moved."""
    kept = _cells_kept.setdefault(backend.sessions, {})
    async with backend.sessions() as session:
        versions = await cells.versions(session, by=by, year=filters.year)
        moved = [c for c, v in versions.items() if c not in kept or kept[c][0] != v]
        fresh = await cells.counts(session, cells=moved) if moved else {}
    for cell in moved:
        if cell in fresh:
            kept[cell] = (versions[cell], fresh[cell], arithmetic.funnel_row(fresh[cell]))
    rows = sorted(
        (kept[c][2] for c in versions if c[0] == by and c in kept and kept[c][1].matches > 0),
        key=lambda r: r.key,
    )
    years = tuple(sorted((c, v) for c, v in versions.items() if c[0] == "year"))
    total = _totals_kept.get((backend.sessions, years))
    if total is None:
        total = arithmetic.funnel_row(arithmetic.combine(kept[c][1] for c, _ in years if c in kept))
        _totals_kept[(backend.sessions, years)] = total
        while len(_totals_kept) > FUNNELS_KEPT:
            _totals_kept.pop(next(iter(_totals_kept)))
    return FunnelReport(by=by, filters=filters, rows=rows, total=total)


@outages_refused()
async def stalled(
    backend: Backend,
    *,
    days: int,
    filters: ReportFilter | None = None,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> StalledList:
    """The open matches that have not moved for ``days`` days, longest still first."""
    now = now or datetime.now(UTC)
    before = arithmetic.stalled_before(now, days, backend.day_seconds)
    async with backend.sessions() as session:
        rows, total = await store.stalled_matches(
            session, before=before, filters=filters or ReportFilter(), limit=limit, offset=offset
        )
        items = [
            StalledMatch(
                id=r.id,
                workshop_id=r.workshop_id,
                focus_area=r.focus_area,
                adopter_country=r.adopter_country,
                provider_country=r.provider_country,
                stage=r.stage,
                status=r.status,
                last_moved_at=(moved := r.last_moved_at or r.created_at),
                days_still=round(arithmetic.days_between(moved, now, backend.day_seconds), 1),
            )
            for r in rows
        ]
    return StalledList(
        days=days, before=before, items=items, total=total, limit=limit, offset=offset
    )


@outages_refused()
async def network(backend: Backend, *, filters: ReportFilter | None = None) -> NetworkSummary:
    """The network's figures from the records, and the sentence it publishes them in (kept,
    as the funnels are, until the data version moves: the console's overview reads it on every
    visit, and it reads every match)."""
    filters = filters or ReportFilter()
    cache = _networks.setdefault(backend.sessions, OrderedDict())
    async with backend.sessions() as session:
        version = await store.data_version(session)
        cached = cache.get(filters)
        if cached is not None and cached[0] == version:
            cache.move_to_end(filters)
            return cached[1]
        raw = await store.network_figures(session, filters=filters)
    figures = NetworkFigures(
        **{k: v for k, v in raw.items() if k not in arithmetic.OUTCOME_FIGURES},
        people_reached=int(raw["people_reached"]),
        median_time_saved_days=arithmetic.median(raw["time_saved_days"]),
        median_cost_saved_usd=arithmetic.median(raw["cost_saved_usd"]),
        median_visits_saved=arithmetic.median(raw["visits_saved"]),
    )
    summary = NetworkSummary(
        filters=filters, figures=figures, sentence=arithmetic.network_sentence(figures)
    )
    cache[filters] = (version, summary)
    while len(cache) > FUNNELS_KEPT:
        cache.popitem(last=False)
    return summary


# -- CSV ---------------------------------------------------------------------------------------


def _csv(header: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return out.getvalue()


def funnel_csv(report: FunnelReport) -> str:
    """One line per key (and one for all): reached, conversion and median days per step,
    then the closes by reason."""
    reasons = [r.value for r in CloseReason]
    header = [report.by, "matches", "open"]
    for stage in FUNNEL_STAGES:
        header += [f"{stage}_reached", f"{stage}_conversion", f"{stage}_median_days"]
    header += [f"closed_{r}" for r in reasons]
    lines = []
    for row in [*report.rows, report.total]:
        line: list[object] = [row.key, row.matches, row.open]
        for step in row.steps:
            ratio = None if step.conversion is None else round(step.conversion, 4)
            line += [step.reached, ratio, step.median_days]
        line += [row.close_reasons.get(r, 0) for r in reasons]
        lines.append(line)
    return _csv(header, lines)


def stalled_csv(report: StalledList) -> str:
    fields = list(StalledMatch.model_fields)
    return _csv(fields, [[getattr(i, f) for f in fields] for i in report.items])


def network_csv(summary: NetworkSummary) -> str:
    figures = summary.figures.model_dump()
    return _csv(["figure", "value"], [[k, v] for k, v in figures.items()])
