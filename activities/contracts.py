"""Input and result models of every activity (one each, so fields can be added safely)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from domain.enums import Party, PromptKind
from domain.model import Contact, ExpressionOfInterest


class HistoryEntry(BaseModel):
    """One line of a match's append-only history."""

    seq: int = Field(ge=1)
    kind: str
    stage: str
    actor: str
    summary: str
    data: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime


class RecordMatchInput(BaseModel):
    eoi: ExpressionOfInterest
    workflow_id: str
    stage: str
    status: str
    next_deadline: datetime | None
    first_entry: HistoryEntry


class RecordMatchResult(BaseModel):
    created: bool


class RecordHistoryInput(BaseModel):
    match_id: str
    entry: HistoryEntry
    stage: str
    status: str
    next_deadline: datetime | None
    close_reason: str | None = None


class RecordHistoryResult(BaseModel):
    appended: bool


class SendPromptInput(BaseModel):
    business_key: str = Field(description="match/stage/prompt/recipient/round: one email per key")
    match_id: str
    kind: PromptKind
    party: Party
    recipient: Contact
    eoi: ExpressionOfInterest
    answer_within_days: int = 7
    extra: dict[str, Any] = Field(default_factory=dict)


class SendPromptResult(BaseModel):
    message_id: str
    already_sent: bool
