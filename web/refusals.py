"""The rules' refusals and an answer's validation errors in the reader's language.

The domain gives each refusal a stable code with parameters (domain/lifecycle/refusals.py
REFUSALS, domain/lifecycle/answers.py ANSWER_RULES) and keeps its English sentence for the API
and the Secretariat; a partner's page says it from here, through the pages' catalog. Every code
has a message (tests/web/test_refusal_messages.py); a refusal with no code (a workflow that
sent none) gets a general one.
"""

from datetime import datetime
from typing import Any

from services.errors import MoveRefused
from web.i18n import N_, Said

# A refusal of the rules, by its code, as a partner (or anyone on a page) reads it.
REFUSAL_MESSAGES = {
    "no_such_prompt": N_("This question is not part of this match."),
    "prompt_not_open": N_("This question no longer needs an answer: %(why)s."),
    "prompt_of_other_party": N_("This question is for the %(party)s."),
    "prompt_of_other_kind": N_("This answer does not fit the question asked."),
    "needs_rules_v2": N_(
        "This match follows earlier rules (version %(rules_version)s) that do not offer this: please reply to one of our emails instead."
    ),
    "progress_outside_adaptation": N_(
        "Progress can only be reported while the solution is being adapted; the match is at the stage: %(stage)s."
    ),
    "visit_starts_too_soon": N_("The visit must start after today (%(today)s), not on %(start)s."),
    "fresh_link_too_soon": N_(
        "A fresh link was sent on %(sent_at)s; another can be sent from %(again)s."
    ),
    "match_closed": N_("This match is closed (%(reason)s), so nothing can change it any more."),
    "back_in_time": N_(
        "Something else happened on this match at the same moment: please send the form again."
    ),
    "unknown_action": N_("Matchmaker does not know this action."),
    "already_paused": N_("Reminders are already paused (since %(since)s)."),
    "not_paused": N_("Reminders are not paused."),
    "prompt_has_no_deadline": N_("This question has no deadline to extend."),
    "no_deadline_to_extend": N_("No open question has a deadline to extend."),
    "contact_taken": N_(
        "This address is the contact of the %(party)s: the two contacts must differ."
    ),
    "contact_unchanged": N_("This is already the contact of the %(party)s."),
    "already_in_stage": N_("The match is already at the stage: %(stage)s."),
    "cannot_go_back": N_("A match only moves forward: it cannot go back from %(stage)s to %(to)s."),
    "nothing_to_resend": N_("No open question can be sent again."),
    "visit_outside_field_visit": N_(
        "A visit can only be scheduled at the field visit stage; the match is at the stage: %(stage)s."
    ),
    "visit_report_awaited": N_("The visit has taken place and its report is awaited."),
    "nothing_to_cancel": N_(
        "No visit is being planned or scheduled, so there is nothing to cancel."
    ),
    "record_visit_stage": N_(
        "A visit can only be recorded at the follow-up or field visit stage; the match is at the stage: %(stage)s."
    ),
    "recorded_visit_not_ended": N_(
        "A recorded visit must have ended before today (%(today)s), not on %(end)s."
    ),
}
REFUSED = N_("Matchmaker could not take this: please check the match and try again.")

# A rule of an answer about several fields, by its code, and the field it is shown beside.
ANSWER_RULE_MESSAGES = {
    "needs_missing": (N_("Describe your needs when you confirm your interest."), "needs"),
    "visit_ends_before_start": (N_("The visit must end on or after its first day."), "end"),
    "visit_too_long": (N_("A field visit lasts at most 60 days."), "end"),
    "counter_terms": (
        N_("A counter-proposal, and only a counter-proposal, carries new terms."),
        "decision",
    ),
    "not_held_no_adaptation": (
        N_("A visit that did not take place cannot lead to adaptation."),
        "proceed",
    ),
    "learned_missing": (N_("Say what the delegation learned."), "learned"),
    "support_missing": (N_("Say what support is needed from the provider."), "support_needed"),
}

# What a form field's value can get wrong (pydantic's error types), in words a partner can act on.
_REQUIRED = N_("Please fill in this field.")
_CHOOSE = N_("Please choose one of the options.")
_DATE = N_("Please enter a date (for example 2026-03-31).")
_WHOLE = N_("Please enter a whole number.")
_NUMBER = N_("Please enter a number.")
_YES_NO = N_("Please answer yes or no.")
FIELD_MESSAGES = {
    "missing": _REQUIRED,
    "string_too_short": _REQUIRED,
    "literal_error": _CHOOSE,
    "enum": _CHOOSE,
    "date_parsing": _DATE,
    "date_type": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "int_parsing": _WHOLE,
    "int_type": _WHOLE,
    "int_from_float": _WHOLE,
    "float_parsing": _NUMBER,
    "float_type": _NUMBER,
    "finite_number": _NUMBER,
    "bool_parsing": _YES_NO,
    "bool_type": _YES_NO,
    "greater_than_equal": N_("Please enter a number of at least %(ge)s."),
    "less_than_equal": N_("Please enter a number of at most %(le)s."),
    "string_too_long": N_("Please write at most %(max_length)s characters."),
    "value_error": N_("Please write plain text: remove the control characters."),
}
FIELD_CHECK = N_("Please check this value.")

# The words of the codes a refusal names.
_WORDS = {
    "adopter": N_("adopter"),
    "provider": N_("provider"),
    "follow_up": N_("follow-up"),
    "field_visit": N_("field visit"),
    "adaptation": N_("adaptation"),
    "outcome": N_("outcome"),
    "closed": N_("closed"),
    "completed": N_("completed"),
    "declined": N_("declined"),
    "lapsed": N_("lapsed"),
    "not_pursued": N_("not pursued"),
    "cancelled": N_("cancelled"),
    "abandoned": N_("abandoned"),
    "withdrawn": N_("withdrawn"),
}
_ENDED = {
    "answered": N_("it was answered"),
    "expired": N_("it expired"),
    "withdrawn": N_("it was withdrawn"),
}
_DATES = {"today", "start", "end", "sent_at", "again", "since"}


def word(code: object) -> Said | str:
    """A party, stage or close reason in the page's words (any other code as it is)."""
    text = str(getattr(code, "value", code))
    return Said(_WORDS[text]) if text in _WORDS else text.replace("_", " ")


def _param(name: str, value: str) -> Any:
    if name in _DATES:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    if name == "status":
        return Said(_ENDED[value]) if value in _ENDED else value
    return word(value) if name in ("party", "stage", "to", "reason") else value


def said(code: str | None, params: dict[str, str]) -> Said:
    """The message of a refusal's code with its parameters (the general one for no code)."""
    msgid = REFUSAL_MESSAGES.get(code or "")
    if msgid is None:
        return Said(REFUSED)
    values = {name: _param(name, str(value)) for name, value in params.items()}
    if "status" in values:
        values["why"] = values["status"]
    try:
        msgid % {name: "" for name in values}  # every placeholder has its parameter
    except (KeyError, TypeError):
        return Said(REFUSED)
    return Said(msgid, values)


def refusal(exc: MoveRefused) -> Said:
    """Why the rules refused what a partner sent, in the page's language."""
    return said(exc.code, exc.params)


def field_message(error_type: str, context: dict[str, Any] | None) -> Said:
    """The message of one validation error of a form field (or of an answer's rule)."""
    if error_type in ANSWER_RULE_MESSAGES:
        return Said(ANSWER_RULE_MESSAGES[error_type][0])
    msgid = FIELD_MESSAGES.get(error_type, FIELD_CHECK)
    params = {k: v for k, v in (context or {}).items() if f"%({k})s" in msgid}
    return Said(msgid, params) if params or "%(" not in msgid else Said(FIELD_CHECK)
