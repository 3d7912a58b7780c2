"""The transition function: ``decide(state, event)`` returns the new state and the effects."""

from collections.abc import Callable
from datetime import datetime, timedelta

from domain.enums import (
    CheckInStatus,
    CloseReason,
    Exchange,
    NoticeKind,
    Party,
    PromptKind,
    PromptStatus,
    Stage,
)
from domain.lifecycle import answers as a
from domain.lifecycle import events as e
from domain.lifecycle.actions import apply_action
from domain.lifecycle.effects import Decision, DraftCaseStudy
from domain.lifecycle.run import InvalidMove, Run, other
from domain.lifecycle.state import RULES_VERSION, MatchState, Prompt
from domain.model import ExpressionOfInterest
from domain.policy import TimingPolicy

__all__ = ["InvalidMove", "decide", "start"]


def start(
    eoi: ExpressionOfInterest,
    policy: TimingPolicy,
    at: datetime,
    *,
    rules_version: int = RULES_VERSION,
) -> Decision:
    """Open a match under a rules version: record it and ask both partners."""
    state = MatchState(
        match_id=eoi.match_id,
        rules_version=rules_version,
        eoi=eoi,
        policy=policy,
        contacts={Party.ADOPTER: eoi.adopter.contact, Party.PROVIDER: eoi.solution.contact},
        started_at=at,
    )
    run = Run(state, at)
    run.record(
        "match_recorded",
        f"Match recorded from EOI {eoi.id} filed at {eoi.workshop.title}",
        eoi_id=eoi.id,
        workshop_id=eoi.workshop.id,
    )
    run.open_prompt(PromptKind.INTRODUCTION_ADOPTER, Party.ADOPTER)
    run.open_prompt(PromptKind.INTRODUCTION_PROVIDER, Party.PROVIDER)
    return run.decision()


def decide(state: MatchState, event: e.Event, at: datetime) -> Decision:
    """Apply one event that happened at ``at``; raise InvalidMove when it is not allowed."""
    if state.history and at < state.history[-1].occurred_at:
        raise InvalidMove("events must not go back in time")
    run = Run(state, at)
    if isinstance(event, e.Tick):
        if not state.closed:
            _tick(run)
    elif isinstance(event, e.DeliveryFailed):
        _delivery_failed(run, event)
    elif state.closed:
        raise InvalidMove(f"the match is closed ({state.close_reason}); nothing can change it")
    elif isinstance(event, e.Answered):
        _answered(run, event)
    else:
        apply_action(run, event)
    return run.decision()


# -- partner answers ---------------------------------------------------------------------------
def _answered(run: Run, event: e.Answered) -> None:
    prompt = run.s.prompt(event.prompt_id)
    if prompt is None:
        raise InvalidMove(f"there is no prompt {event.prompt_id!r} in this match")
    if not prompt.is_open:
        raise InvalidMove(f"prompt {prompt.id} is {prompt.status}, no longer open")
    if prompt.party != event.party:
        raise InvalidMove(f"prompt {prompt.id} is for the {prompt.party}, not the {event.party}")
    if event.answer.kind != prompt.kind:
        raise InvalidMove(f"prompt {prompt.id} asks for {prompt.kind}, not {event.answer.kind}")
    run.finish(prompt, PromptStatus.ANSWERED, event.answer.model_dump(mode="json"))
    run.record(
        "answered",
        f"The {event.party} answered {prompt.kind}",
        actor=event.party,
        prompt_id=prompt.id,
        answer=prompt.answer,
    )
    HANDLERS[prompt.kind](run, prompt, event.answer)


def _introduction(run: Run, prompt: Prompt, answer: a.InterestAnswer | a.ShareAnswer) -> None:
    party = prompt.party
    if answer.decision == "decline":
        why = answer.reason or "no reason given"
        run.close(
            CloseReason.DECLINED,
            f"Declined by the {party}: {why}",
            actor=party,
            party=party,
            why=why,
        )
        return
    run.s.exchange[party] = answer.exchange
    if any(
        p.kind in (PromptKind.INTRODUCTION_ADOPTER, PromptKind.INTRODUCTION_PROVIDER)
        for p in run.s.open_prompts()
    ):
        return  # the other party has not answered yet
    remote = all(run.s.exchange.get(p) == Exchange.REMOTE for p in (Party.ADOPTER, Party.PROVIDER))
    run.enter(
        Stage.ADAPTATION if remote else Stage.FIELD_VISIT,
        reason="both partners agreed" + (" on a remote exchange" if remote else ""),
    )


def _visit_proposal(run: Run, prompt: Prompt, answer: a.VisitProposal) -> None:
    run.check_plan(answer.plan)
    run.open_prompt(
        PromptKind.VISIT_CONFIRMATION,
        other(prompt.party),
        plan=answer.plan.model_dump(mode="json"),
        proposed_by=prompt.party,
    )


def _visit_confirmation(run: Run, prompt: Prompt, answer: a.VisitConfirmation) -> None:
    if answer.decision == "cancel":
        run.visit_cancelled(answer.reason or f"cancelled by the {prompt.party}", actor=prompt.party)
    elif answer.decision == "counter":
        assert answer.counter is not None
        run.check_plan(answer.counter)
        run.open_prompt(
            PromptKind.VISIT_CONFIRMATION,
            other(prompt.party),
            plan=answer.counter.model_dump(mode="json"),
            proposed_by=prompt.party,
        )
    else:
        run.schedule_visit(a.VisitPlan.model_validate(prompt.context["plan"]), actor=prompt.party)


def _visit_report(run: Run, prompt: Prompt, answer: a.VisitReport) -> None:
    if not answer.held:
        run.visit_cancelled("the visit did not take place", actor=prompt.party)
    elif answer.proceed:
        run.enter(Stage.ADAPTATION, reason="the adopter proceeds after the visit")
    else:
        run.close(
            CloseReason.NOT_PURSUED,
            "The adopter does not proceed after the visit",
            actor=prompt.party,
        )


def _adaptation_plan(run: Run, prompt: Prompt, answer: a.AdaptationPlanAnswer) -> None:
    run.s.plan = answer
    run.s.next_checkin_at = run.at + timedelta(days=run.s.policy.checkin_interval_days)


def _check_in(run: Run, prompt: Prompt, answer: a.CheckInAnswer) -> None:
    run.s.missed_checkins = 0
    run.s.attention.pop("check_ins", None)
    if answer.status == CheckInStatus.BLOCKED:
        for party in (Party.PROVIDER, Party.SECRETARIAT):
            run.notice(
                NoticeKind.SUPPORT_REQUEST,
                party,
                support_needed=answer.support_needed,
                note=answer.note,
            )
        run.record("support_requested", f"Blocked: {answer.support_needed}", actor=Party.ADOPTER)
    elif answer.status == CheckInStatus.PILOTED:
        run.enter(Stage.OUTCOME, reason="the adopter piloted the solution")
    elif answer.status == CheckInStatus.ABANDONED:
        run.close(
            CloseReason.ABANDONED,
            f"Adaptation abandoned: {answer.note or 'no reason given'}",
            actor=Party.ADOPTER,
        )


def _outcome_report(run: Run, prompt: Prompt, answer: a.OutcomeReport) -> None:
    run.s.outcome = answer
    run.open_prompt(
        PromptKind.OUTCOME_CONFIRMATION, Party.PROVIDER, outcome=answer.model_dump(mode="json")
    )


def _outcome_confirmation(run: Run, prompt: Prompt, answer: a.OutcomeConfirmation) -> None:
    outcome = run.s.outcome
    assert outcome is not None
    run.record(
        "outcome_recorded",
        f"Outcome: {outcome.result}, {outcome.people_reached} people reached",
        actor=Party.PROVIDER,
        outcome=outcome.model_dump(mode="json"),
        provider_confirmed=answer.confirmed,
        provider_notes=answer.notes,
    )
    if outcome.consent_to_publish and answer.confirmed:
        run.case_study = DraftCaseStudy(match_id=run.s.match_id)
        run.record("case_study_drafted", "Case study drafted for The South-South Matchmaker")
    for party in (Party.ADOPTER, Party.PROVIDER):
        run.notice(NoticeKind.THANKS, party, result=outcome.result)
    run.close(
        CloseReason.COMPLETED, "Match completed with a recorded outcome", actor=Party.PROVIDER
    )


HANDLERS: dict[PromptKind, Callable] = {
    PromptKind.INTRODUCTION_ADOPTER: _introduction,
    PromptKind.INTRODUCTION_PROVIDER: _introduction,
    PromptKind.VISIT_PROPOSAL: _visit_proposal,
    PromptKind.VISIT_CONFIRMATION: _visit_confirmation,
    PromptKind.VISIT_REPORT: _visit_report,
    PromptKind.ADAPTATION_PLAN: _adaptation_plan,
    PromptKind.CHECK_IN: _check_in,
    PromptKind.OUTCOME_REPORT: _outcome_report,
    PromptKind.OUTCOME_CONFIRMATION: _outcome_confirmation,
}


# -- timers ------------------------------------------------------------------------------------
def _due(run: Run) -> list[tuple[datetime, int, Callable[[], None]]]:
    s, at, due = run.s, run.at, []
    if s.paused_at is None:
        for p in s.open_prompts():
            if p.reminders_due and p.reminders_due[0] <= at:
                due.append((p.reminders_due[0], 0, lambda p=p: _remind(run, p)))
            if p.escalate_at and p.escalate_at <= at and not p.escalated:
                due.append((p.escalate_at, 1, lambda p=p: _escalate(run, p)))
            if p.lapse_at and p.lapse_at <= at:
                due.append((p.lapse_at, 2, lambda p=p: _lapse(run, p)))
        if s.next_checkin_at and s.next_checkin_at <= at:
            due.append((s.next_checkin_at, 3, lambda: _check_in_due(run)))
    visit = s.visit
    if visit and visit.confirmed:
        if visit.reminder_at and not visit.reminder_sent and visit.reminder_at <= at:
            due.append((visit.reminder_at, 0, lambda: _visit_reminder(run)))
        if visit.ends_at and visit.ends_at <= at:
            due.append((visit.ends_at, 1, lambda: _visit_ended(run)))
    return due


def _tick(run: Run) -> None:
    for _ in range(10_000):  # bounded: every step consumes a timer
        if run.s.closed:
            return
        due = _due(run)
        if not due:
            return
        min(due, key=lambda item: (item[0], item[1]))[2]()
    raise RuntimeError("timer loop did not settle")


def _remind(run: Run, prompt: Prompt) -> None:
    prompt.reminders_due.pop(0)
    prompt.sends += 1
    run.email_prompt(prompt)
    run.record(
        "reminder_sent",
        f"Reminded the {prompt.party} about {prompt.kind} (round {prompt.sends})",
        prompt_id=prompt.id,
    )


def _escalate(run: Run, prompt: Prompt) -> None:
    prompt.escalated = True
    prompt.escalations += 1
    days = (run.at - prompt.opened_at).days
    why = f"no answer from the {prompt.party} to {prompt.kind} after {days} days"
    run.s.attention[prompt.id] = why
    run.notice(
        NoticeKind.ESCALATION,
        Party.SECRETARIAT,
        why=why,
        prompt_id=prompt.id,
    )
    run.record("escalated", why[0].upper() + why[1:], prompt_id=prompt.id)


def _lapse(run: Run, prompt: Prompt) -> None:
    days = (run.at - prompt.opened_at).days
    run.finish(prompt, PromptStatus.EXPIRED)
    run.close(
        CloseReason.LAPSED,
        f"No answer from the {prompt.party} to {prompt.kind} within {days} days",
        prompt_id=prompt.id,
    )


def _check_in_due(run: Run) -> None:
    s = run.s
    for prompt in s.open_prompts():
        if prompt.kind == PromptKind.CHECK_IN:
            run.finish(prompt, PromptStatus.EXPIRED)
            s.missed_checkins += 1
            run.record(
                "check_in_missed",
                f"Check-in {prompt.id} went unanswered ({s.missed_checkins} in a row)",
                prompt_id=prompt.id,
            )
    if s.missed_checkins >= s.policy.missed_checkins_escalate:
        why = f"{s.missed_checkins} check-ins in a row went unanswered"
        s.attention["check_ins"] = why
        run.notice(NoticeKind.ESCALATION, Party.SECRETARIAT, why=why)
        run.record("escalated", why)
    s.checkins_opened += 1
    s.next_checkin_at = (s.next_checkin_at or run.at) + timedelta(
        days=s.policy.checkin_interval_days
    )
    run.open_prompt(
        PromptKind.CHECK_IN,
        Party.ADOPTER,
        reminders=(s.policy.checkin_reminder_days,),
        escalate=False,
        lapse=False,
        number=s.checkins_opened,
    )


def _visit_reminder(run: Run) -> None:
    visit = run.s.visit
    assert visit is not None
    visit.reminder_sent = True
    if run.s.paused_at is not None:
        run.record("visit_reminder_skipped", "Visit reminder not sent: reminders are paused")
        return
    for party in (Party.ADOPTER, Party.PROVIDER):
        run.notice(
            NoticeKind.VISIT_REMINDER,
            party,
            plan=visit.plan.model_dump(mode="json"),
        )
    run.record(
        "visit_reminder_sent", f"Reminded both partners of the visit starting {visit.plan.start}"
    )


def _visit_ended(run: Run) -> None:
    visit = run.s.visit
    assert visit is not None
    visit.ends_at = None
    run.record("visit_ended", f"The visit of {visit.plan.start}–{visit.plan.end} is over")
    run.open_prompt(PromptKind.VISIT_REPORT, Party.ADOPTER, plan=visit.plan.model_dump(mode="json"))


# -- failures ----------------------------------------------------------------------------------
def _delivery_failed(run: Run, event: e.DeliveryFailed) -> None:
    summary = f"Email to {event.recipient} ({event.party}) refused: {event.error}"
    if event.party == Party.SECRETARIAT or run.s.closed:
        run.record("delivery_failed", summary, recipient=event.recipient)
        return
    run.s.attention[f"delivery:{event.party}"] = summary
    run.notice(
        NoticeKind.DELIVERY_FAILURE,
        Party.SECRETARIAT,
        why=summary,
        about=event.party,
    )
    run.record("delivery_failed", summary, recipient=event.recipient, prompt_id=event.prompt_id)
