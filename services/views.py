"""What the read side returns: a match, its history and its emails."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from store.writes import OutboxStatus
from workflows.contracts import UpdateResult

__all__ = [
    "EmailRead",
    "HistoryRead",
    "MatchDetail",
    "MatchList",
    "MatchRead",
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
    focus_area: str
    provider_country: str
    adopter_country: str
    summary: str
    stage: str
    status: str
    close_reason: str | None
    next_deadline: datetime | None
    created_at: datetime
    updated_at: datetime


class MatchDetail(MatchRead):
    history: list[HistoryRead]
    emails: list[EmailRead]


class MatchList(BaseModel):
    items: list[MatchRead]
    total: int
    limit: int
    offset: int
