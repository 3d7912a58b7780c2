"""Input and result models of every activity (one each, so fields can be added safely)."""

from datetime import datetime

from pydantic import BaseModel, Field

from domain.lifecycle.effects import SendEmail
from domain.lifecycle.state import HistoryEntry, MatchState
from domain.model import ExpressionOfInterest

__all__ = [
    "DraftCaseStudyInput",
    "DraftCaseStudyResult",
    "HistoryEntry",
    "MarkUndeliverableInput",
    "MarkUndeliverableResult",
    "MatchSnapshot",
    "RecordHistoryInput",
    "RecordHistoryResult",
    "RecordMatchInput",
    "RecordMatchResult",
    "SendEmailInput",
    "SendEmailResult",
]


class MatchSnapshot(BaseModel):
    """The current position of a match, mirrored into the read model."""

    stage: str
    status: str
    next_deadline: datetime | None = None
    close_reason: str | None = None
    # None: sent by a workflow that did not know them yet (leave the read model's as they are)
    waiting_on: list[str] | None = Field(
        default=None, description="adopter, provider, secretariat: whom the match waits on"
    )
    needs_attention: bool | None = None


class RecordMatchInput(BaseModel):
    eoi: ExpressionOfInterest
    workflow_id: str
    snapshot: MatchSnapshot
    entries: list[HistoryEntry]


class RecordMatchResult(BaseModel):
    created: bool


class RecordHistoryInput(BaseModel):
    match_id: str
    snapshot: MatchSnapshot
    entries: list[HistoryEntry]


class RecordHistoryResult(BaseModel):
    appended: int


class SendEmailInput(BaseModel):
    match_id: str
    eoi: ExpressionOfInterest
    email: SendEmail


class SendEmailResult(BaseModel):
    message_id: str
    already_sent: bool


class DraftCaseStudyInput(BaseModel):
    state: MatchState
    title: str = Field(default="", description="rendered by the rules; empty from older runs")
    body: str = ""


class MarkUndeliverableInput(BaseModel):
    business_key: str
    error: str


class MarkUndeliverableResult(BaseModel):
    already_sent: bool


class DraftCaseStudyResult(BaseModel):
    case_study_id: int
    created: bool
