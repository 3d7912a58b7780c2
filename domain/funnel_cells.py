"""The funnel kept up to date: what one match adds to the funnel's counts, in which cells
(one per grouping and key, for all years and for the match's own year), and a cell's counts
after a match arrives, changes or leaves. Pure; the store applies it in the unit of work that
changes the match (store/funnel_cells.py)."""

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.enums import CloseReason, Stage
from domain.reports import TIMED_STAGES, FunnelBy, FunnelCounts

# the groupings a funnel is asked by (domain.reports.FunnelBy), and the match's column of each
DIMENSIONS: dict[FunnelBy, str] = {
    "workshop": "workshop_id",
    "focus_area": "focus_area",
    "adopter_country": "adopter_country",
    "provider_country": "provider_country",
    "solution": "solution_id",
    "year": "year",
}
ALL_YEARS = 0
"""the year of the cells that count every year (a real year is 1900–2999)"""

# the columns of a match its funnel facts are made of
FACT_COLUMNS = (
    "workshop_id",
    "focus_area",
    "adopter_country",
    "provider_country",
    "solution_id",
    "stage",
    "close_reason",
    "follow_up_at",
    "created_at",
    "field_visit_at",
    "adaptation_at",
    "outcome_at",
    *(f"days_{s.value}" for s in TIMED_STAGES),
)
_REASONS = frozenset(r.value for r in CloseReason)

Cell = tuple[str, str, int]
"""(grouping, key, year or ALL_YEARS)"""


class FunnelFacts(BaseModel):
    """What one match counts for in the funnel."""

    model_config = ConfigDict(frozen=True)

    keys: tuple[tuple[str, str], ...]
    year: int
    open: bool
    reached: tuple[str, ...]
    close_reason: str | None
    days: tuple[tuple[str, int], ...]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def facts(row: Mapping[str, Any]) -> FunnelFacts:
    """A match's funnel facts from its columns (FACT_COLUMNS), counted as the straightforward
    SQL counts them (store/reports.py funnel_counts): the year it started (UTC), open unless
    closed, a step reached when it or a later one was entered, whole days (a day begun is not
    counted) in each stage it has left."""
    year = _utc(row["follow_up_at"] or row["created_at"]).year
    values = {**{d: str(row[c]) for d, c in DIMENSIONS.items() if c != "year"}, "year": str(year)}
    reached = [
        step
        for step, columns in (
            ("field_visit", ("field_visit_at", "adaptation_at", "outcome_at")),
            ("adaptation", ("adaptation_at", "outcome_at")),
            ("outcome", ("outcome_at",)),
        )
        if any(row[c] is not None for c in columns)
    ]
    if row["close_reason"] == CloseReason.COMPLETED.value:
        reached.append("completed")
    return FunnelFacts(
        keys=tuple(values.items()),
        year=year,
        open=row["stage"] != Stage.CLOSED.value,
        reached=tuple(reached),
        close_reason=row["close_reason"] if row["close_reason"] in _REASONS else None,
        days=tuple(
            (s.value, int(days))
            for s in TIMED_STAGES
            if (days := row[f"days_{s.value}"]) is not None
        ),
    )


def cells(f: FunnelFacts) -> list[Cell]:
    """The cells a match counts in: each grouping's key, for all years and for its year."""
    return [(by, key, year) for by, key in f.keys for year in (ALL_YEARS, f.year)]


def changes(
    before: FunnelFacts | None, after: FunnelFacts | None
) -> dict[Cell, list[tuple[FunnelFacts, int]]]:
    """Which cells a match's change moves, and what to take away (-1) and add (+1) in each."""
    moved: dict[Cell, list[tuple[FunnelFacts, int]]] = {}
    if before == after:
        return moved
    for f, sign in ((before, -1), (after, 1)):
        if f is not None:
            for cell in cells(f):
                moved.setdefault(cell, []).append((f, sign))
    return moved


def first_version() -> int:
    """A new cell's version: the microseconds of the clock, above every version a cell of the
    same key had before (each change adds one), so a reader's kept result never matches a
    cell made again (by a rebuild, say)."""
    return time.time_ns() // 1000


def empty() -> dict[str, Any]:
    return {"matches": 0, "open": 0, "reached": {}, "close_reasons": {}, "days": {}}


def _bump(counter: dict[Any, int], key: Any, sign: int) -> None:
    value = counter.get(key, 0) + sign
    if value:
        counter[key] = value
    else:
        counter.pop(key, None)


def apply(counts: Mapping[str, Any], moves: Iterable[tuple[FunnelFacts, int]]) -> dict[str, Any]:
    """A cell's counts (as stored: JSON, days keyed by strings) after these moves."""
    out = {
        "matches": counts["matches"],
        "open": counts["open"],
        "reached": dict(counts["reached"]),
        "close_reasons": dict(counts["close_reasons"]),
        "days": {stage: dict(h) for stage, h in counts["days"].items()},
    }
    for f, sign in moves:
        out["matches"] += sign
        out["open"] += sign if f.open else 0
        for step in f.reached:
            _bump(out["reached"], step, sign)
        if f.close_reason is not None:
            _bump(out["close_reasons"], f.close_reason, sign)
        for stage, days in f.days:
            histogram = out["days"].setdefault(stage, {})
            _bump(histogram, str(days), sign)
            if not histogram:
                del out["days"][stage]
    return out


def aggregate(all_facts: Iterable[FunnelFacts]) -> dict[Cell, dict[str, Any]]:
    """Every cell's counts from every match's facts (the back-fill)."""
    out: dict[Cell, dict[str, Any]] = {}
    grouped: dict[Cell, list[tuple[FunnelFacts, int]]] = {}
    for f in all_facts:
        for cell in cells(f):
            grouped.setdefault(cell, []).append((f, 1))
    for cell, moves in grouped.items():
        out[cell] = apply(empty(), moves)
    return out


def counts_of(key: str, stored: Mapping[str, Any]) -> FunnelCounts:
    """A cell's stored counts as the funnel's arithmetic takes them; built as is (already
    counted: no validation of every histogram entry)."""
    return FunnelCounts.model_construct(
        key=key,
        matches=stored["matches"],
        open=stored["open"],
        reached=dict(stored["reached"]),
        days={
            stage: {int(d): n for d, n in histogram.items()}
            for stage, histogram in stored["days"].items()
        },
        close_reasons=dict(stored["close_reasons"]),
    )
