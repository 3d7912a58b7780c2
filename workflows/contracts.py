"""Input, result and query models of MatchLifecycle."""

from pydantic import BaseModel, Field

from domain.calendar import Calendar
from domain.enums import CloseReason, MatchStatus, Party, Stage
from domain.lifecycle.effects import SendEmail
from domain.lifecycle.imported import ImportedHistory
from domain.lifecycle.state import MatchState
from domain.model import ExpressionOfInterest
from domain.policy import TimingPolicy

TASK_QUEUE = "matchmaker"  # the one task queue workers poll and clients start on


class MatchLifecycleInput(BaseModel):
    eoi: ExpressionOfInterest
    policy: TimingPolicy = Field(default_factory=TimingPolicy)
    calendar: Calendar | None = Field(
        default=None, description="the stack's compressed calendar; None: real days"
    )
    state: MatchState | None = Field(default=None, description="carried by continue-as-new")
    imported: ImportedHistory | None = Field(
        default=None, description="a match under way when imported: start at its stage"
    )
    history_limit: int | None = Field(
        default=None, ge=100, description="continue-as-new past this many events (tests)"
    )
    emails: list[SendEmail] = Field(
        default_factory=list,
        description="emails still under way at continue-as-new, delivered again by the new run",
    )


class MatchLifecycleResult(BaseModel):
    match_id: str
    stage: Stage
    status: MatchStatus
    close_reason: CloseReason | None = None


class PromptView(BaseModel):
    id: str
    kind: str
    party: Party
    sends: int
    answer_by: str | None


class UpdateResult(BaseModel):
    """What every accepted update returns: where the match stands now."""

    stage: Stage
    status: MatchStatus
    close_reason: CloseReason | None
    waiting_on: list[Party]
    open_prompts: list[PromptView]

    @classmethod
    def of(cls, state: MatchState) -> "UpdateResult":
        return cls(
            stage=state.stage,
            status=state.status,
            close_reason=state.close_reason,
            waiting_on=state.waiting_on(),
            open_prompts=[
                PromptView(
                    id=p.id,
                    kind=p.kind,
                    party=p.party,
                    sends=p.sends,
                    answer_by=p.lapse_at.date().isoformat() if p.lapse_at else None,
                )
                for p in state.open_prompts()
            ],
        )
