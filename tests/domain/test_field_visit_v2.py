"""Rules version 2: leaving the field_visit stage ends the visit's timers."""

from domain.enums import CloseReason, NoticeKind, PromptKind, PromptStatus, Stage
from domain.lifecycle import events as e
from domain.lifecycle import next_timer
from tests.domain.lifecycle_helpers import Driver


def scheduled(version: int) -> Driver:
    d = Driver(rules_version=version)
    d.both_agree()
    d.visit_agreed(start_in=20)
    assert d.state.visit.reminder_at and d.state.visit.ends_at
    return d


def test_advancing_past_a_scheduled_visit_cancels_it():
    d = scheduled(2)
    d.advance(2)
    plan = d.state.visit.plan
    decision = d.act(e.Advance, to=Stage.ADAPTATION, reason="visit not needed")
    visit = d.state.visit
    assert visit.cancelled and visit.plan == plan and not visit.pending()
    kinds = [h.kind for h in decision.history]
    assert kinds[:2] == ["visit_cancelled", "stage_entered"]
    assert decision.history[0].summary == (
        f"Visit of {plan.start}–{plan.end} cancelled: the match moved on to adaptation"
    )
    assert decision.history[0].stage == Stage.FIELD_VISIT
    d.advance(40)
    assert not d.emails(NoticeKind.VISIT_REMINDER)
    assert not [p for p in d.state.prompts if p.kind == PromptKind.VISIT_REPORT]
    assert not d.history("visit_ended")


def test_version_1_keeps_the_visit_timers_after_advancing():
    d = scheduled(1)
    d.act(e.Advance, to=Stage.ADAPTATION, reason="visit not needed")
    assert d.state.visit.ends_at and not d.state.visit.cancelled
    assert not d.history("visit_cancelled")
    d.advance(25)
    assert len(d.emails(NoticeKind.VISIT_REMINDER)) == 2
    assert d.open(PromptKind.VISIT_REPORT).stage == Stage.ADAPTATION


def test_closing_past_a_scheduled_visit_cancels_it():
    d = scheduled(2)
    decision = d.act(e.Close, reason=CloseReason.WITHDRAWN, note="adopter withdrew")
    assert [h.kind for h in decision.history] == ["visit_cancelled", "closed"]
    assert d.state.visit.cancelled and not d.state.visit.pending()
    assert next_timer(d.state) is None


def test_a_visit_that_is_over_is_not_cancelled_by_moving_on():
    d = scheduled(2)
    d.advance(25)
    report = d.open(PromptKind.VISIT_REPORT)
    decision = d.act(e.Advance, to=Stage.ADAPTATION, reason="report by phone")
    assert "visit_cancelled" not in [h.kind for h in decision.history]
    assert not d.state.visit.cancelled and d.state.visit.held is None
    assert d.state.prompt(report.id).status == PromptStatus.WITHDRAWN


def test_the_visit_report_is_kept_with_the_visit():
    d = scheduled(2)
    d.advance(25)
    d.report_visit(proceed=True)
    assert d.state.visit.held and d.state.visit.learned == "how centres are financed"
    assert not d.state.visit.cancelled


def test_version_1_keeps_the_visit_as_it_was_after_the_report():
    d = scheduled(1)
    d.advance(25)
    d.report_visit(proceed=True)
    assert d.state.visit.held is None and d.state.visit.learned == ""
