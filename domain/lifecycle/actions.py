"""Secretariat actions: pause, resume, extend, change contact, advance, close, note, resend, visits."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from domain.enums import Exchange, Party, PromptKind, Stage
from domain.lifecycle import events as e
from domain.lifecycle.partners import visit_reported
from domain.lifecycle.refusals import InvalidMove
from domain.lifecycle.run import ENDED, STAGE_ORDER, Run, other
from domain.lifecycle.state import Visit


def apply_action(run: Run, action: e.Event) -> None:
    """Apply one Secretariat action to an open match, or raise InvalidMove."""
    handler = ACTIONS.get(type(action))
    if handler is None:
        raise InvalidMove(f"unknown action {type(action).__name__}", code="unknown_action")
    handler(run, action)


def _actor(action: e.Event) -> str:
    return f"secretariat:{getattr(action, 'by', 'secretariat')}"


def _pause(run: Run, action: e.Pause) -> None:
    if run.s.paused_at is not None:
        raise InvalidMove(
            f"reminders are already paused (since {run.s.paused_at.isoformat()})",
            code="already_paused",
            since=run.s.paused_at,
        )
    run.s.paused_at = run.at
    run.record("paused", f"Reminders paused: {action.reason}", actor=_actor(action))


def _resume(run: Run, action: e.Resume) -> None:
    if run.s.paused_at is None:
        raise InvalidMove("nothing to resume: the match is not paused", code="not_paused")
    shift = run.at - run.s.paused_at
    for prompt in run.s.open_prompts():
        prompt.reminders_due = [t + shift for t in prompt.reminders_due]
        prompt.escalate_at = prompt.escalate_at + shift if prompt.escalate_at else None
        prompt.lapse_at = prompt.lapse_at + shift if prompt.lapse_at else None
    if run.s.next_checkin_at:
        run.s.next_checkin_at += shift
    run.s.paused_at = None
    run.record(
        "resumed",
        f"Reminders resumed; deadlines moved by {shift.days} days",
        actor=_actor(action),
        shift_days=shift.days,
    )


def _extend(run: Run, action: e.ExtendDeadline) -> None:
    checking_in = run.s.stage == Stage.ADAPTATION and run.s.next_checkin_at is not None
    if action.prompt_id:
        prompt = run.find_prompt(action.prompt_id, refusal="nothing to extend: ")
        if not prompt.is_open:
            hint = (
                "; name no prompt to move the next check-in"
                if run.v2 and prompt.kind == PromptKind.CHECK_IN and checking_in
                else ""
            )
            raise InvalidMove(
                f"prompt {prompt.id} has no deadline to extend: {ENDED[prompt.status]}{hint}",
                code="prompt_has_no_deadline",
                prompt_id=prompt.id,
                status=prompt.status,
            )
        if prompt.lapse_at is None:
            why = f"prompt {prompt.id} has no deadline to extend"
            if prompt.kind != PromptKind.CHECK_IN or not checking_in:
                raise InvalidMove(why, code="prompt_has_no_deadline", prompt_id=prompt.id)
            run.refuse_before_v2("moving the next check-in", why=why)
            return _move_check_in(run, action)
        targets = [prompt]
    else:
        targets = [p for p in run.s.open_prompts() if p.lapse_at]
        if not targets:
            why = "no open prompt has a deadline to extend"
            if not checking_in:
                raise InvalidMove(why, code="no_deadline_to_extend")
            run.refuse_before_v2("moving the next check-in", why=why)
            return _move_check_in(run, action)
    policy = run.s.policy
    for prompt in targets:
        assert prompt.lapse_at is not None
        prompt.lapse_at += run.calendar_days(action.days)
        if prompt.escalated or (prompt.escalate_at and prompt.escalate_at <= run.at):
            # escalate again if the extension runs out without an answer
            prompt.escalated = False
            prompt.escalate_at = prompt.lapse_at - timedelta(
                days=policy.lapse_day - policy.escalation_day
            )
        run.s.attention.pop(prompt.id, None)
    new = ", ".join(
        f"{p.id} → {run.s.clock.today(p.lapse_at).isoformat()}" for p in targets if p.lapse_at
    )
    run.record(
        "deadline_extended",
        f"Deadline extended by {action.days} days ({new}): {action.reason}",
        actor=_actor(action),
        days=action.days,
    )


def _move_check_in(run: Run, action: e.ExtendDeadline) -> None:
    """Version 2: a check-in's deadline is the next check-in; move it and clear the alert."""
    s = run.s
    assert s.next_checkin_at is not None
    s.next_checkin_at += run.calendar_days(action.days)
    s.attention.pop("check_ins", None)
    moved_to = s.clock.today(s.next_checkin_at).isoformat()
    run.record(
        "deadline_extended",
        f"Next check-in moved by {action.days} days, to {moved_to}: {action.reason}",
        actor=_actor(action),
        days=action.days,
        next_checkin_at=s.next_checkin_at.isoformat(),
    )


def _change_contact(run: Run, action: e.ChangeContact) -> None:
    current = run.s.contacts[action.party]
    if action.contact.email == run.s.contacts[other(action.party)].email:
        taken = action.contact.email
        raise InvalidMove(
            f"{taken} is the {other(action.party)} contact; the adopter and provider contacts "
            "must differ",
            code="contact_taken",
            party=other(action.party),
        )
    if action.contact == current:
        raise InvalidMove(
            f"{current.email} is already the {action.party} contact",
            code="contact_unchanged",
            party=action.party,
        )
    run.s.contacts[action.party] = action.contact
    run.s.attention.pop(f"delivery:{action.party}", None)
    run.record(
        "contact_changed",
        f"{action.party} contact {current.email} → {action.contact.email}: {action.reason}",
        actor=_actor(action),
        party=action.party,
        email=action.contact.email,
    )
    for prompt in run.s.open_prompts():
        if prompt.party == action.party:
            prompt.sends += 1
            run.email_prompt(prompt)


def _advance(run: Run, action: e.Advance) -> None:
    if action.to == run.s.stage:
        raise InvalidMove(
            f"the match is already in {action.to}", code="already_in_stage", stage=action.to
        )
    if STAGE_ORDER.index(action.to) < STAGE_ORDER.index(run.s.stage):
        raise InvalidMove(
            f"cannot go back from {run.s.stage} to {action.to}: matches only move forward",
            code="cannot_go_back",
            stage=run.s.stage,
            to=action.to,
        )
    run.enter(action.to, actor=_actor(action), reason=action.reason)


def _close(run: Run, action: e.Close) -> None:
    run.close(action.reason, f"Closed by the Secretariat: {action.note}", actor=_actor(action))


def _note(run: Run, action: e.AddNote) -> None:
    run.s.notes.append(action.text)
    run.s.attention.pop("record", None)  # a step not recorded: the note says what was done
    for key in [k for k in run.s.attention if k.startswith("help:")]:
        run.s.attention.pop(key)  # a partner's call for help: the note says what was done
    run.record("note", action.text, actor=_actor(action))


def _resend(run: Run, action: e.Resend) -> None:
    if action.prompt_id:
        prompt = run.find_prompt(action.prompt_id, refusal="nothing to resend: ")
        if not prompt.is_open:
            raise InvalidMove(
                f"nothing to resend: prompt {prompt.id} is not open ({ENDED[prompt.status]})",
                code="nothing_to_resend",
                prompt_id=prompt.id,
                status=prompt.status,
            )
    targets = [p for p in run.s.open_prompts() if action.prompt_id in (None, p.id)]
    if not targets:
        raise InvalidMove("nothing to resend: no prompt is open", code="nothing_to_resend")
    for prompt in targets:
        prompt.sends += 1
        run.email_prompt(prompt)
        run.record(
            "resent",
            f"Resent {prompt.kind} to the {prompt.party}",
            actor=_actor(action),
            prompt_id=prompt.id,
        )


def _schedule_visit(run: Run, action: e.ScheduleVisit) -> None:
    if run.s.stage != Stage.FIELD_VISIT:
        raise InvalidMove(
            f"a visit can only be scheduled in the field_visit stage; the match is in {run.s.stage}",
            code="visit_outside_field_visit",
            stage=run.s.stage,
        )
    if any(p.kind == PromptKind.VISIT_REPORT for p in run.s.open_prompts()):
        raise InvalidMove(
            "the visit has taken place and its report is awaited", code="visit_report_awaited"
        )
    run.check_plan(action.plan)
    run.schedule_visit(action.plan, actor=_actor(action), reason=action.reason)


def _cancel_visit(run: Run, action: e.CancelVisit) -> None:
    visit_prompts = {PromptKind.VISIT_PROPOSAL, PromptKind.VISIT_CONFIRMATION}
    if run.s.stage != Stage.FIELD_VISIT or not (
        run.s.visit or any(p.kind in visit_prompts for p in run.s.open_prompts())
    ):
        raise InvalidMove(
            "nothing to cancel: no visit is being planned or scheduled", code="nothing_to_cancel"
        )
    run.visit_cancelled(action.reason, actor=_actor(action))


def _record_visit(run: Run, action: e.RecordVisit) -> None:
    """Version 2: record a visit that took place; its report moves the match on."""
    run.refuse_before_v2("recording a visit that took place")
    s, plan, actor = run.s, action.plan, _actor(action)
    if s.stage not in (Stage.FOLLOW_UP, Stage.FIELD_VISIT):
        raise InvalidMove(
            "a visit can only be recorded in the follow_up or field_visit stage; "
            f"the match is in {s.stage}",
            code="record_visit_stage",
            stage=s.stage,
        )
    today = run.today.isoformat()
    if plan.end >= run.today:
        raise InvalidMove(
            f"a recorded visit must have ended before today ({today}), not on {plan.end}",
            code="recorded_visit_not_ended",
            today=today,
            end=plan.end,
        )
    if s.stage == Stage.FOLLOW_UP:
        for party in (Party.ADOPTER, Party.PROVIDER):
            s.exchange.setdefault(party, Exchange.FIELD_VISIT)
        run.enter(
            Stage.FIELD_VISIT,
            actor=actor,
            reason="the Secretariat recorded a field visit, so both partners are taken to "
            "have agreed",
            ask=False,
        )
    else:  # proposals, confirmations or a report awaited: the record answers them all
        run.withdraw_open()
        run.call_off_visit("the Secretariat recorded another visit", actor=actor)
    s.visit = Visit(
        plan=plan, confirmed=True, held=action.held, learned=action.report, recorded_by=actor
    )
    run.record(
        "visit_recorded",
        f"The Secretariat recorded {plan.a_visit} of {plan.start}–{plan.end}, delegation of "
        f"{plan.delegation_size}, that {'took' if action.held else 'did not take'} place: "
        f"{action.reason}",
        actor=actor,
        plan=plan.model_dump(mode="json"),
        held=action.held,
        learned=action.report,
        proceed=action.proceed,
    )
    visit_reported(run, action.visit_report(), actor=actor)


# each takes the event type it is keyed by
ACTIONS: dict[type[e.Event], Callable[[Run, Any], None]] = {
    e.Pause: _pause,
    e.Resume: _resume,
    e.ExtendDeadline: _extend,
    e.ChangeContact: _change_contact,
    e.Advance: _advance,
    e.Close: _close,
    e.AddNote: _note,
    e.Resend: _resend,
    e.ScheduleVisit: _schedule_visit,
    e.CancelVisit: _cancel_visit,
    e.RecordVisit: _record_visit,
}
