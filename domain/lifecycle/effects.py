"""What the rules ask the outside world to do; the workflow performs them through activities."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.enums import NoticeKind, Party, PromptKind
from domain.lifecycle.state import HistoryEntry, MatchState


class SendEmail(BaseModel):
    """Email one party; ``key`` makes the email unique (match/stage/what/recipient/round)."""

    effect: Literal["send_email"] = "send_email"
    key: str
    template: PromptKind | NoticeKind
    party: Party
    recipient_email: str | None = Field(description="None: the Secretariat inbox from settings")
    recipient_name: str = "Network Secretariat"
    recipient_language: str = "en"
    prompt_id: str | None = None
    round: int = 1
    context: dict[str, Any] = Field(default_factory=dict)


class DraftCaseStudy(BaseModel):
    """Draft a case study; the rules write its text (the activity may render it again)."""

    effect: Literal["draft_case_study"] = "draft_case_study"
    match_id: str
    title: str = ""
    body: str = Field(default="", description="Markdown")


class Decision(BaseModel):
    """The new state and the effects to perform, history first."""

    state: MatchState
    history: list[HistoryEntry] = Field(default_factory=list)
    emails: list[SendEmail] = Field(default_factory=list)
    case_study: DraftCaseStudy | None = None

    @property
    def changed(self) -> bool:
        return bool(self.history or self.emails or self.case_study)
