"""Input, result and query models of MatchLifecycle."""

from datetime import datetime

from pydantic import BaseModel, Field

from activities.contracts import HistoryEntry
from domain.enums import CloseReason, MatchStatus, Stage
from domain.model import ExpressionOfInterest
from domain.policy import TimingPolicy

TASK_QUEUE = "matchmaker"  # the one task queue workers poll and clients start on


class MatchLifecycleInput(BaseModel):
    eoi: ExpressionOfInterest
    policy: TimingPolicy = Field(default_factory=TimingPolicy)


class MatchLifecycleResult(BaseModel):
    match_id: str
    stage: Stage
    status: MatchStatus
    close_reason: CloseReason | None = None


class MatchState(BaseModel):
    """What the ``state`` query returns: everything an operator needs to see a match."""

    match_id: str
    eoi: ExpressionOfInterest
    stage: Stage
    status: MatchStatus
    close_reason: CloseReason | None = None
    next_deadline: datetime | None = None
    started_at: datetime
    policy: TimingPolicy
    history: list[HistoryEntry] = Field(default_factory=list)
