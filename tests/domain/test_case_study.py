"""The case-study draft the rules write: what happened, in plain words."""

import pytest

from activities.case_study import render_case_study as activity_render
from domain.enums import PromptKind, Stage
from domain.lifecycle import answers as a
from domain.lifecycle import events as e
from domain.lifecycle.case_study import country_name, render_case_study
from tests.domain.lifecycle_helpers import Driver

TITLE = "Union Digital Centres: one-stop rural service delivery, from Bangladesh to Kazakhstan"


def complete(d: Driver, *, lessons: str = "start small", notes: str = "well done") -> str:
    """Go from adaptation to a completed match; return the drafted case study's body."""
    if d.state.stage == Stage.ADAPTATION:
        d.adaptation_plan()
        d.advance(30)
        d.check_in("piloted")
    d.answer(
        PromptKind.OUTCOME_REPORT,
        a.OutcomeReport(
            result="scaled",
            people_reached=12000,
            time_saved_days=1,
            cost_saved_usd=8,
            visits_saved=1.5,
            lessons=lessons,
            consent_to_publish=True,
        ),
    )
    d.answer(PromptKind.OUTCOME_CONFIRMATION, a.OutcomeConfirmation(confirmed=True, notes=notes))
    draft = d.decisions[-1].case_study
    assert draft is not None and draft.match_id == d.state.match_id
    assert (draft.title, draft.body) == render_case_study(d.state) == activity_render(d.state)
    assert draft.title == TITLE
    return draft.body


def visited(version: int, fmt: str = "in_person") -> Driver:
    d = Driver(rules_version=version)
    d.both_agree()
    plan = d.plan(start_in=20, fmt=fmt)
    d.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=plan))
    d.answer(PromptKind.VISIT_CONFIRMATION, a.VisitConfirmation(decision="confirm"))
    d.advance(25)
    d.report_visit(proceed=True)
    return d


def test_a_completed_match_with_a_visit(version):
    body = complete(visited(version))
    assert body.startswith(f"# {TITLE}\n\n*Focus area: Future of Public Service")
    assert (
        "The adopter, Agency for Civil Service Affairs (Kazakhstan), expressed interest in "
        "**Union Digital Centres: one-stop rural service delivery**, offered by the provider, "
        "Aspire to Innovate (a2i), ICT Division (Bangladesh), at SSN4PSI Matchmaking Workshop, "
        "Nur-Sultan (27 October 2021)."
    ) in body
    assert "What the adopter needed: rural access" in body
    assert (
        "## Field visit\nA delegation of 5 people made an in-person visit from 25 to 27 January "
        "2026.\n\nWhat the delegation learned: how centres are financed\n"
    ) in body
    assert "## Adaptation\nKazakh and Russian forms\n\nTarget pilot date: 30 May 2026." in body
    assert "The adopter scaled the solution up." in body
    assert "- People reached: 12,000\n- Time saved per citizen per service: 1 day\n" in body
    assert "## Lessons learned by the adopter\nstart small\n" in body
    assert body.endswith("## The provider's view\nwell done\n")
    assert " BD" not in body and " KZ" not in body and "(BD)" not in body
    assert "Exchange" not in body


def test_the_provider_notes_are_kept_in_the_state_under_version_2(version):
    d = visited(version)
    complete(d, notes="a model partner")
    assert d.state.provider_notes == ("a model partner" if version >= 2 else "")
    assert "a model partner" in render_case_study(d.state)[1]  # version 1: from the history


def test_a_virtual_visit_and_a_delegation_of_one():
    d = Driver(rules_version=2)
    d.both_agree()
    plan = a.VisitPlan(start=d.day(10), end=d.day(10), format="virtual", delegation_size=1)
    d.act(e.ScheduleVisit, plan=plan, reason="by phone")
    d.advance(12)
    d.report_visit(proceed=True)
    body = complete(d)
    assert "A delegation of 1 person made a virtual visit on 15 January 2026." in body


def test_a_remote_exchange_is_stated(version):
    d = Driver(rules_version=version)
    d.both_agree(remote=True)
    body = complete(d)
    assert "## Exchange\nThe partners chose to share the solution remotely" in body
    assert "## Field visit" not in body


def test_only_what_happened_no_visit_no_plan_no_empty_sections(version):
    d = Driver(rules_version=version)
    d.both_agree()
    d.visit_agreed(start_in=20)
    d.act(e.Advance, to=Stage.OUTCOME, reason="piloted without the visit")
    body = complete(d, lessons="", notes="")
    for heading in ("Field visit", "Exchange", "Adaptation", "Lessons", "provider's view"):
        assert heading not in body
    assert body.rstrip().endswith("- Visits saved per citizen per service: 1.5")


def test_a_visit_the_secretariat_recorded():
    d = Driver(rules_version=2)
    d.advance(10)
    plan = a.VisitPlan(start=d.day(-9), end=d.day(-8), format="in_person", delegation_size=3)
    d.apply(
        e.RecordVisit(plan=plan, held=True, report="the financing", proceed=True, reason="by email")
    )
    body = complete(d)
    assert "A delegation of 3 people made an in-person visit from 6 to 7 January 2026." in body
    assert "What the delegation learned: the financing" in body


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("BD", "Bangladesh"),
        ("KZ", "Kazakhstan"),
        ("KR", "South Korea"),
        ("VN", "Vietnam"),
        ("US", "the United States"),
        ("PH", "the Philippines"),
        ("DO", "the Dominican Republic"),
        ("CD", "the Democratic Republic of the Congo"),
    ],
)
def test_country_names(code, name):
    assert country_name(code) == name
