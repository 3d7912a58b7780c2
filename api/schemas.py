"""Schemas at the HTTP edge (the read views come from services/)."""

from pydantic import BaseModel, Field

from domain.model import ExpressionOfInterest
from services.bulk import BulkActionRequest, BulkItem, BulkResult
from services.views import (
    EmailRead,
    HistoryRead,
    LiveState,
    MatchDetail,
    MatchFilter,
    MatchList,
    MatchRead,
)

__all__ = [
    "BulkActionRequest",
    "BulkItem",
    "BulkResult",
    "EmailRead",
    "EoiAccepted",
    "EoiCreate",
    "ErrorResponse",
    "FieldError",
    "HistoryRead",
    "LiveState",
    "MatchDetail",
    "MatchFilter",
    "MatchList",
    "MatchRead",
]


class EoiCreate(ExpressionOfInterest):
    """An expression of interest as submitted by the Secretariat or a workshop form."""


class EoiAccepted(BaseModel):
    match_id: str
    workflow_id: str
    eoi_id: str
    created: bool = Field(description="false when this EOI had already been submitted")
    links: dict[str, str]


class FieldError(BaseModel):
    field: str
    message: str


class ErrorResponse(BaseModel):
    detail: str
    errors: list[FieldError] = Field(default_factory=list)
