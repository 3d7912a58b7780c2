"""Rules version 2: the Secretariat records a field visit that already took place."""

import pytest
from pydantic import ValidationError

from domain.enums import CloseReason, Exchange, Party, PromptKind, PromptStatus, Stage
from domain.lifecycle import InvalidMove
from domain.lifecycle import answers as a
from domain.lifecycle import events as e
from tests.domain.lifecycle_helpers import Driver


def past(d: Driver, ended_days_ago: int = 3, fmt: str = "in_person") -> a.VisitPlan:
    return a.VisitPlan(
        start=d.day(-ended_days_ago - 2), end=d.day(-ended_days_ago), format=fmt, delegation_size=4
    )


def record(plan: a.VisitPlan, **kw) -> e.RecordVisit:
    fields = {"held": True, "report": "how centres are financed", "proceed": True}
    return e.RecordVisit(plan=plan, reason="told by phone", **{**fields, **kw})


def test_from_follow_up_both_partners_are_taken_to_have_agreed():
    d = Driver(rules_version=2)
    d.advance(5)
    plan = past(d)
    decision = d.apply(record(plan))
    assert [h.kind for h in decision.history] == [
        "stage_entered",
        "visit_recorded",
        "stage_entered",
        "prompt_opened",
    ]
    entered = decision.history[0]
    assert entered.summary == (
        "follow_up → field_visit: the Secretariat recorded a field visit, so both partners are "
        "taken to have agreed"
    )
    assert entered.actor == "secretariat:secretariat"
    assert decision.history[1].summary == (
        f"The Secretariat recorded an in-person visit of {plan.start}–{plan.end}, delegation of "
        "4, that took place: told by phone"
    )
    assert [m.template for m in decision.emails] == [PromptKind.ADAPTATION_PLAN]
    assert d.state.stage == Stage.ADAPTATION
    assert d.state.exchange == {
        Party.ADOPTER: Exchange.FIELD_VISIT,
        Party.PROVIDER: Exchange.FIELD_VISIT,
    }
    visit = d.state.visit
    assert visit.plan == plan and visit.held and visit.recorded_by == "secretariat:secretariat"
    assert visit.learned == "how centres are financed" and not visit.pending()
    intros = [p for p in d.state.prompts if p.stage == Stage.FOLLOW_UP]
    assert {p.status for p in intros} == {PromptStatus.WITHDRAWN}


def test_in_field_visit_not_proceeding_closes_not_pursued():
    d = Driver(rules_version=2)
    d.both_agree()
    assert d.open(PromptKind.VISIT_PROPOSAL)
    d.advance(10)
    d.apply(record(past(d, fmt="virtual"), proceed=False))
    assert d.state.close_reason == CloseReason.NOT_PURSUED
    assert d.history("visit_recorded")[0].summary.startswith(
        "The Secretariat recorded a virtual visit of"
    )


def test_a_visit_that_did_not_take_place_reschedules():
    d = Driver(rules_version=2)
    d.both_agree()
    d.advance(10)
    d.apply(record(past(d), held=False, report="", proceed=False))
    assert d.state.reschedules == 1 and d.state.visit is None
    assert d.open(PromptKind.VISIT_PROPOSAL) and d.state.stage == Stage.FIELD_VISIT


def test_it_replaces_a_visit_still_ahead():
    d = Driver(rules_version=2)
    d.both_agree()
    d.advance(10)
    d.visit_agreed(start_in=20)
    decision = d.apply(record(past(d)))
    kinds = [h.kind for h in decision.history]
    assert kinds[:2] == ["visit_cancelled", "visit_recorded"]
    assert d.state.stage == Stage.ADAPTATION and not d.state.visit.pending()


def test_dates_must_lie_in_the_past():
    d = Driver(rules_version=2)
    d.both_agree()
    today = d.day(0)
    plan = a.VisitPlan(start=d.day(-2), end=today, format="virtual", delegation_size=2)
    with pytest.raises(InvalidMove) as info:
        d.apply(record(plan))
    assert str(info.value) == (
        f"a recorded visit must have ended before today ({today}), not on {today}"
    )
    # a partner's proposal and the Secretariat's schedule still lie in the future
    with pytest.raises(InvalidMove, match="must start after today"):
        d.act(e.ScheduleVisit, plan=past(d), reason="by phone")


def test_refused_in_later_stages_and_under_version_1():
    d = Driver(rules_version=2)
    d.both_agree(remote=True)
    d.advance(5)
    with pytest.raises(InvalidMove) as info:
        d.apply(record(past(d)))
    assert str(info.value) == (
        "a visit can only be recorded in the follow_up or field_visit stage; "
        "the match is in adaptation"
    )
    d = Driver(rules_version=1)
    d.advance(5)
    with pytest.raises(InvalidMove) as info:
        d.apply(record(past(d)))
    assert str(info.value) == (
        "recording a visit that took place needs rules version 2, and this match follows "
        "rules version 1"
    )


def test_the_report_must_be_consistent():
    plan = a.VisitPlan(start="2025-12-01", end="2025-12-02", format="virtual", delegation_size=2)
    with pytest.raises(ValidationError, match="say what the delegation learned"):
        e.RecordVisit(plan=plan, held=True, reason="by phone")
    with pytest.raises(ValidationError, match="cannot lead to adaptation"):
        e.RecordVisit(plan=plan, held=False, proceed=True, reason="by phone")
