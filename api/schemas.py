"""Schemas at the HTTP edge."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from domain.model import ExpressionOfInterest


class EoiCreate(ExpressionOfInterest):
    """An expression of interest as submitted by the Secretariat or a workshop form."""


class EoiAccepted(BaseModel):
    match_id: str
    workflow_id: str
    eoi_id: str
    created: bool = Field(description="false when this EOI had already been submitted")
    links: dict[str, str]


class HistoryRead(BaseModel):
    seq: int
    kind: str
    stage: str
    actor: str
    summary: str
    data: dict[str, Any]
    occurred_at: datetime


class EmailRead(BaseModel):
    kind: str
    recipient: str
    subject: str
    status: str
    message_id: str
    sent_at: datetime | None


class MatchRead(BaseModel):
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


class FieldError(BaseModel):
    field: str
    message: str


class ErrorResponse(BaseModel):
    detail: str
    errors: list[FieldError] = Field(default_factory=list)
