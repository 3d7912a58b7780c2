"""Everything that can happen to a match: partner answers, timers, Secretariat actions."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.enums import CloseReason, Party, Stage
from domain.lifecycle.answers import Answer, CheckInAnswer, VisitPlan, VisitReport
from domain.model import Contact
from domain.text import Actor, Reason, RequiredText, Text

# Prompt ids are made by the rules ("introduction_adopter-1"): anything else names no prompt.
PromptId = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z_]+-[0-9]+$", max_length=64)
]


ENTERED_BY = (
    "who entered the answer on the partner's behalf; the API sets it to the user of the key "
    "that sent it (a value in the body is replaced)"
)
BY = (
    "who of the Secretariat acted; the API sets it to the user of the key that sent the "
    "action (a value in the body is replaced)"
)


class _Event(BaseModel):
    """A fact; when it happened is passed beside it (the workflow's clock)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Answered(_Event):
    """A partner answered an open prompt."""

    kind: Literal["answered"] = "answered"
    prompt_id: PromptId
    party: Party
    answer: Answer
    entered_by: Actor | None = Field(default=None, description=ENTERED_BY)


class ReportProgress(_Event):
    """The adopter tells how the adaptation goes, asked or not (rules version 2).

    While a check-in is open, the report is its answer.
    """

    kind: Literal["report_progress"] = "report_progress"
    party: Literal[Party.ADOPTER] = Party.ADOPTER
    report: CheckInAnswer
    entered_by: Actor | None = Field(default=None, description=ENTERED_BY)


class LinkRequested(_Event):
    """A partner whose link expired asks for a fresh one for an open prompt (rules version 2);
    the prompt is emailed again, at most once a day."""

    kind: Literal["link_requested"] = "link_requested"
    prompt_id: PromptId
    party: Literal[Party.ADOPTER, Party.PROVIDER]


class HelpRequested(_Event):
    """A partner asks the Secretariat for help from their match page (rules version 2)."""

    kind: Literal["help_requested"] = "help_requested"
    party: Literal[Party.ADOPTER, Party.PROVIDER]
    message: RequiredText


PartnerRequest = Annotated[LinkRequested | HelpRequested, Field(discriminator="kind")]
"""What a partner asks from their own pages (the input of the workflow's ``partner_request``)."""


class Tick(_Event):
    """Time passed: apply every timer due by now."""

    kind: Literal["tick"] = "tick"


class DeliveryFailed(_Event):
    """An email was refused for good (SMTP 5xx)."""

    kind: Literal["delivery_failed"] = "delivery_failed"
    party: Party
    recipient: str
    error: str
    prompt_id: PromptId | None = None


class RecordFailed(_Event):
    """The database refused to record a decision (its history, or a case study): retrying
    could not help. The workflow holds the decision; the read model lacks it."""

    kind: Literal["record_failed"] = "record_failed"
    what: str = Field(description="what was not recorded, e.g. 'the note added by ana'")
    error: str


class _Action(_Event):
    by: Actor = Field(default="secretariat", description=BY)


class Pause(_Action):
    """Pause the reminders, escalations and lapses of the match (an election, a change of
    government) until it is resumed."""

    kind: Literal["pause"] = "pause"
    reason: Reason


class Resume(_Action):
    """Resume a paused match: every open deadline moves by the time it was paused."""

    kind: Literal["resume"] = "resume"


class ExtendDeadline(_Action):
    """Give the named open prompt, or every open prompt with a deadline, 1 to 365 more days; in
    adaptation (rules version 2) with no deadline open, move the next check-in instead."""

    kind: Literal["extend_deadline"] = "extend_deadline"
    days: int = Field(ge=1, le=365)
    prompt_id: PromptId | None = None
    reason: Reason


class ChangeContact(_Action):
    """Replace one party's contact (someone left the ministry); its open prompts are emailed
    to the new contact."""

    kind: Literal["change_contact"] = "change_contact"
    party: Literal[Party.ADOPTER, Party.PROVIDER]
    contact: Contact
    reason: Reason


class Advance(_Action):
    """Move the match forward to a later stage (the partners moved on outside Matchmaker);
    matches never go back."""

    kind: Literal["advance"] = "advance"
    to: Literal[Stage.FIELD_VISIT, Stage.ADAPTATION, Stage.OUTCOME]
    reason: Reason


class Close(_Action):
    """Close the match with a reason and a note; its open prompts and deadlines end."""

    kind: Literal["close"] = "close"
    reason: Literal[
        CloseReason.DECLINED,
        CloseReason.LAPSED,
        CloseReason.NOT_PURSUED,
        CloseReason.CANCELLED,
        CloseReason.ABANDONED,
        CloseReason.WITHDRAWN,
    ]
    note: Reason


class AddNote(_Action):
    """Write a note on the match's timeline; it also clears the attention of a step that
    could not be recorded."""

    kind: Literal["add_note"] = "add_note"
    text: Reason


class Resend(_Action):
    """Send the named open prompt, or every open prompt, again."""

    kind: Literal["resend"] = "resend"
    prompt_id: PromptId | None = None


class ScheduleVisit(_Action):
    """Fix the field visit's dates, format and delegation on the partners' behalf (in the
    field_visit stage)."""

    kind: Literal["schedule_visit"] = "schedule_visit"
    plan: VisitPlan
    reason: Reason


class CancelVisit(_Action):
    """Cancel the field visit being planned or scheduled."""

    kind: Literal["cancel_visit"] = "cancel_visit"
    reason: Reason


class RecordVisit(_Action):
    """A field visit that already took place, as the Secretariat learned of it (rules version 2).

    Its report (held, what was learned, whether the adopter proceeds) moves the match on as
    the adopter's visit report would.
    """

    kind: Literal["record_visit"] = "record_visit"
    plan: VisitPlan
    held: bool
    report: Text = Field(default="", description="what the delegation learned")
    proceed: bool = False
    reason: Reason

    @model_validator(mode="after")
    def _consistent(self) -> "RecordVisit":
        if not self.held and self.proceed:
            raise ValueError("a visit that did not take place cannot lead to adaptation")
        if self.held and not self.report:
            raise ValueError("say what the delegation learned")
        return self

    def visit_report(self) -> VisitReport:
        return VisitReport(held=self.held, proceed=self.proceed, learned=self.report)


_ACTIONS = (
    Pause
    | Resume
    | ExtendDeadline
    | ChangeContact
    | Advance
    | Close
    | AddNote
    | Resend
    | ScheduleVisit
    | CancelVisit
    | RecordVisit
)

Action = Annotated[_ACTIONS, Field(discriminator="kind")]
"""A Secretariat action, told apart by ``kind`` (the input of the workflow's ``act`` update)."""

Event = Annotated[
    Answered
    | ReportProgress
    | LinkRequested
    | HelpRequested
    | Tick
    | DeliveryFailed
    | RecordFailed
    | _ACTIONS,
    Field(discriminator="kind"),
]
"""Anything that can happen to a match."""
