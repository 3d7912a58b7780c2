"""Drafting a Matchmaker case study (Markdown) from a completed match."""

from domain.lifecycle.state import MatchState


def render_case_study(state: MatchState) -> tuple[str, str]:
    """Return the title and Markdown body of a draft case study."""
    eoi, outcome = state.eoi, state.outcome
    if outcome is None:
        raise ValueError(f"match {state.match_id} has no outcome to write up")
    provider, adopter = eoi.solution.provider, eoi.adopter.institution
    title = f"{eoi.solution.title}: from {provider.country} to {adopter.country}"
    lines = [
        f"# {title}",
        "",
        f"*Focus area: {eoi.solution.focus_area.label} · Draft for The South-South Matchmaker*",
        "",
        "## The match",
        f"{adopter.name} ({adopter.country}) expressed interest in **{eoi.solution.title}**, "
        f"offered by {provider.name} ({provider.country}), at {eoi.workshop.title} "
        f"({eoi.workshop.date.isoformat()}).",
    ]
    if state.visit:
        plan = state.visit.plan
        lines += [
            "",
            "## Field visit",
            f"A {plan.format.replace('_', ' ')} visit of "
            f"{plan.delegation_size} from {plan.start.isoformat()} to {plan.end.isoformat()}.",
        ]
    if state.plan:
        lines += [
            "",
            "## Adaptation",
            state.plan.customisations,
            f"Target pilot date: {state.plan.target_pilot_date.isoformat()}.",
        ]
    lines += [
        "",
        "## Results",
        f"- Result: **{outcome.result.replace('_', ' ')}**",
        f"- People reached: {outcome.people_reached:,}",
        f"- Time saved per citizen per service: {outcome.time_saved_days:g} days",
        f"- Cost saved per citizen per service: USD {outcome.cost_saved_usd:,.2f}",
        f"- Visits saved per citizen per service: {outcome.visits_saved:g}",
    ]
    if outcome.lessons:
        lines += ["", "## Lessons learned", outcome.lessons]
    return title, "\n".join(lines) + "\n"
