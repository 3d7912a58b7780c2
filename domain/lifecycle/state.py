"""The state of one match, as the transition function sees it."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, computed_field

from domain.calendar import REAL_DAYS, Calendar
from domain.enums import CloseReason, MatchStatus, Party, PromptKind, PromptStatus, Stage
from domain.lifecycle.answers import AdaptationPlanAnswer, OutcomeReport, VisitPlan
from domain.model import Contact, ExpressionOfInterest
from domain.policy import TimingPolicy

HISTORY_KEPT = 200  # entries carried in workflow state; the database keeps all of them

# The rules a match follows are chosen once, when it starts, and kept for its whole life (also
# across continue-as-new): a rule change ships as a new version, so matches started under an
# older one replay and behave as they always did. State recorded before versions existed
# reads as version 1. The recipe: docs/lifecycle.md, "Changing the rules".
RULES_VERSION = 3  # the version new matches start with
RULES_VERSIONS = (1, 2, 3)


class HistoryEntry(BaseModel):
    """One line of a match's append-only history."""

    seq: int = Field(ge=1)
    kind: str
    stage: str
    actor: str
    summary: str
    data: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime


class Prompt(BaseModel):
    """A question put to one party, with its own reminders, escalation and lapse."""

    id: str
    kind: PromptKind
    party: Party
    stage: Stage
    opened_at: datetime
    status: PromptStatus = PromptStatus.OPEN
    sends: int = Field(default=1, description="emails sent for it: first send, reminders, resends")
    reminders_due: list[datetime] = Field(default_factory=list)
    escalate_at: datetime | None = None
    lapse_at: datetime | None = None
    escalated: bool = False
    escalations: int = 0
    closed_at: datetime | None = None
    link_sent_at: datetime | None = Field(
        default=None, description="when a partner last asked for a fresh link (rules v2)"
    )
    context: dict[str, Any] = Field(default_factory=dict, description="what the email shows")
    answer: dict[str, Any] | None = None

    @property
    def is_open(self) -> bool:
        return self.status == PromptStatus.OPEN

    def timers(self) -> list[datetime]:
        """Return the pending timer instants of an open prompt."""
        if not self.is_open:
            return []
        escalate = None if self.escalated else self.escalate_at
        return [*self.reminders_due, *(t for t in (escalate, self.lapse_at) if t)]


class Visit(BaseModel):
    """The agreed field visit; its reminder and end are timers while it is ahead."""

    plan: VisitPlan
    confirmed: bool = False
    reminder_at: datetime | None = None
    reminder_sent: bool = False
    ends_at: datetime | None = None
    # rules version 2 on: what became of it (version 1 leaves these at their defaults)
    held: bool | None = Field(default=None, description="None: no report says")
    learned: str = ""
    cancelled: bool = Field(default=False, description="called off when the match moved on")
    recorded_by: str | None = Field(default=None, description="the Secretariat recorded it")

    def pending(self) -> list[datetime]:
        """Return the visit's timers still to fire (reminder, end)."""
        if not self.confirmed:
            return []
        reminder = None if self.reminder_sent else self.reminder_at
        return [t for t in (reminder, self.ends_at) if t]


class MatchState(BaseModel):
    """Everything the rules need; carried across continue-as-new."""

    match_id: str
    rules_version: int = Field(default=1, ge=1, le=RULES_VERSION)
    eoi: ExpressionOfInterest
    policy: TimingPolicy
    calendar: Calendar | None = Field(
        default=None, description="the stack's compressed calendar (rules v3); None: real days"
    )
    contacts: dict[Party, Contact]
    stage: Stage = Stage.FOLLOW_UP
    status: MatchStatus = MatchStatus.ACTIVE
    close_reason: CloseReason | None = None
    closed_by: str | None = None
    started_at: datetime
    paused_at: datetime | None = None
    prompts: list[Prompt] = Field(default_factory=list)
    prompt_seq: int = 0
    notice_seq: int = 0
    history: list[HistoryEntry] = Field(default_factory=list)
    history_seq: int = 0
    attention: dict[str, str] = Field(default_factory=dict, description="why it needs attention")
    exchange: dict[Party, str] = Field(default_factory=dict)
    visit: Visit | None = None
    # rules version 3: the visit as an event in the partners' calendars (RFC 5545)
    visit_events: int = Field(default=0, description="calendar events made (each its own UID)")
    visit_sequence: int = Field(default=0, description="SEQUENCE of the current event")
    visit_invited: bool = Field(default=False, description="its invitation stands")
    reschedules: int = 0
    plan: AdaptationPlanAnswer | None = None
    next_checkin_at: datetime | None = None
    checkins_opened: int = 0
    missed_checkins: int = 0
    outcome: OutcomeReport | None = None
    provider_notes: str = Field(default="", description="the provider's, on the outcome (v2)")
    notes: list[str] = Field(default_factory=list)

    @classmethod
    def opened(
        cls,
        eoi: ExpressionOfInterest,
        policy: TimingPolicy,
        at: datetime,
        *,
        rules_version: int,
        calendar: Calendar | None = None,
    ) -> "MatchState":
        """The state of a match that opens now: its EOI's contacts, nothing asked yet (a
        compressed calendar is kept from rules version 3 on)."""
        return cls(
            match_id=eoi.match_id,
            rules_version=rules_version,
            eoi=eoi,
            policy=policy,
            calendar=calendar if rules_version >= 3 and calendar and calendar.compressed else None,
            contacts={Party.ADOPTER: eoi.adopter.contact, Party.PROVIDER: eoi.solution.contact},
            started_at=at,
        )

    @property
    def closed(self) -> bool:
        return self.stage == Stage.CLOSED

    @property
    def clock(self) -> Calendar:
        """The calendar its dates live on (real days unless the stack compresses them)."""
        return self.calendar or REAL_DAYS

    def open_prompts(self) -> list[Prompt]:
        return [p for p in self.prompts if p.is_open]

    def prompt(self, prompt_id: str) -> Prompt | None:
        return next((p for p in self.prompts if p.id == prompt_id), None)

    def waiting_on(self) -> list[Party]:
        """Return the parties that have an unanswered prompt."""
        return sorted({p.party for p in self.open_prompts()})

    def needs_attention(self) -> bool:
        """Whether the Secretariat has something to look at (an escalation, a failed email)."""
        return bool(self.attention) and not self.closed

    def waiting_on_anyone(self) -> list[Party]:
        """Return whom the match waits on: the parties with an unanswered prompt, and the
        Secretariat while the match needs attention or is paused (only it can resume it)."""
        parties = set(self.waiting_on())
        if not self.closed and (self.attention or self.paused_at is not None):
            parties.add(Party.SECRETARIAT)
        return sorted(parties)

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy allows no decorator over @property
    @property
    def next_deadline(self) -> datetime | None:
        """When a timer next fires (reminder, escalation, lapse, visit, check-in)."""
        return next_timer(self)

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy allows no decorator over @property
    @property
    def waiting_for(self) -> list[Party]:
        return self.waiting_on()


def next_timer(state: MatchState) -> datetime | None:
    """Return when the rules next need a Tick, or None when only an event can move the match."""
    if state.closed:
        return None
    instants: list[datetime] = []
    if state.paused_at is None:
        for prompt in state.open_prompts():
            instants += prompt.timers()
        if state.next_checkin_at:
            instants.append(state.next_checkin_at)
    if state.visit:
        instants += state.visit.pending()
    return min(instants) if instants else None
