"""The working copy one decision mutates, with the moves every rule shares."""

from datetime import UTC, datetime, time, timedelta
from typing import Any

from domain.enums import (
    CloseReason,
    MatchStatus,
    NoticeKind,
    Party,
    PromptKind,
    PromptStatus,
    Stage,
)
from domain.lifecycle.answers import VisitPlan
from domain.lifecycle.case_study import render_case_study
from domain.lifecycle.copying import working_copy
from domain.lifecycle.effects import Decision, DraftCaseStudy, SendEmail
from domain.lifecycle.refusals import InvalidMove
from domain.lifecycle.state import HISTORY_KEPT, HistoryEntry, MatchState, Prompt, Visit

STAGE_ORDER = [Stage.FOLLOW_UP, Stage.FIELD_VISIT, Stage.ADAPTATION, Stage.OUTCOME, Stage.CLOSED]
ENTRY_PROMPT = {
    Stage.FIELD_VISIT: (PromptKind.VISIT_PROPOSAL, Party.ADOPTER),
    Stage.ADAPTATION: (PromptKind.ADAPTATION_PLAN, Party.ADOPTER),
    Stage.OUTCOME: (PromptKind.OUTCOME_REPORT, Party.ADOPTER),
}


ENDED = {
    PromptStatus.ANSWERED: "it was answered",
    PromptStatus.EXPIRED: "it expired",
    PromptStatus.WITHDRAWN: "it was withdrawn",
}


def other(party: Party) -> Party:
    return Party.PROVIDER if party == Party.ADOPTER else Party.ADOPTER


def day_start(day: Any) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


class Run:
    """Collects the effects of one decision while it changes a deep copy of the state."""

    def __init__(self, state: MatchState, at: datetime) -> None:
        # A deep copy, except that the EOI (frozen) and the history entries (appended, never
        # changed) are shared with the original: they are most of the state's size.
        shared: dict[int, Any] = {id(state.eoi): state.eoi}
        shared.update((id(entry), entry) for entry in state.history)
        self.s = working_copy(state, shared)
        self.at = at
        self.history: list[HistoryEntry] = []
        self.emails: list[SendEmail] = []
        self.case_study: DraftCaseStudy | None = None
        # escalation notices and the prompt each is about (None: missed check-ins); the moves
        # they suggest are worked out once the decision is complete
        self.escalations: list[tuple[SendEmail, str | None]] = []

    # -- rules versions -----------------------------------------------------------------------
    @property
    def v2(self) -> bool:
        """The match follows rules version 2 or later."""
        return self.s.rules_version >= 2

    def refuse_before_v2(self, what: str, *, why: str = "") -> None:
        """Refuse what version 1 never accepted (old matches must replay as they ran).

        ``what`` names the move ("reporting progress at any time"); ``why`` may open the sentence.
        """
        if not self.v2:
            raise InvalidMove(
                (f"{why}; " if why else "")
                + f"{what} needs rules version 2, and this match follows rules version "
                f"{self.s.rules_version}",
                code="needs_rules_v2",
                rules_version=self.s.rules_version,
            )

    # -- lookups ------------------------------------------------------------------------------
    def find_prompt(self, prompt_id: str, *, refusal: str = "") -> Prompt:
        """Return the prompt, or refuse (``refusal`` opens the sentence) when there is none."""
        prompt = self.s.prompt(prompt_id)
        if prompt is None:
            raise InvalidMove(
                f"{refusal}no prompt {prompt_id} in this match",
                code="no_such_prompt",
                prompt_id=prompt_id,
            )
        return prompt

    # -- records and emails -------------------------------------------------------------------
    def record(self, kind: str, summary: str, *, actor: str = "system", **data: Any) -> None:
        self.s.history_seq += 1
        entry = HistoryEntry(
            seq=self.s.history_seq,
            kind=kind,
            stage=self.s.stage,
            actor=actor,
            summary=summary,
            data={k: (v.value if hasattr(v, "value") else v) for k, v in data.items()},
            occurred_at=self.at,
        )
        self.history.append(entry)
        self.s.history = [*self.s.history, entry][-HISTORY_KEPT:]

    def email_prompt(self, prompt: Prompt) -> None:
        contact = self.s.contacts[prompt.party]
        self.emails.append(
            SendEmail(
                key=f"{self.s.match_id}/{prompt.stage}/{prompt.id}/{contact.email}/{prompt.sends}",
                template=prompt.kind,
                party=prompt.party,
                recipient_email=contact.email,
                recipient_name=contact.name,
                recipient_language=contact.language,
                prompt_id=prompt.id,
                round=prompt.sends,
                context={
                    **prompt.context,
                    "prompt_id": prompt.id,
                    "reminder": prompt.sends > 1,
                    "answer_by": prompt.lapse_at.date().isoformat() if prompt.lapse_at else None,
                },
            )
        )

    def notice(self, kind: NoticeKind, party: Party, **context: Any) -> SendEmail:
        """Email a notice (numbered, so no two notices of a match share a business key)."""
        self.s.notice_seq += 1
        contact = self.s.contacts.get(party)
        email = contact.email if contact and party != Party.SECRETARIAT else None
        self.emails.append(
            notice := SendEmail(
                key=f"{self.s.match_id}/{self.s.stage}/{kind}-{self.s.notice_seq}/{email or 'secretariat'}",
                template=kind,
                party=party,
                recipient_email=email,
                recipient_name=contact.name if email and contact else "Network Secretariat",
                recipient_language=contact.language if email and contact else "en",
                context=context,
            )
        )
        return notice

    # -- prompts ------------------------------------------------------------------------------
    def open_prompt(
        self,
        kind: PromptKind,
        party: Party,
        *,
        reminders: tuple[int, ...] | None = None,
        escalate: bool = True,
        lapse: bool = True,
        **context: Any,
    ) -> Prompt:
        policy, at = self.s.policy, self.at
        self.s.prompt_seq += 1
        days = policy.reminder_days if reminders is None else reminders
        prompt = Prompt(
            id=f"{kind}-{self.s.prompt_seq}",
            kind=kind,
            party=party,
            stage=self.s.stage,
            opened_at=at,
            reminders_due=[at + timedelta(days=d) for d in days],
            escalate_at=at + timedelta(days=policy.escalation_day) if escalate else None,
            lapse_at=at + timedelta(days=policy.lapse_day) if lapse else None,
            context=context,
        )
        self.s.prompts.append(prompt)
        self.email_prompt(prompt)
        self.record("prompt_opened", f"Asked the {party}: {kind}", prompt_id=prompt.id, party=party)
        return prompt

    def finish(
        self, prompt: Prompt, status: PromptStatus, answer: dict[str, Any] | None = None
    ) -> None:
        prompt.status, prompt.closed_at, prompt.answer = status, self.at, answer
        self.s.attention.pop(prompt.id, None)

    def withdraw_open(self) -> None:
        for prompt in self.s.open_prompts():
            self.finish(prompt, PromptStatus.WITHDRAWN)

    # -- stages -------------------------------------------------------------------------------
    def enter(
        self, stage: Stage, *, actor: str = "system", reason: str = "", ask: bool = True
    ) -> None:
        """Move to a later stage; ``ask``: open the stage's first prompt."""
        self.leave_field_visit(f"the match moved on to {stage}", actor=actor)
        self.withdraw_open()
        self.s.next_checkin_at = None
        previous, self.s.stage = self.s.stage, stage
        self.record(
            "stage_entered",
            f"{previous} → {stage}" + (f": {reason}" if reason else ""),
            actor=actor,
        )
        if ask:
            kind, party = ENTRY_PROMPT[stage]
            self.open_prompt(kind, party)

    def close(
        self, reason: CloseReason, summary: str, *, actor: str = "system", **data: Any
    ) -> None:
        self.leave_field_visit("the match was closed", actor=actor)
        self.withdraw_open()
        self.s.next_checkin_at = None
        self.s.paused_at = None
        self.s.attention.clear()
        self.record("closed", summary, actor=actor, reason=reason, **data)
        self.s.stage, self.s.close_reason, self.s.closed_by = Stage.CLOSED, reason, actor
        if reason != CloseReason.COMPLETED:
            self.notice(NoticeKind.CLOSED, Party.SECRETARIAT, reason=reason, summary=summary)

    # -- field visit --------------------------------------------------------------------------
    def check_plan(self, plan: VisitPlan) -> None:
        if plan.start <= self.at.date():
            raise InvalidMove(
                f"the visit must start after today ({self.at.date().isoformat()}), "
                f"not on {plan.start.isoformat()}",
                code="visit_starts_too_soon",
                today=self.at.date(),
                start=plan.start,
            )

    def schedule_visit(self, plan: VisitPlan, *, actor: str) -> None:
        for prompt in self.s.open_prompts():
            if prompt.kind in (PromptKind.VISIT_PROPOSAL, PromptKind.VISIT_CONFIRMATION):
                self.finish(prompt, PromptStatus.WITHDRAWN)
        reminder = day_start(plan.start) - timedelta(days=self.s.policy.visit_reminder_days)
        self.s.visit = Visit(
            plan=plan,
            confirmed=True,
            reminder_at=reminder if reminder > self.at else None,
            ends_at=day_start(plan.end) + timedelta(days=1),
        )
        self.record(
            "visit_scheduled",
            f"{plan.format} visit {plan.start}–{plan.end}, delegation of {plan.delegation_size}",
            actor=actor,
            plan=plan.model_dump(mode="json"),
        )

    def leave_field_visit(self, why: str, *, actor: str) -> None:
        """Version 2: a visit stays in the field_visit stage; leaving it ends the visit's timers.

        A visit still ahead (or under way) is recorded as cancelled; its plan stays as a record.
        """
        if self.v2 and self.s.stage == Stage.FIELD_VISIT:
            self.call_off_visit(why, actor=actor)

    def call_off_visit(self, why: str, *, actor: str) -> None:
        """End the visit's timers; record it as cancelled if it was still ahead."""
        visit = self.s.visit
        if not (visit and visit.pending()):
            return
        ahead = visit.ends_at is not None
        visit.reminder_at, visit.ends_at = None, None
        if ahead:
            visit.cancelled = True
            plan = visit.plan
            self.record(
                "visit_cancelled",
                f"Visit of {plan.start}–{plan.end} cancelled: {why}",
                actor=actor,
                plan=plan.model_dump(mode="json"),
            )

    def visit_cancelled(self, reason: str, *, actor: str) -> None:
        self.withdraw_open()
        self.s.visit = None
        if self.s.reschedules >= self.s.policy.max_reschedules:
            self.close(
                CloseReason.CANCELLED,
                f"Visit cancelled after {self.s.reschedules} reschedules: {reason}",
                actor=actor,
            )
            return
        self.s.reschedules += 1
        self.record(
            "visit_cancelled",
            f"Visit cancelled, rescheduling ({self.s.reschedules}): {reason}",
            actor=actor,
        )
        self.open_prompt(PromptKind.VISIT_PROPOSAL, Party.ADOPTER, reschedule=self.s.reschedules)

    # -- result -------------------------------------------------------------------------------
    def refresh_status(self) -> None:
        s = self.s
        if s.closed:
            s.status = (
                MatchStatus.COMPLETED
                if s.close_reason == CloseReason.COMPLETED
                else MatchStatus.CLOSED
            )
        elif s.paused_at is not None:
            s.status = MatchStatus.PAUSED
        elif s.attention:
            s.status = MatchStatus.NEEDS_ATTENTION
        else:
            s.status = MatchStatus.ACTIVE

    def decision(self) -> Decision:
        self.refresh_status()
        if self.case_study is not None:  # written from the state the decision leaves
            title, body = render_case_study(self.s)
            self.case_study = self.case_study.model_copy(update={"title": title, "body": body})
        return Decision(
            state=self.s, history=self.history, emails=self.emails, case_study=self.case_study
        )
