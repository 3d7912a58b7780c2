"""Timers: reminders, escalations, lapses, check-ins and the visit's dates, in time order."""

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from domain.enums import CloseReason, NoticeKind, Party, PromptKind, PromptStatus
from domain.lifecycle.run import Run
from domain.lifecycle.state import Prompt


def _due(run: Run) -> list[tuple[datetime, int, Callable[[], None]]]:
    s, at = run.s, run.at
    due: list[tuple[datetime, int, Callable[[], None]]] = []
    if s.paused_at is None:
        for p in s.open_prompts():
            if p.reminders_due and p.reminders_due[0] <= at:
                due.append((p.reminders_due[0], 0, partial(_remind, run, p)))
            if p.escalate_at and p.escalate_at <= at and not p.escalated:
                due.append((p.escalate_at, 1, partial(_escalate, run, p)))
            if p.lapse_at and p.lapse_at <= at:
                due.append((p.lapse_at, 2, partial(_lapse, run, p)))
        if s.next_checkin_at and s.next_checkin_at <= at:
            due.append((s.next_checkin_at, 3, lambda: _check_in_due(run)))
    visit = s.visit
    if visit and visit.confirmed:
        if visit.reminder_at and not visit.reminder_sent and visit.reminder_at <= at:
            due.append((visit.reminder_at, 0, lambda: _visit_reminder(run)))
        if visit.ends_at and visit.ends_at <= at:
            due.append((visit.ends_at, 1, lambda: _visit_ended(run)))
    return due


def tick(run: Run) -> None:
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
    assert prompt.escalate_at is not None  # _due escalates only a prompt that has the date
    prompt.escalated = True
    prompt.escalations += 1
    days = run.s.clock.days_between(prompt.opened_at, run.at)
    why = f"no answer from the {prompt.party} to {prompt.kind} after {days} days"
    run.s.attention[prompt.id] = why
    run.record("escalated", why[0].upper() + why[1:], prompt_id=prompt.id)
    silent = {"party": str(prompt.party), "kind": str(prompt.kind), "days": days}
    if run.v3:
        # one notice per moment, naming every silent party: both partners' questions of a
        # stage fall due together
        for notice, _ in run.escalations:
            if notice.context.get("due") == prompt.escalate_at.isoformat():
                notice.context["silent"].append(silent)
                notice.context["why"] += f"; and from the {prompt.party} to {prompt.kind}"
                run.escalations.append((notice, prompt.id))
                return
        notice = run.notice(
            NoticeKind.ESCALATION,
            Party.SECRETARIAT,
            why=why,
            prompt_id=prompt.id,
            silent=[silent],
            due=prompt.escalate_at.isoformat(),
        )
    else:
        notice = run.notice(NoticeKind.ESCALATION, Party.SECRETARIAT, why=why, prompt_id=prompt.id)
    run.escalations.append((notice, prompt.id))


def _lapse(run: Run, prompt: Prompt) -> None:
    days = run.s.clock.days_between(prompt.opened_at, run.at)
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
        notice = run.notice(NoticeKind.ESCALATION, Party.SECRETARIAT, why=why)
        run.escalations.append((notice, None))
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
