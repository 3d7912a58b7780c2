"""The Secretariat's actions as forms: which fields each takes, how a sent form becomes the
rules' ``Action`` (validated by the same models as ``POST /api/matches/{id}/actions``), and
what the confirmation step shows."""

from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from domain.enums import CloseReason, Party, Stage, VisitFormat
from domain.lifecycle import events as ev

_ACTION: TypeAdapter[Any] = TypeAdapter(ev.Action)
FORM_ERROR = "_form"


@dataclass(frozen=True)
class FormField:
    name: str  # dotted for a nested field: ``contact.email``, ``plan.start``
    label: str
    kind: str = "text"  # text, textarea, number, date, select, checkbox, prompt
    choices: tuple[str, ...] = ()
    required: bool = True
    hint: str = ""


@dataclass(frozen=True)
class ActionForm:
    name: str  # in the URL, as the API names it
    kind: str  # the Action's ``kind``
    title: str
    explain: str
    fields: list[FormField] = field(default_factory=list)
    danger: bool = False


REASON = FormField("reason", "Reason (kept in the match's timeline)", "textarea")
PROMPT = FormField(
    "prompt_id", "Which question", "prompt", required=False, hint="every open question if none"
)
PLAN = [
    FormField("plan.start", "First day of the visit", "date"),
    FormField("plan.end", "Last day of the visit", "date"),
    FormField("plan.format", "Format", "select", tuple(f.value for f in VisitFormat)),
    FormField("plan.delegation_size", "People in the delegation", "number"),
    FormField("plan.venue", "Venue", required=False, hint="where the delegation meets"),
    FormField("plan.city", "City", required=False),
    FormField("plan.meeting_url", "Meeting link", "url", required=False, hint="a virtual visit"),
    FormField("plan.agenda", "Agenda", "textarea", required=False),
    FormField("plan.delegates", "Delegates", "textarea", required=False, hint="one name a line"),
]
CLOSE_REASONS = tuple(r.value for r in CloseReason if r not in (CloseReason.COMPLETED,))


def _doc(model: type) -> str:
    return " ".join((model.__doc__ or "").split())


FORMS: dict[str, ActionForm] = {
    form.name: form
    for form in [
        ActionForm("pause", "pause", "Pause", _doc(ev.Pause), [REASON]),
        ActionForm("resume", "resume", "Resume", _doc(ev.Resume)),
        ActionForm(
            "extend-deadline",
            "extend_deadline",
            "Extend a deadline",
            _doc(ev.ExtendDeadline),
            [FormField("days", "Days more (1 to 365)", "number"), PROMPT, REASON],
        ),
        ActionForm("resend", "resend", "Send a question again", _doc(ev.Resend), [PROMPT]),
        ActionForm(
            "note",
            "add_note",
            "Add a note",
            _doc(ev.AddNote),
            [FormField("text", "Note", "textarea")],
        ),  # fmt: skip
        ActionForm(
            "change-contact",
            "change_contact",
            "Change a contact",
            _doc(ev.ChangeContact),
            [
                FormField("party", "Whose contact", "select", (Party.ADOPTER, Party.PROVIDER)),
                FormField("contact.name", "New contact's name"),
                FormField("contact.email", "New contact's email address"),
                FormField(
                    "contact.language",
                    "Their language (ISO 639-1, e.g. en, fr, es, ru)",
                    required=False,
                    hint="en if none",
                ),  # fmt: skip
                REASON,
            ],
        ),
        ActionForm(
            "schedule-visit",
            "schedule_visit",
            "Schedule the field visit",
            _doc(ev.ScheduleVisit),
            [*PLAN, REASON],
        ),  # fmt: skip
        ActionForm(
            "cancel-visit",
            "cancel_visit",
            "Cancel the field visit",
            _doc(ev.CancelVisit),
            [REASON],
        ),  # fmt: skip
        ActionForm(
            "record-visit",
            "record_visit",
            "Record a visit that took place",
            _doc(ev.RecordVisit),
            [
                *PLAN,
                FormField("held", "The visit took place", "checkbox", required=False),
                FormField("report", "What the delegation learned", "textarea", required=False),
                FormField(
                    "proceed", "The adopter proceeds to adaptation", "checkbox", required=False
                ),
                REASON,
            ],
        ),
        ActionForm(
            "advance",
            "advance",
            "Move to a later stage",
            _doc(ev.Advance),
            [
                FormField(
                    "to",
                    "To the stage",
                    "select",
                    (Stage.FIELD_VISIT, Stage.ADAPTATION, Stage.OUTCOME),
                ),  # fmt: skip
                REASON,
            ],
        ),
        ActionForm(
            "close",
            "close",
            "Close the match",
            _doc(ev.Close),
            [
                FormField("reason", "Why", "select", CLOSE_REASONS),
                FormField("note", "Note", "textarea"),
            ],
            danger=True,
        ),
    ]
}


def values_of(form: ActionForm, sent: dict[str, str]) -> dict[str, str]:
    """The fields of the action as sent (trimmed; a checkbox is ``on`` or absent)."""
    return {f.name: sent.get(f.name, "").strip() for f in form.fields}


def action_of(form: ActionForm, values: dict[str, str]) -> tuple[Any, dict[str, str]]:
    """The action a form's values make, or None and the errors by field name (FORM_ERROR for
    what is about the whole form)."""
    data: dict[str, Any] = {"kind": form.kind}
    for f in form.fields:
        value: Any = values.get(f.name, "")
        if f.kind == "checkbox":
            value = value in ("on", "true", "yes")
        elif value == "":
            continue
        target = data
        *parents, leaf = f.name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    try:
        return _ACTION.validate_python(data), {}
    except ValidationError as exc:
        return None, _field_errors(form, exc)


def _field_errors(form: ActionForm, exc: ValidationError) -> dict[str, str]:
    names = {f.name for f in form.fields}
    errors: dict[str, str] = {}
    for error in exc.errors():
        path = ".".join(str(p) for p in error["loc"][1:])  # the first is the union's tag
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "this field is needed"
        name = path if path in names else FORM_ERROR
        if name == FORM_ERROR and path and path not in ("plan",):
            message = f"{path}: {message}"
        errors.setdefault(name, message)
    return errors


def summary_of(
    form: ActionForm, values: dict[str, str], prompts: dict[str, str]
) -> list[tuple[str, str]]:
    """What the confirmation step shows: each field's label and the value as a person reads it."""
    shown = []
    for f in form.fields:
        value = values.get(f.name, "")
        if f.kind == "checkbox":
            value = "yes" if value in ("on", "true", "yes") else "no"
        elif f.kind == "prompt":
            value = prompts.get(value, value) if value else "every open question"
        elif f.kind == "select":
            value = value.replace("_", " ")
        shown.append((f.label, value or "—"))
    return shown
