"""The working copy one decision mutates, with the moves every rule shares."""

from datetime import UTC, date, datetime, time, timedelta
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
from domain.lifecycle.case_study import render_case_study
from domain.lifecycle.copying import working_copy
from domain.lifecycle.effects import Decision, DraftCaseStudy, SendEmail
from domain.lifecycle.refusals import InvalidMove
from domain.lifecycle.state import HISTORY_KEPT, HistoryEntry, MatchState, Prompt
from domain.lifecycle.visits import VisitMoves

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


class Run(VisitMoves):
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

    @property
    def v3(self) -> bool:
        """The match follows rules version 3 or later: its stack's calendar, partners told how
        it ended, one escalation per moment, visits as calendar invitations."""
        return self.s.rules_version >= 3

    @property
    def today(self) -> date:
        """The calendar's date now (real days, or the stack's compressed calendar)."""
        return self.s.clock.today(self.at)

    def calendar_days(self, count: float) -> timedelta:
        """``count`` days the Secretariat or a partner names, as a real duration."""
        return self.s.clock.days(count) if self.v3 else timedelta(days=count)

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
                    "answer_by": (
                        self.s.clock.today(prompt.lapse_at).isoformat() if prompt.lapse_at else None
                    ),
                    **self._calendar_context(),
                },
            )
        )

    def _calendar_context(self) -> dict[str, Any]:
        """On a compressed calendar, the email counts days left from the calendar's today."""
        if self.s.calendar is None:
            return {}
        return {"today": self.today.isoformat()}

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
        reminders: tuple[float, ...] | None = None,
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
            if self.v3:  # the partners are told too, each in their language
                declined_by = data.get("party") if reason == CloseReason.DECLINED else None
                for party in (Party.ADOPTER, Party.PROVIDER):
                    self.notice(
                        NoticeKind.MATCH_CLOSED,
                        party,
                        reason=reason,
                        declined_by=str(declined_by) if declined_by else None,
                    )

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
