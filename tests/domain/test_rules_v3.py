"""Rules version 3: the stack's calendar, visits as calendar invitations, partners told how
their match ended, one escalation per moment (each also checked not to happen under v2)."""

from datetime import timedelta

import pytest

from domain.calendar import Calendar
from domain.enums import CloseReason, Party, PromptKind
from domain.lifecycle import InvalidMove
from domain.lifecycle import answers as a
from domain.lifecycle import events as e
from domain.policy import SECONDS_PER_DAY, TimingPolicy
from tests.domain.lifecycle_helpers import T0, Driver

MINUTE_DAYS = Calendar(epoch=T0, day_seconds=60)  # a training stack: a day lasts a minute
REAL_DAY_FRACTION = 60 / SECONDS_PER_DAY


def _compressed() -> Driver:
    policy = TimingPolicy().scaled(REAL_DAY_FRACTION)
    return Driver(policy, rules_version=3, calendar=MINUTE_DAYS)


def _invitations(d: Driver, template: str = "visit_invitation") -> list:
    return d.emails(template)


# -- the stack's calendar ---------------------------------------------------------------------
def test_a_visit_from_tomorrow_on_a_compressed_calendar_is_reported_through_its_link():
    d = _compressed()
    d.both_agree()
    today = MINUTE_DAYS.today(d.now)
    assert today == T0.date()
    plan = a.VisitPlan(
        start=today + timedelta(days=1), end=today + timedelta(days=2), format="virtual",
        delegation_size=2,
    )  # fmt: skip
    d.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=plan))
    d.answer(PromptKind.VISIT_CONFIRMATION, a.VisitConfirmation(decision="confirm"))
    assert d.state.visit.ends_at == MINUTE_DAYS.begins(plan.end + timedelta(days=1))
    # three calendar days are three minutes: the report is asked, not 26 real hours later
    d.advance(4 * REAL_DAY_FRACTION)
    report = d.open(PromptKind.VISIT_REPORT)
    [asked] = [m for m in d.emails("visit_report")]
    assert asked.context["answer_by"] == MINUTE_DAYS.today(report.lapse_at).isoformat()
    assert asked.context["today"] == MINUTE_DAYS.today(report.opened_at).isoformat()
    d.report_visit()
    assert d.state.stage == "adaptation"


def test_a_visit_must_start_after_the_calendars_today_not_the_real_one():
    d = _compressed()
    d.both_agree()
    d.advance(10 * REAL_DAY_FRACTION)  # ten calendar days on: the real date is still T0's
    today = MINUTE_DAYS.today(d.now)
    assert today == T0.date() + timedelta(days=10)
    too_soon = a.VisitPlan(start=today, end=today, format="virtual", delegation_size=1)
    with pytest.raises(InvalidMove, match="after today"):
        d.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=too_soon))


def test_escalations_and_lapses_count_calendar_days():
    d = _compressed()
    d.advance(30 * REAL_DAY_FRACTION)
    [escalated, *_] = d.history("escalated")
    assert "after 21 days" in escalated.summary
    [closed] = d.history("closed")
    assert "within 30 days" in closed.summary


def test_an_extension_names_calendar_days():
    d = _compressed()
    d.act(e.ExtendDeadline, days=10, reason="holidays", prompt_id="introduction_adopter-1")
    prompt = d.state.prompt("introduction_adopter-1")
    assert MINUTE_DAYS.today(prompt.lapse_at) == T0.date() + timedelta(days=40)


def test_real_days_are_unchanged_under_version_3():
    d = Driver(rules_version=3, calendar=Calendar(epoch=T0))
    assert d.state.calendar is None  # a calendar of real days is not kept
    d.both_agree()
    plan = d.visit_agreed(start_in=10)
    assert d.state.visit.ends_at.date() == plan.end + timedelta(days=1)


# -- field visits as calendar events ------------------------------------------------------------
def test_a_confirmed_visit_invites_both_delegations():
    d = Driver(rules_version=3)
    d.both_agree()
    plan = d.visit_agreed()
    adopter, provider = _invitations(d)
    assert {adopter.party, provider.party} == {Party.ADOPTER, Party.PROVIDER}
    for sent in (adopter, provider):
        assert sent.context["invitation"] == {
            "uid": f"{d.state.match_id}-visit-1", "sequence": 0, "method": "REQUEST"
        }  # fmt: skip
        assert sent.context["plan"]["start"] == plan.start.isoformat()
        assert sent.context["changed"] is False


def test_the_secretariat_sets_the_visit_with_its_reason_then_changes_and_cancels_it():
    d = Driver(rules_version=3)
    d.both_agree()
    first = d.plan(start_in=15)
    d.act(e.ScheduleVisit, plan=first, reason="agreed by telephone", by="secretariat:ana")
    [entry] = d.history("visit_scheduled")
    assert entry.summary.endswith(": agreed by telephone")
    assert entry.data["reason"] == "agreed by telephone"
    invited = _invitations(d)
    assert len(invited) == 2 and all(m.context["by_secretariat"] for m in invited)
    assert invited[0].context["reason"] == "agreed by telephone"

    later = d.plan(start_in=25)
    d.act(e.ScheduleVisit, plan=later, reason="the minister is away", by="secretariat:ana")
    changed = _invitations(d)[2:]
    assert [m.context["invitation"]["sequence"] for m in changed] == [1, 1]
    assert all(m.context["changed"] for m in changed)
    assert changed[0].context["invitation"]["uid"] == invited[0].context["invitation"]["uid"]

    d.act(e.CancelVisit, reason="elections", by="secretariat:ana")
    cancelled = _invitations(d, "visit_cancellation")
    assert [m.context["invitation"]["method"] for m in cancelled] == ["CANCEL", "CANCEL"]
    assert [m.context["invitation"]["sequence"] for m in cancelled] == [2, 2]
    assert cancelled[0].context["plan"]["start"] == later.start.isoformat()

    d.visit_agreed(start_in=30)  # rescheduled: a new event in the calendars
    again = _invitations(d)[4:]
    assert [m.context["invitation"]["uid"] for m in again] == [f"{d.state.match_id}-visit-2"] * 2
    assert [m.context["invitation"]["sequence"] for m in again] == [0, 0]


def test_a_visit_still_ahead_when_the_match_closes_leaves_the_calendars():
    d = Driver(rules_version=3)
    d.both_agree()
    d.visit_agreed(start_in=20)
    d.act(e.Close, reason=CloseReason.WITHDRAWN, note="the adopter's ministry merged")
    assert len(_invitations(d, "visit_cancellation")) == 2


def test_a_visit_that_took_place_is_not_cancelled_afterwards():
    d = Driver(rules_version=3)
    d.both_agree()
    d.visit_agreed(start_in=5)
    d.advance(10)
    d.report_visit(proceed=False)
    assert _invitations(d, "visit_cancellation") == []


def test_version_2_sends_no_invitation():
    d = Driver(rules_version=2)
    d.both_agree()
    d.visit_agreed()
    d.act(e.CancelVisit, reason="elections", by="secretariat:ana")
    assert _invitations(d) == _invitations(d, "visit_cancellation") == []


# -- partners told how it ended ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("close", "reason", "declined_by"),
    [
        (lambda d: d.answer(PromptKind.INTRODUCTION_ADOPTER, a.InterestAnswer(decision="decline", reason="budget")), "declined", "adopter"),
        (lambda d: d.answer(PromptKind.INTRODUCTION_PROVIDER, a.ShareAnswer(decision="decline")), "declined", "provider"),
        (lambda d: d.advance(30), "lapsed", None),
        (lambda d: d.act(e.Close, reason=CloseReason.WITHDRAWN, note="merged"), "withdrawn", None),
    ],
)  # fmt: skip
def test_both_partners_are_told_how_their_match_ended(close, reason, declined_by):
    d = Driver(rules_version=3)
    close(d)
    told = d.emails("match_closed")
    assert [m.party for m in told] == [Party.ADOPTER, Party.PROVIDER]
    assert all(m.context == {"reason": reason, "declined_by": declined_by} for m in told)


def test_a_completed_match_thanks_the_partners_instead():
    d = Driver(rules_version=3)
    d.both_agree(remote=True)
    d.adaptation_plan()
    d.advance(30)
    d.check_in("piloted")
    d.outcome()
    assert d.state.close_reason == CloseReason.COMPLETED
    assert d.emails("match_closed") == [] and len(d.emails("thanks")) == 2


def test_version_2_tells_only_the_secretariat():
    d = Driver(rules_version=2)
    d.advance(30)
    assert d.emails("match_closed") == [] and len(d.emails("closed")) == 1
