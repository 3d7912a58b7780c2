"""The field visit's moves on the working copy: agree, schedule, cancel, and (rules version
3) keep the visit in both delegations' calendars as one event per visit."""

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from domain.enums import CloseReason, NoticeKind, Party, PromptKind, PromptStatus, Stage
from domain.lifecycle.answers import VisitPlan
from domain.lifecycle.effects import SendEmail
from domain.lifecycle.refusals import InvalidMove
from domain.lifecycle.state import MatchState, Prompt, Visit


class VisitMoves:
    """The visit's part of :class:`domain.lifecycle.run.Run`."""

    s: MatchState
    at: datetime

    if TYPE_CHECKING:  # the rest of Run, which this part uses

        @property
        def v2(self) -> bool: ...
        @property
        def v3(self) -> bool: ...
        @property
        def today(self) -> date: ...
        def record(
            self, kind: str, summary: str, *, actor: str = "system", **data: Any
        ) -> None: ...
        def notice(self, kind: NoticeKind, party: Party, **context: Any) -> SendEmail: ...
        def finish(self, prompt: Prompt, status: PromptStatus) -> None: ...
        def withdraw_open(self) -> None: ...
        def close(self, reason: CloseReason, summary: str, *, actor: str = "system") -> None: ...
        def open_prompt(self, kind: PromptKind, party: Party, **context: Any) -> Prompt: ...

    def check_plan(self, plan: VisitPlan) -> None:
        today = self.today
        if plan.start <= today:
            raise InvalidMove(
                f"the visit must start after today ({today.isoformat()}), "
                f"not on {plan.start.isoformat()}",
                code="visit_starts_too_soon",
                today=today,
                start=plan.start,
            )

    def schedule_visit(self, plan: VisitPlan, *, actor: str, reason: str = "") -> None:
        for prompt in self.s.open_prompts():
            if prompt.kind in (PromptKind.VISIT_PROPOSAL, PromptKind.VISIT_CONFIRMATION):
                self.finish(prompt, PromptStatus.WITHDRAWN)
        clock = self.s.clock
        reminder = clock.begins(plan.start) - timedelta(days=self.s.policy.visit_reminder_days)
        self.s.visit = Visit(
            plan=plan,
            confirmed=True,
            reminder_at=reminder if reminder > self.at else None,
            ends_at=clock.begins(plan.end + timedelta(days=1)),
        )
        self.record(
            "visit_scheduled",
            f"{plan.format} visit {plan.start}–{plan.end}, delegation of {plan.delegation_size}"
            + (f": {reason}" if reason and self.v3 else ""),
            actor=actor,
            plan=plan.model_dump(mode="json"),
            **({"reason": reason} if reason and self.v3 else {}),
        )
        if self.v3:
            self.invite(plan, reason=reason, by_secretariat=reason != "")

    # -- the visit in the partners' calendars (rules version 3) -------------------------------
    def _invitation(self, method: str) -> dict[str, Any]:
        return {
            "uid": f"{self.s.match_id}-visit-{self.s.visit_events}",
            "sequence": self.s.visit_sequence,
            "method": method,
        }

    def invite(self, plan: VisitPlan, *, reason: str, by_secretariat: bool) -> None:
        """Email both delegations the visit as a calendar invitation (a change keeps its UID
        with a higher SEQUENCE; a visit after a cancelled one is a new event)."""
        s = self.s
        changed = s.visit_invited
        if changed:
            s.visit_sequence += 1
        else:
            s.visit_events, s.visit_sequence, s.visit_invited = s.visit_events + 1, 0, True
        for party in (Party.ADOPTER, Party.PROVIDER):
            self.notice(
                NoticeKind.VISIT_INVITATION,
                party,
                plan=plan.model_dump(mode="json"),
                invitation=self._invitation("REQUEST"),
                changed=changed,
                by_secretariat=by_secretariat,
                reason=reason,
            )

    def uninvite(self, plan: VisitPlan, *, why: str) -> None:
        """Withdraw the visit from the partners' calendars (METHOD:CANCEL), if it was sent."""
        s = self.s
        if not (self.v3 and s.visit_invited):
            return
        s.visit_sequence += 1
        s.visit_invited = False
        for party in (Party.ADOPTER, Party.PROVIDER):
            self.notice(
                NoticeKind.VISIT_CANCELLATION,
                party,
                plan=plan.model_dump(mode="json"),
                invitation=self._invitation("CANCEL"),
                reason=why,
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
            self.uninvite(plan, why=why)

    def visit_cancelled(self, reason: str, *, actor: str) -> None:
        self.withdraw_open()
        if self.s.visit is not None and self.s.visit.ends_at is not None:
            self.uninvite(self.s.visit.plan, why=reason)  # still ahead: off the calendars
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
