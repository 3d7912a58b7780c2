"""What the read side returns: a match, its history and its emails."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.enums import Party
from domain.lifecycle.state import MatchState
from domain.policy import TimingPolicy
from store.outbox import OutboxStatus
from store.queries import (
    COUNT_CAP,
    MAX_LIMIT,
    MAX_LIST_OFFSET,
    MAX_OFFSET,
    MatchFilter,
    MatchSort,
)
from workflows.contracts import PromptView, UpdateResult

__all__ = [
    "MAX_LIMIT",
    "MAX_LIST_OFFSET",
    "MAX_OFFSET",
    "EmailRead",
    "HistoryRead",
    "LiveState",
    "MatchDetail",
    "MatchFilter",
    "MatchList",
    "MatchRead",
    "MatchSort",
    "UpdateResult",
]


class _View(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class HistoryRead(_View):
    seq: int
    kind: str
    stage: str
    actor: str
    summary: str
    data: dict[str, Any]
    occurred_at: datetime


class EmailRead(_View):
    kind: str
    recipient: str
    subject: str
    status: OutboxStatus = Field(
        description="sending: an attempt is talking to the mail server; pending: deferred, "
        "retried; sent; bounced: refused for good; failed: given up (cannot be built, or not "
        "delivered within the retry bound)"
    )
    attempts: int
    last_error: str | None
    message_id: str
    sent_at: datetime | None


class MatchRead(_View):
    id: str
    eoi_id: str
    workflow_id: str
    workshop_id: str
    solution_id: str
    focus_area: str
    provider_country: str
    adopter_country: str
    summary: str
    stage: str
    status: str
    close_reason: str | None
    waiting_on: list[Party] | None = Field(
        description="whom the match waits on; null: not recorded yet (a match recorded before "
        "the read model kept it, until its next change)"
    )
    needs_attention: bool
    next_deadline: datetime | None
    created_at: datetime
    updated_at: datetime

    @field_validator("waiting_on", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        """The read model keeps ``adopter,provider``."""
        if isinstance(value, str):
            return [party for party in value.split(",") if party]
        return value


class LivePrompt(PromptView):
    opened_at: datetime
    reminders_due: list[datetime]
    escalate_at: datetime | None
    lapse_at: datetime | None


class LiveState(BaseModel):
    """Where the workflow holds the match now (its full state: ``/state``)."""

    stage: str
    status: str
    close_reason: str | None
    paused_at: datetime | None
    waiting_on: list[Party]
    attention: dict[str, str] = Field(description="why the match needs attention, by cause")
    next_deadline: datetime | None
    open_prompts: list[LivePrompt]
    policy: TimingPolicy = Field(description="the timing the match started with and keeps")
    rules_version: int

    @classmethod
    def of(cls, state: MatchState) -> "LiveState":
        return cls(
            stage=state.stage,
            status=state.status,
            close_reason=state.close_reason,
            paused_at=state.paused_at,
            waiting_on=state.waiting_on_anyone(),
            attention=state.attention,
            next_deadline=state.next_deadline,
            open_prompts=[
                LivePrompt(
                    id=p.id,
                    kind=p.kind,
                    party=p.party,
                    sends=p.sends,
                    answer_by=p.lapse_at.date().isoformat() if p.lapse_at else None,
                    opened_at=p.opened_at,
                    reminders_due=p.reminders_due,
                    escalate_at=None if p.escalated else p.escalate_at,
                    lapse_at=p.lapse_at,
                )
                for p in state.open_prompts()
            ],
            policy=state.policy,
            rules_version=state.rules_version,
        )


class MatchDetail(MatchRead):
    live: LiveState | None = Field(
        description="the workflow's own state; null when it could not be asked (see note)"
    )
    note: str | None = Field(
        default=None, description="why the live state is missing: the rest is the read model"
    )
    history: list[HistoryRead] = Field(description="the whole timeline, oldest first")
    emails: list[EmailRead]


class MatchList(BaseModel):
    items: list[MatchRead]
    total: int = Field(
        description=f"how many matches pass the filters; counted up to {COUNT_CAP:,} past the "
        "end of this page, so when total_is_lower_bound is true at least this many pass "
        "(show it as e.g. '1,050+')"
    )
    total_is_lower_bound: bool = Field(
        default=False,
        description="true: counting stopped at the cap, more matches may pass than total",
    )
    limit: int
    offset: int
    next: str | None = Field(
        default=None,
        description="pass as after= (same filters and sort) for the next page; null on the "
        "last page. Opaque: a cursor edited, truncated or made for other filters or another "
        "sort is refused with 422",
    )
