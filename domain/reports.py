"""Report arithmetic: each match's milestones from its history, the funnel (reached, conversion,
median days, close reasons), the stalled rule and the network summary sentence. Pure."""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from domain.enums import CloseReason, Stage
from domain.policy import SECONDS_PER_DAY

# The stages a match passes through, in order; ``completed`` is the funnel's last step (closed
# with an outcome recorded), the other close reasons are exits counted beside it.
FUNNEL_STAGES = ("follow_up", "field_visit", "adaptation", "outcome", "completed")
TIMED_STAGES = (Stage.FOLLOW_UP, Stage.FIELD_VISIT, Stage.ADAPTATION, Stage.OUTCOME)
FunnelBy = Literal[
    "workshop", "focus_area", "adopter_country", "provider_country", "solution", "year"
]

# History kinds that are movement: the match changed stage, or a partner or the Secretariat
# did something that moves it on. Reminders, escalations and failed deliveries are not.
MOVEMENT_KINDS = frozenset(
    {
        "match_recorded",
        "stage_entered",
        "answered",
        "progress_reported",
        "visit_scheduled",
        "visit_recorded",
        "outcome_recorded",
        "closed",
        "resumed",
    }
)
OUTCOME_FIGURES = ("people_reached", "time_saved_days", "cost_saved_usd", "visits_saved")


class Milestones(BaseModel):
    """What a match's history says about its path: when it entered each stage (first time),
    when it was closed, when a field visit took place, its last movement, the days it spent
    in each stage it has left, and the impact figures of its recorded outcome."""

    model_config = ConfigDict(frozen=True)

    follow_up_at: datetime | None = None
    field_visit_at: datetime | None = None
    adaptation_at: datetime | None = None
    outcome_at: datetime | None = None
    closed_at: datetime | None = None
    visited_at: datetime | None = None
    last_moved_at: datetime | None = None
    days_follow_up: float | None = None
    days_field_visit: float | None = None
    days_adaptation: float | None = None
    days_outcome: float | None = None
    people_reached: int | None = None
    time_saved_days: float | None = None
    cost_saved_usd: float | None = None
    visits_saved: float | None = None


def _earliest(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at < current else current


def _visit_held(kind: str, data: Mapping[str, Any]) -> bool:
    if kind == "visit_recorded":
        return bool(data.get("held"))
    answer = data.get("answer") if kind == "answered" else None
    return (
        isinstance(answer, dict)
        and answer.get("kind") == "visit_report"
        and bool(answer.get("held"))
    )


def advance(
    current: Milestones,
    entries: Iterable[Mapping[str, Any]],
    *,
    day_seconds: float = SECONDS_PER_DAY,
) -> Milestones:
    """The milestones after these history entries (each with ``kind``, ``stage``,
    ``occurred_at`` and ``data``), in any order and any number of times: the result is the
    same (a stage's time is the first entry into it, the last movement the latest)."""
    values = current.model_dump()
    for entry in entries:
        kind, at = entry["kind"], entry["occurred_at"]
        data = entry.get("data") or {}
        if kind == "match_recorded":
            values["follow_up_at"] = _earliest(values["follow_up_at"], at)
        elif kind == "stage_entered" and entry["stage"] in {s.value for s in TIMED_STAGES}:
            column = f"{entry['stage']}_at"
            values[column] = _earliest(values[column], at)
        elif kind == "closed":
            values["closed_at"] = _earliest(values["closed_at"], at)
        elif kind == "outcome_recorded" and isinstance(data.get("outcome"), dict):
            for figure in OUTCOME_FIGURES:
                values[figure] = data["outcome"].get(figure)
        if _visit_held(kind, data):
            values["visited_at"] = _earliest(values["visited_at"], at)
        if kind in MOVEMENT_KINDS and (
            values["last_moved_at"] is None or at > values["last_moved_at"]
        ):
            values["last_moved_at"] = at
    ordered = [values[f"{stage.value}_at"] for stage in TIMED_STAGES] + [values["closed_at"]]
    for index, stage in enumerate(TIMED_STAGES):
        entered = ordered[index]
        left = next((t for t in ordered[index + 1 :] if t is not None), None)
        values[f"days_{stage.value}"] = (
            None if entered is None or left is None else days_between(entered, left, day_seconds)
        )
    return Milestones(**values)


def days_between(start: datetime, end: datetime, day_seconds: float = SECONDS_PER_DAY) -> float:
    """Days from one moment to a later one (never negative), on a stack whose day lasts
    ``day_seconds`` (a training stack's calendar counts its own days)."""
    return max((end - start) / timedelta(seconds=day_seconds), 0.0)


_Number = TypeVar("_Number", int, float)


def median(histogram: Mapping[_Number, int]) -> float | None:
    """The median of values given as {value: how many}; None when there are none."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    ordered = sorted((v, n) for v, n in histogram.items() if n > 0)
    wanted = ((total - 1) // 2, total // 2)  # the middle one, or the two middle ones
    found: list[float] = []
    seen = 0
    for value, count in ordered:
        for position in wanted:
            if seen <= position < seen + count:
                found.append(float(value))
        seen += count
    return sum(found) / len(found)


def conversion(reached: int, previous: int) -> float | None:
    """The share of the previous step's matches that reached this one; None when none did."""
    return None if previous <= 0 else reached / previous


def year_of(moment: datetime) -> int:
    """The cohort year of a match: the year it started (UTC)."""
    return moment.year


class StageStep(BaseModel):
    stage: str
    reached: int
    conversion: float | None
    """reached / the previous step's reached (None for the first step, or when 0 reached it)"""
    median_days: float | None
    """median whole days spent in the stage by the matches that have left it"""


class FunnelRow(BaseModel):
    key: str
    """the workshop, focus area, country, solution or year this row counts"""
    matches: int
    open: int
    steps: list[StageStep]
    close_reasons: dict[str, int]


class FunnelCounts(BaseModel):
    """What the store counts for one key: matches, open ones, how many reached each step,
    whole days spent in each timed stage as {days: matches}, and closes by reason."""

    key: str
    matches: int
    open: int = 0
    reached: dict[str, int]
    days: dict[str, dict[int, int]] = {}
    close_reasons: dict[str, int] = {}


def funnel_row(counts: FunnelCounts) -> FunnelRow:
    """One row of the funnel from the store's counts."""
    steps: list[StageStep] = []
    previous: int | None = None
    for stage in FUNNEL_STAGES:
        reached = counts.matches if stage == "follow_up" else counts.reached.get(stage, 0)
        steps.append(
            StageStep(
                stage=stage,
                reached=reached,
                conversion=None if previous is None else conversion(reached, previous),
                median_days=median(counts.days.get(stage, {})),
            )
        )
        previous = reached
    reasons = {r.value: counts.close_reasons.get(r.value, 0) for r in CloseReason}
    return FunnelRow(
        key=counts.key,
        matches=counts.matches,
        open=counts.open,
        steps=steps,
        close_reasons={k: v for k, v in reasons.items() if v},
    )


def stalled_before(now: datetime, days: int, day_seconds: float = SECONDS_PER_DAY) -> datetime:
    """A match not closed whose last movement is before this moment has stalled."""
    return now - timedelta(seconds=days * day_seconds)


class NetworkFigures(BaseModel):
    workshops: int
    opportunities: int
    countries: int
    institutions: int
    field_visits: int
    adaptations: int
    outcomes: int
    completed: int
    people_reached: int
    median_time_saved_days: float | None
    median_cost_saved_usd: float | None
    median_visits_saved: float | None


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 workshop``, ``2 workshops``, ``1,234 countries`` (``many`` when not just +s)."""
    word = singular if count == 1 else (many or singular + "s")
    return f"{count:,} {word}"


def _amount(value: float | None, unit: str) -> str:
    return f"{value:g} {unit}" + ("" if value == 1 else "s")


def network_sentence(f: NetworkFigures) -> str:
    """The summary as the Network publishes it: "244 partnership opportunities across 43
    countries from 5 workshops; …"."""
    head = (
        f"{plural(f.opportunities, 'partnership opportunity', 'partnership opportunities')} "
        f"across {plural(f.countries, 'country', 'countries')} "
        f"from {plural(f.workshops, 'workshop')}, "
        f"between {plural(f.institutions, 'institution')}"
    )
    steps = (
        f"{plural(f.field_visits, 'field visit')}, {plural(f.adaptations, 'adaptation')} "
        f"under way or done, {plural(f.outcomes, 'outcome')} recorded"
    )
    sentence = f"{head}: {steps}"
    if f.outcomes:
        sentence += f", reaching {plural(f.people_reached, 'person', 'people')}"
        if f.median_time_saved_days is not None:
            sentence += (
                " (median savings per citizen per service: "
                f"{_amount(f.median_time_saved_days, 'day')}, USD {f.median_cost_saved_usd:g}, "
                f"{_amount(f.median_visits_saved, 'visit')})"
            )
    return sentence + "."


def combine(counts: Iterable[FunnelCounts], *, key: str = "all") -> FunnelCounts:
    """The counts of several keys as one (histograms add up, so the medians stay exact)."""
    total = FunnelCounts(key=key, matches=0, reached={})
    reached: dict[str, int] = {}
    days: dict[str, dict[int, int]] = {}
    reasons: dict[str, int] = {}
    matches = open_ = 0
    for c in counts:
        matches, open_ = matches + c.matches, open_ + c.open
        for step, n in c.reached.items():
            reached[step] = reached.get(step, 0) + n
        for stage, histogram in c.days.items():
            into = days.setdefault(stage, {})
            for value, n in histogram.items():
                into[value] = into.get(value, 0) + n
        for reason, n in c.close_reasons.items():
            reasons[reason] = reasons.get(reason, 0) + n
    return total.model_copy(
        update={
            "matches": matches,
            "open": open_,
            "reached": reached,
            "days": days,
            "close_reasons": reasons,
        }
    )
