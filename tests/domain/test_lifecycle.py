from datetime import timedelta

import pytest

from domain.enums import (
    CloseReason,
    MatchStatus,
    NoticeKind,
    Party,
    PromptKind,
    PromptStatus,
    Stage,
)
from domain.lifecycle import InvalidMove
from domain.lifecycle import answers as a
from domain.lifecycle import events as e
from domain.model import Contact
from domain.policy import TimingPolicy
from tests.domain.lifecycle_helpers import T0, Driver


def test_start_asks_both_partners_and_records_the_match(version):
    d = Driver(rules_version=version)
    assert d.state.stage == Stage.FOLLOW_UP and d.state.status == MatchStatus.ACTIVE
    assert {m.template for m in d.emails()} == {
        PromptKind.INTRODUCTION_ADOPTER,
        PromptKind.INTRODUCTION_PROVIDER,
    }
    assert [h.kind for h in d.history()][0] == "match_recorded"
    assert d.state.waiting_on() == [Party.ADOPTER, Party.PROVIDER]
    keys = [m.key for m in d.emails()]
    assert len(set(keys)) == 2 and all(k.startswith("match-NS21-014/follow_up/") for k in keys)


def test_happy_path_to_completed(version):
    d = Driver(rules_version=version)
    d.both_agree()
    assert d.state.stage == Stage.FIELD_VISIT
    plan = d.visit_agreed(start_in=20)
    assert d.state.visit.confirmed
    d.advance(14)  # 7 days before the visit
    assert len(d.emails(NoticeKind.VISIT_REMINDER)) == 2
    d.advance(10)  # visit over
    assert d.open(PromptKind.VISIT_REPORT)
    assert d.state.visit.plan == plan
    d.report_visit(proceed=True)
    assert d.state.stage == Stage.ADAPTATION
    d.adaptation_plan()
    d.advance(30)
    d.check_in("on_track")
    d.advance(30)
    d.check_in("piloted")
    assert d.state.stage == Stage.OUTCOME
    d.outcome(consent=True)
    assert d.state.stage == Stage.CLOSED
    assert d.state.status == MatchStatus.COMPLETED and d.state.close_reason == CloseReason.COMPLETED
    assert d.decisions[-1].case_study is not None
    assert {m.party for m in d.emails(NoticeKind.THANKS)} == {Party.ADOPTER, Party.PROVIDER}
    assert not d.state.open_prompts()


def test_no_case_study_without_consent(version):
    d = Driver(rules_version=version)
    d.both_agree(remote=True)
    d.adaptation_plan()
    d.advance(30)
    d.check_in("piloted")
    d.outcome(consent=False)
    assert d.state.status == MatchStatus.COMPLETED
    assert all(dec.case_study is None for dec in d.decisions)


def test_both_remote_skip_the_field_visit(version):
    d = Driver(rules_version=version)
    d.both_agree(remote=True)
    assert d.state.stage == Stage.ADAPTATION
    assert d.open(PromptKind.ADAPTATION_PLAN)


@pytest.mark.parametrize("party", [Party.ADOPTER, Party.PROVIDER])
def test_decline_by_either_party_closes_declined_with_who_and_why(party, version):
    d = Driver(rules_version=version)
    if party == Party.ADOPTER:
        d.answer(
            PromptKind.INTRODUCTION_ADOPTER,
            a.InterestAnswer(decision="decline", reason="budget cut"),
        )
    else:
        d.answer(
            PromptKind.INTRODUCTION_PROVIDER, a.ShareAnswer(decision="decline", reason="team busy")
        )
    assert d.state.close_reason == CloseReason.DECLINED and d.state.status == MatchStatus.CLOSED
    closed = d.history("closed")[-1]
    assert closed.data["party"] == party and closed.data["why"] in ("budget cut", "team busy")
    assert all(p.status != PromptStatus.OPEN for p in d.state.prompts)


def test_silence_reminds_on_days_7_and_14_escalates_on_21_lapses_on_30(version):
    d = Driver(rules_version=version)
    d.advance(40)
    reminders = [h for h in d.history("reminder_sent")]
    assert sorted((h.occurred_at - T0).days for h in reminders) == [7, 7, 14, 14]
    [escalation] = [m for m in d.emails(NoticeKind.ESCALATION)][:1]
    escalations = d.history("escalated")
    assert {(h.occurred_at - T0).days for h in escalations} == {21}
    assert escalation.party == Party.SECRETARIAT and escalation.recipient_email is None
    closed = d.history("closed")
    assert [(h.occurred_at - T0).days for h in closed] == [30]
    assert d.state.close_reason == CloseReason.LAPSED
    rounds = sorted(m.round for m in d.emails(PromptKind.INTRODUCTION_ADOPTER))
    assert rounds == [1, 2, 3]


def test_escalation_sets_needs_attention_and_an_answer_clears_it(version):
    d = Driver(rules_version=version)
    d.advance(22)
    assert d.state.status == MatchStatus.NEEDS_ATTENTION
    d.answer(PromptKind.INTRODUCTION_ADOPTER, a.InterestAnswer(decision="confirm", needs="x"))
    assert d.state.status == MatchStatus.NEEDS_ATTENTION  # the provider is still silent
    d.answer(PromptKind.INTRODUCTION_PROVIDER, a.ShareAnswer(decision="accept"))
    assert d.state.status == MatchStatus.ACTIVE


def test_extension_moves_the_lapse(version):
    d = Driver(rules_version=version)
    d.advance(25)
    d.act(e.ExtendDeadline, days=10, reason="elections in the adopter country")
    assert d.state.status == MatchStatus.ACTIVE
    d.advance(10)  # day 35: the old lapse (day 30) has passed, the match is still open
    assert d.state.stage == Stage.FOLLOW_UP
    assert [(h.occurred_at - T0).days for h in d.history("escalated")] == [21, 21, 31, 31]
    d.advance(10)
    assert d.state.close_reason == CloseReason.LAPSED
    assert [(h.occurred_at - T0).days for h in d.history("closed")] == [40]


def test_pause_stops_reminders_and_resume_shifts_deadlines(version):
    d = Driver(rules_version=version)
    d.advance(3)
    d.act(e.Pause, reason="ministerial reshuffle")
    assert d.state.status == MatchStatus.PAUSED
    d.advance(20)
    assert not d.history("reminder_sent")
    d.act(e.Resume)
    d.advance(4)
    assert [(h.occurred_at - T0).days for h in d.history("reminder_sent")] == [27, 27]
    with pytest.raises(InvalidMove, match="not paused"):
        d.act(e.Resume)


def test_field_visit_counter_proposal_and_reschedule_then_cancel_closes(version):
    d = Driver(TimingPolicy(max_reschedules=1), rules_version=version)
    d.both_agree()
    first = d.plan(20)
    d.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=first))
    counter = d.plan(30)
    d.answer(
        PromptKind.VISIT_CONFIRMATION, a.VisitConfirmation(decision="counter", counter=counter)
    )
    confirm = d.open(PromptKind.VISIT_CONFIRMATION)
    assert (
        confirm.party == Party.ADOPTER
        and confirm.context["plan"]["start"] == counter.start.isoformat()
    )
    d.answer(PromptKind.VISIT_CONFIRMATION, a.VisitConfirmation(decision="confirm"))
    assert d.state.visit.plan == counter
    d.act(e.CancelVisit, reason="flights cancelled")
    assert d.state.reschedules == 1 and d.open(PromptKind.VISIT_PROPOSAL)
    d.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=d.plan(40)))
    d.answer(
        PromptKind.VISIT_CONFIRMATION, a.VisitConfirmation(decision="cancel", reason="no budget")
    )
    assert d.state.close_reason == CloseReason.CANCELLED


def test_visit_not_held_reschedules_and_not_proceeding_closes_not_pursued(version):
    d = Driver(rules_version=version)
    d.both_agree()
    d.visit_agreed(10)
    d.advance(15)
    d.answer(PromptKind.VISIT_REPORT, a.VisitReport(held=False))
    assert d.state.reschedules == 1 and d.state.stage == Stage.FIELD_VISIT
    d.visit_agreed(10)
    d.advance(15)
    d.report_visit(proceed=False)
    assert d.state.close_reason == CloseReason.NOT_PURSUED


def test_secretariat_can_schedule_the_visit_directly(version):
    d = Driver(rules_version=version)
    d.both_agree()
    d.act(e.ScheduleVisit, plan=d.plan(12, fmt="virtual"), reason="agreed by phone")
    assert d.state.visit.confirmed and not d.state.open_prompts()
    d.advance(20)
    assert d.open(PromptKind.VISIT_REPORT)


def test_visit_in_the_past_is_refused(version):
    d = Driver(rules_version=version)
    d.both_agree()
    past = a.VisitPlan(start=d.day(-3), end=d.day(-1), format="virtual", delegation_size=2)
    with pytest.raises(InvalidMove, match="must start after today"):
        d.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=past))
    assert d.open(PromptKind.VISIT_PROPOSAL)  # nothing changed


def test_blocked_check_in_emails_provider_and_secretariat(version):
    d = Driver(rules_version=version)
    d.both_agree(remote=True)
    d.adaptation_plan()
    d.advance(30)
    d.check_in("blocked", support_needed="API documentation for the registry")
    requests = d.emails(NoticeKind.SUPPORT_REQUEST)
    assert {m.party for m in requests} == {Party.PROVIDER, Party.SECRETARIAT}
    assert requests[0].context["support_needed"] == "API documentation for the registry"


def test_two_missed_check_ins_escalate_and_abandoned_closes(version):
    d = Driver(rules_version=version)
    d.both_agree(remote=True)
    d.adaptation_plan()
    d.advance(30 * 3 + 1)
    assert d.state.missed_checkins == 2
    assert d.state.status == MatchStatus.NEEDS_ATTENTION and "check_ins" in d.state.attention
    d.check_in("abandoned", note="ministry merged")
    assert d.state.close_reason == CloseReason.ABANDONED


def test_fifteen_monthly_check_ins(version):
    d = Driver(rules_version=version)
    d.both_agree(remote=True)
    d.adaptation_plan()
    for _ in range(15):
        d.advance(30)
        d.check_in("on_track")
    assert d.state.checkins_opened == 15 and d.state.stage == Stage.ADAPTATION
    assert len(d.history("check_in_missed")) == 0


def test_secretariat_actions_and_refusals(version):
    d = Driver(rules_version=version)
    d.act(e.AddNote, text="Called the adopter; answer coming", by="ana")
    assert d.history("note")[-1].actor == "secretariat:ana"
    resent = d.act(e.Resend)
    assert len(resent.emails) == 2 and {m.round for m in resent.emails} == {2}
    new = Contact(name="Aliya Nurlanovna", email="aliya@gov.kz", language="ru")
    changed = d.act(e.ChangeContact, party=Party.ADOPTER, contact=new, reason="staff change")
    assert [m.recipient_email for m in changed.emails] == ["aliya@gov.kz"]
    assert [m.recipient_language for m in changed.emails] == ["ru"]
    with pytest.raises(InvalidMove, match="already the adopter contact"):
        d.act(e.ChangeContact, party=Party.ADOPTER, contact=new, reason="again")
    d.act(e.Advance, to=Stage.ADAPTATION, reason="visit happened informally")
    assert d.state.stage == Stage.ADAPTATION and d.open(PromptKind.ADAPTATION_PLAN)
    with pytest.raises(InvalidMove, match="only move forward"):
        d.act(e.Advance, to=Stage.FIELD_VISIT, reason="go back")
    d.act(e.Close, reason=CloseReason.WITHDRAWN, note="adopter withdrew by phone")
    assert d.state.stage == Stage.CLOSED
    for action in (
        e.AddNote(text="late note"),
        e.Pause(reason="why not"),
        e.Resend(),
    ):
        with pytest.raises(InvalidMove, match="closed"):
            d.apply(action)


def test_bounce_needs_attention_and_alerts_the_secretariat(version):
    d = Driver(rules_version=version)
    prompt = d.open(PromptKind.INTRODUCTION_ADOPTER)
    d.apply(
        e.DeliveryFailed(
            party=Party.ADOPTER,
            recipient="a.sadykova@gov.kz",
            error="550 no such user",
            prompt_id=prompt.id,
        )
    )
    assert d.state.status == MatchStatus.NEEDS_ATTENTION
    assert d.emails(NoticeKind.DELIVERY_FAILURE)[0].party == Party.SECRETARIAT
    new = Contact(name="Aliya", email="aliya@gov.kz", language="ru")
    d.act(e.ChangeContact, party=Party.ADOPTER, contact=new, reason="bounced")
    assert d.state.status == MatchStatus.ACTIVE


def test_wrong_party_or_closed_prompt_is_refused(version):
    d = Driver(rules_version=version)
    prompt = d.open(PromptKind.INTRODUCTION_ADOPTER)
    ans = a.InterestAnswer(decision="confirm", needs="x")
    with pytest.raises(InvalidMove, match="is for the adopter, not the provider"):
        d.apply(e.Answered(prompt_id=prompt.id, party=Party.PROVIDER, answer=ans))
    with pytest.raises(InvalidMove, match="asks for introduction_adopter"):
        d.apply(
            e.Answered(
                prompt_id=prompt.id,
                party=Party.ADOPTER,
                answer=a.ShareAnswer(decision="accept"),
            )
        )
    d.apply(e.Answered(prompt_id=prompt.id, party=Party.ADOPTER, answer=ans))
    with pytest.raises(InvalidMove, match="no longer open"):
        d.apply(e.Answered(prompt_id=prompt.id, party=Party.ADOPTER, answer=ans))
    with pytest.raises(InvalidMove, match="^no prompt visit_report-99 in this match$"):
        d.apply(e.Answered(prompt_id="visit_report-99", party=Party.ADOPTER, answer=ans))


def test_decide_never_mutates_its_input(version):
    d = Driver(rules_version=version)
    before = d.state.model_dump()
    decide_state = d.state
    d.apply(e.Tick(), T0 + timedelta(days=40))
    assert decide_state.model_dump() == before
