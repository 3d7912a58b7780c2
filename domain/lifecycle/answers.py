"""What partners answer to each prompt (one model per prompt kind, told apart by ``kind``)."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from domain.enums import CheckInStatus, Exchange, OutcomeResult, PromptKind, VisitFormat
from domain.text import OptionalLine, RequiredText, Text, WebAddress

# The rules about several fields of an answer: a stable code (the error's ``type``, which a
# page translates) and the English sentence (the error's message, which the API shows).
ANSWER_RULES: dict[str, str] = {
    "needs_missing": "describe your needs when you confirm your interest",
    "visit_ends_before_start": "the visit must end on or after its first day",
    "visit_too_long": "a field visit lasts at most 60 days",
    "counter_terms": "a counter-proposal, and only a counter-proposal, carries new terms",
    "not_held_no_adaptation": "a visit that did not take place cannot lead to adaptation",
    "learned_missing": "say what the delegation learned",
    "support_missing": "say what support is needed from the provider",
}


def _broken(code: str) -> PydanticCustomError:
    return PydanticCustomError(code, ANSWER_RULES[code])


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
            raise _broken("needs_missing")
        return self


class ShareAnswer(_Answer):
    """The provider accepts to share its solution or declines."""

    kind: Literal[PromptKind.INTRODUCTION_PROVIDER] = PromptKind.INTRODUCTION_PROVIDER
    decision: Literal["accept", "decline"]
    exchange: Exchange = Exchange.FIELD_VISIT
    reason: Text = ""


class VisitPlan(_Answer):
    """Dates, format and delegation size of a field visit; where it happens (a venue and a
    city, or the meeting link of a virtual one), its agenda and the delegates' names."""

    start: date
    end: date
    format: VisitFormat
    delegation_size: int = Field(ge=1, le=100)
    venue: OptionalLine = ""
    city: OptionalLine = ""
    meeting_url: WebAddress = ""
    agenda: Text = ""
    delegates: Text = Field(default="", description="the delegates' names, one a line")

    def details(self) -> dict[str, str]:
        """The details given (venue, city, meeting link, agenda, delegates), by name."""
        names = ("venue", "city", "meeting_url", "agenda", "delegates")
        return {name: value for name in names if (value := getattr(self, name))}

    @model_validator(mode="after")
    def _ordered(self) -> "VisitPlan":
        if self.end < self.start:
            raise _broken("visit_ends_before_start")
        if (self.end - self.start).days > 60:
            raise _broken("visit_too_long")
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
            raise _broken("counter_terms")
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
            raise _broken("not_held_no_adaptation")
        if self.held and not self.learned:
            raise _broken("learned_missing")
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
            raise _broken("support_missing")
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
