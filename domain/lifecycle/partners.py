"""Partner answers: each prompt kind's answer moves the match on."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

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
from domain.lifecycle.effects import DraftCaseStudy
from domain.lifecycle.refusals import InvalidMove
from domain.lifecycle.run import ENDED, Run, other
from domain.lifecycle.state import Prompt


def _on_behalf(event: e.Answered | e.ReportProgress) -> str:
    """The actor of an answer: the partner, or who entered it for them (an event without
    ``entered_by``, as every one before access control, names the partner alone)."""
    if event.entered_by is None:
        return event.party
    return f"{event.entered_by} for the {event.party}"


def answered(run: Run, event: e.Answered) -> None:
    prompt = run.find_prompt(event.prompt_id)
    if not prompt.is_open:
        raise InvalidMove(
            f"prompt {prompt.id} is no longer open: {ENDED[prompt.status]}",
            code="prompt_not_open",
            prompt_id=prompt.id,
            status=prompt.status,
        )
    if prompt.party != event.party:
        raise InvalidMove(
            f"prompt {prompt.id} is for the {prompt.party}, not the {event.party}",
            code="prompt_of_other_party",
            prompt_id=prompt.id,
            party=prompt.party,
        )
    if event.answer.kind != prompt.kind:
        raise InvalidMove(
            f"prompt {prompt.id} asks for {prompt.kind}, not for {event.answer.kind}",
            code="prompt_of_other_kind",
            prompt_id=prompt.id,
            kind=prompt.kind,
            answered=event.answer.kind,
        )
    run.finish(prompt, PromptStatus.ANSWERED, event.answer.model_dump(mode="json"))
    run.record(
        "answered",
        f"The {event.party} answered {prompt.kind}",
        actor=_on_behalf(event),
        prompt_id=prompt.id,
        answer=prompt.answer,
    )
    HANDLERS[prompt.kind](run, prompt, event.answer)


def report_progress(run: Run, event: e.ReportProgress) -> None:
    """Version 2: the adopter reports during adaptation; an open check-in counts as answered."""
    run.refuse_before_v2("reporting progress at any time")
    if run.s.stage != Stage.ADAPTATION:
        raise InvalidMove(
            f"progress can only be reported in the adaptation stage; the match is in {run.s.stage}",
            code="progress_outside_adaptation",
            stage=run.s.stage,
        )
    check_in = next((p for p in run.s.open_prompts() if p.kind == PromptKind.CHECK_IN), None)
    answer = event.report.model_dump(mode="json")
    if check_in is not None:
        run.finish(check_in, PromptStatus.ANSWERED, answer)
    status = event.report.status.replace("_", " ")
    run.record(
        "progress_reported",
        f"The adopter reported progress: {status}"
        + (f" (the answer to {check_in.id})" if check_in else ""),
        actor=_on_behalf(event),
        prompt_id=check_in.id if check_in else None,
        answer=answer,
    )
    _check_in(run, check_in, event.report)


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


def _ask_to_confirm(run: Run, prompt: Prompt, plan: a.VisitPlan) -> None:
    """Put a proposed visit (a proposal or a counter-proposal) to the other party."""
    run.check_plan(plan)
    run.open_prompt(
        PromptKind.VISIT_CONFIRMATION,
        other(prompt.party),
        plan=plan.model_dump(mode="json"),
        proposed_by=prompt.party,
    )


def _visit_proposal(run: Run, prompt: Prompt, answer: a.VisitProposal) -> None:
    _ask_to_confirm(run, prompt, answer.plan)


def _visit_confirmation(run: Run, prompt: Prompt, answer: a.VisitConfirmation) -> None:
    if answer.decision == "cancel":
        run.visit_cancelled(answer.reason or f"cancelled by the {prompt.party}", actor=prompt.party)
    elif answer.decision == "counter":
        assert answer.counter is not None
        _ask_to_confirm(run, prompt, answer.counter)
    else:
        run.schedule_visit(a.VisitPlan.model_validate(prompt.context["plan"]), actor=prompt.party)


def _visit_report(run: Run, prompt: Prompt, answer: a.VisitReport) -> None:
    visit_reported(run, answer, actor=prompt.party)


def visit_reported(run: Run, report: a.VisitReport, *, actor: str) -> None:
    """Go on after a visit: adaptation, closed not_pursued, or reschedule if it was not held."""
    if run.v2 and run.s.visit and report.held:
        run.s.visit.held, run.s.visit.learned = True, report.learned
    if not report.held:
        run.visit_cancelled("the visit did not take place", actor=actor)
    elif report.proceed:
        run.enter(Stage.ADAPTATION, reason="the adopter proceeds after the visit")
    else:
        run.close(
            CloseReason.NOT_PURSUED,
            "The adopter does not proceed after the visit",
            actor=actor,
        )


def _adaptation_plan(run: Run, prompt: Prompt, answer: a.AdaptationPlanAnswer) -> None:
    run.s.plan = answer
    run.s.next_checkin_at = run.at + timedelta(days=run.s.policy.checkin_interval_days)


def _check_in(run: Run, prompt: Prompt | None, answer: a.CheckInAnswer) -> None:
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
    if run.v2:
        run.s.provider_notes = answer.notes
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


# each takes the answer type of its prompt kind (the answer is validated against it first)
HANDLERS: dict[PromptKind, Callable[[Run, Prompt, Any], None]] = {
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
