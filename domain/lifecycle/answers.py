"""What partners answer to each prompt (one model per prompt kind, told apart by ``kind``)."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.enums import CheckInStatus, Exchange, OutcomeResult, PromptKind, VisitFormat
from domain.text import RequiredText, Text


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InterestAnswer(_Answer):
    """The adopter confirms (and describes its needs) or declines."""

    kind: Literal[PromptKind.INTRODUCTION_ADOPTER] = PromptKind.INTRODUCTION_ADOPTER
    decision: Literal["confirm", "decline"]
    needs: Text = ""
    exchange: Exchange = Exchange.FIELD_VISIT
    reason: Text = ""

    @model_validator(mode="after")
    def _explained(self) -> "InterestAnswer":
        if self.decision == "confirm" and not self.needs:
            raise ValueError("describe your needs when you confirm your interest")
        return self


class ShareAnswer(_Answer):
    """The provider accepts to share its solution or declines."""

    kind: Literal[PromptKind.INTRODUCTION_PROVIDER] = PromptKind.INTRODUCTION_PROVIDER
    decision: Literal["accept", "decline"]
    exchange: Exchange = Exchange.FIELD_VISIT
    reason: Text = ""


class VisitPlan(_Answer):
    """Dates, format and delegation size of a field visit."""

    start: date
    end: date
    format: VisitFormat
    delegation_size: int = Field(ge=1, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> "VisitPlan":
        if self.end < self.start:
            raise ValueError("the visit must end on or after its first day")
        if (self.end - self.start).days > 60:
            raise ValueError("a field visit lasts at most 60 days")
        return self

    @property
    def a_visit(self) -> str:
        """Return "an in-person visit" or "a virtual visit"."""
        return "an in-person visit" if self.format == VisitFormat.IN_PERSON else "a virtual visit"


class VisitProposal(_Answer):
    kind: Literal[PromptKind.VISIT_PROPOSAL] = PromptKind.VISIT_PROPOSAL
    plan: VisitPlan


class VisitConfirmation(_Answer):
    """The other party confirms the proposed visit, proposes other terms, or cancels."""

    kind: Literal[PromptKind.VISIT_CONFIRMATION] = PromptKind.VISIT_CONFIRMATION
    decision: Literal["confirm", "counter", "cancel"]
    counter: VisitPlan | None = None
    reason: Text = ""

    @model_validator(mode="after")
    def _counter_has_terms(self) -> "VisitConfirmation":
        if (self.decision == "counter") != (self.counter is not None):
            raise ValueError("a counter-proposal, and only a counter-proposal, carries new terms")
        return self


class VisitReport(_Answer):
    """After the visit: did it take place, what was learned, does the adopter proceed."""

    kind: Literal[PromptKind.VISIT_REPORT] = PromptKind.VISIT_REPORT
    held: bool
    proceed: bool = False
    learned: Text = ""

    @model_validator(mode="after")
    def _consistent(self) -> "VisitReport":
        if not self.held and self.proceed:
            raise ValueError("a visit that did not take place cannot lead to adaptation")
        if self.held and not self.learned:
            raise ValueError("say what the delegation learned")
        return self


class AdaptationPlanAnswer(_Answer):
    kind: Literal[PromptKind.ADAPTATION_PLAN] = PromptKind.ADAPTATION_PLAN
    customisations: RequiredText
    target_pilot_date: date


class CheckInAnswer(_Answer):
    kind: Literal[PromptKind.CHECK_IN] = PromptKind.CHECK_IN
    status: CheckInStatus
    note: Text = ""
    support_needed: Text = ""

    @model_validator(mode="after")
    def _support_named(self) -> "CheckInAnswer":
        if self.status == CheckInStatus.BLOCKED and not self.support_needed:
            raise ValueError("say what support is needed from the provider")
        return self


class OutcomeReport(_Answer):
    """The adopter's result, impact figures (a2i's time, cost and visits saved) and consent."""

    kind: Literal[PromptKind.OUTCOME_REPORT] = PromptKind.OUTCOME_REPORT
    result: OutcomeResult
    people_reached: int = Field(ge=0)
    time_saved_days: float = Field(ge=0, description="per citizen per service")
    cost_saved_usd: float = Field(ge=0, description="per citizen per service")
    visits_saved: float = Field(ge=0, description="per citizen per service")
    lessons: Text = ""
    consent_to_publish: bool


class OutcomeConfirmation(_Answer):
    kind: Literal[PromptKind.OUTCOME_CONFIRMATION] = PromptKind.OUTCOME_CONFIRMATION
    confirmed: bool
    notes: Text = ""


Answer = Annotated[
    InterestAnswer
    | ShareAnswer
    | VisitProposal
    | VisitConfirmation
    | VisitReport
    | AdaptationPlanAnswer
    | CheckInAnswer
    | OutcomeReport
    | OutcomeConfirmation,
    Field(discriminator="kind"),
]
