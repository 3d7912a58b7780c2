"""The draft case study of a completed match (Markdown), written from what happened."""

from datetime import date
from typing import Any

import pycountry

from domain.enums import Exchange, OutcomeResult, Party, PromptKind, PromptStatus
from domain.lifecycle.answers import VisitPlan
from domain.lifecycle.state import MatchState

MONTHS = (
    "January February March April May June July August September October November December"
).split()
# pycountry names that read badly in a sentence
COUNTRY_NAMES = {
    "CD": "the Democratic Republic of the Congo",
    "FM": "Micronesia",
    "PS": "Palestine",
    "VA": "the Holy See",
}
WITH_ARTICLE = {"Bahamas", "Comoros", "Gambia", "Maldives", "Netherlands", "Philippines"}
RESULTS = {
    OutcomeResult.SCALED: "scaled the solution up",
    OutcomeResult.PILOTED: "piloted the solution",
    OutcomeResult.NOT_ADOPTED: "did not adopt the solution",
}


def country_name(code: str) -> str:
    """Return a country's name as a sentence uses it: "Bangladesh", "the United States"."""
    if code in COUNTRY_NAMES:
        return COUNTRY_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    name = getattr(country, "common_name", None) or country.name
    needs_article = (
        name in WITH_ARTICLE or name.startswith("United ") or name.endswith(("Republic", "Islands"))
    )
    return f"the {name}" if needs_article else name


def render_case_study(state: MatchState) -> tuple[str, str]:
    """Return the title and Markdown body of the draft case study of a match with an outcome."""
    eoi, outcome = state.eoi, state.outcome
    if outcome is None:
        raise ValueError(f"match {state.match_id} has no outcome to write up")
    solution, adopter, provider = eoi.solution, eoi.adopter.institution, eoi.solution.provider
    adopter_country, provider_country = (
        country_name(adopter.country),
        country_name(provider.country),
    )
    title = f"{solution.title}, from {provider_country} to {adopter_country}"
    lines = [
        f"# {title}",
        "",
        f"*Focus area: {solution.focus_area.label} · Draft for The South-South Matchmaker*",
        "",
        "## The match",
        f"The adopter, {adopter.name} ({adopter_country}), expressed interest in "
        f"**{solution.title}**, offered by the provider, {provider.name} ({provider_country}), "
        f"at {eoi.workshop.title} ({_day(eoi.workshop.date)}).",
    ]
    needs = _answer(state, PromptKind.INTRODUCTION_ADOPTER, "needs")
    if needs:
        lines += ["", f"What the adopter needed: {needs}"]
    lines += _exchange(state)
    if state.plan:
        lines += [
            "",
            "## Adaptation",
            state.plan.customisations,
            "",
            f"Target pilot date: {_day(state.plan.target_pilot_date)}.",
        ]
    lines += [
        "",
        "## Results",
        f"The adopter {RESULTS[outcome.result]}.",
        "",
        f"- People reached: {outcome.people_reached:,}",
        f"- Time saved per citizen per service: {_days(outcome.time_saved_days)}",
        f"- Cost saved per citizen per service: USD {outcome.cost_saved_usd:,.2f}",
        f"- Visits saved per citizen per service: {outcome.visits_saved:g}",
    ]
    if outcome.lessons:
        lines += ["", "## Lessons learned by the adopter", outcome.lessons]
    notes = _provider_notes(state)
    if notes:
        lines += ["", "## The provider's view", notes]
    return title, "\n".join(lines) + "\n"


def _exchange(state: MatchState) -> list[str]:
    """The field visit that took place, or the remote exchange the partners chose."""
    held = _held_visit(state)
    if held is not None:
        plan, learned = held
        people = "person" if plan.delegation_size == 1 else "people"
        lines = [
            "",
            "## Field visit",
            f"A delegation of {plan.delegation_size} {people} made {plan.a_visit} "
            f"{_period(plan.start, plan.end)}.",
        ]
        if learned:
            lines += ["", f"What the delegation learned: {learned}"]
        return lines
    partners = (Party.ADOPTER, Party.PROVIDER)
    if all(state.exchange.get(p) == Exchange.REMOTE for p in partners):
        return [
            "",
            "## Exchange",
            "The partners chose to share the solution remotely, without a field visit.",
        ]
    return []


def _held_visit(state: MatchState) -> tuple[VisitPlan, str] | None:
    visit = state.visit
    if visit is None or visit.cancelled:
        return None
    if visit.held is not None:  # rules version 2 keeps the report with the visit
        return (visit.plan, visit.learned) if visit.held else None
    # version 1: the last visit report says whether the visit kept in the state took place
    if _answer(state, PromptKind.VISIT_REPORT, "held"):
        return visit.plan, _answer(state, PromptKind.VISIT_REPORT, "learned") or ""
    return None


def _answer(state: MatchState, kind: PromptKind, field: str) -> Any:
    """Return a field of the last answer to a prompt kind, or None."""
    for prompt in reversed(state.prompts):
        if prompt.kind == kind and prompt.status == PromptStatus.ANSWERED and prompt.answer:
            return prompt.answer.get(field)
    return None


def _provider_notes(state: MatchState) -> str:
    if state.provider_notes:
        return state.provider_notes
    # rules version 1 keeps them only in the history entry of the outcome
    for entry in reversed(state.history):
        if entry.kind == "outcome_recorded":
            return str(entry.data.get("provider_notes") or "")
    return ""


def _day(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _period(start: date, end: date) -> str:
    if start == end:
        return f"on {_day(start)}"
    if (start.year, start.month) == (end.year, end.month):
        return f"from {start.day} to {_day(end)}"
    if start.year == end.year:
        return f"from {start.day} {MONTHS[start.month - 1]} to {_day(end)}"
    return f"from {_day(start)} to {_day(end)}"


def _days(value: float) -> str:
    return f"{value:g} day" if value == 1 else f"{value:g} days"
