"""Why the rules refuse an event: a plain English sentence, and a stable code with parameters.

The sentence is what the API and the Secretariat read. The code and its parameters let a page
say the same in the reader's language (``web/refusals.py`` holds a translation of every code):
the domain stays free of any catalog. Parameters are strings (ids, codes, ISO dates), so they
travel with the refusal out of the workflow (Temporal failure details) unchanged.
"""

from collections.abc import Callable

# Every code a refusal may carry, with what it means (the sentence says it with the details).
REFUSALS: dict[str, str] = {
    # answers and partner requests
    "no_such_prompt": "the match has no such prompt",
    "prompt_not_open": "the prompt was answered, expired or withdrawn (status)",
    "prompt_of_other_party": "the prompt is for the other party",
    "prompt_of_other_kind": "the answer is not of the prompt's kind",
    "needs_rules_v2": "the move needs rules version 2 (rules_version)",
    "progress_outside_adaptation": "progress is reported in the adaptation stage only (stage)",
    "visit_starts_too_soon": "a proposed visit starts today or earlier (today, start)",
    "fresh_link_too_soon": "a fresh link was sent less than a day ago (sent_at, again)",
    "match_closed": "the match is closed (reason)",
    "back_in_time": "an event older than the last one (last)",
    # Secretariat actions
    "unknown_action": "no such action",
    "already_paused": "reminders are already paused (since)",
    "not_paused": "reminders are not paused",
    "prompt_has_no_deadline": "the prompt has no deadline to extend (status when not open)",
    "no_deadline_to_extend": "no open prompt has a deadline",
    "contact_taken": "the address is the other party's contact (party)",
    "contact_unchanged": "the contact is already that one (party)",
    "already_in_stage": "the match is already in that stage (stage)",
    "cannot_go_back": "matches only move forward (stage, to)",
    "nothing_to_resend": "no open prompt to resend (status of the one named)",
    "visit_outside_field_visit": "a visit is scheduled in the field_visit stage only (stage)",
    "visit_report_awaited": "the visit took place and its report is awaited",
    "nothing_to_cancel": "no visit is being planned or scheduled",
    "record_visit_stage": "a visit is recorded in follow_up or field_visit only (stage)",
    "recorded_visit_not_ended": "a recorded visit must have ended (today, end)",
}


class InvalidMove(Exception):
    """The event is not allowed in this state; the message says why, as a plain sentence,
    ``code`` (one of REFUSALS) says which refusal it is and ``params`` its details.

    An unknown code is not checked here (a refusal must never turn into an error inside the
    workflow): tests/domain/test_refusals.py checks every raise, and a page says a code it
    does not know in general words."""

    def __init__(self, message: str, *, code: str, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = {k: _plain(v) for k, v in params.items() if v is not None}

    def __reduce__(self) -> tuple[Callable[..., "InvalidMove"], tuple[str, str, dict[str, str]]]:
        # pickles (and copies) with its code
        return (_rebuild, (str(self), self.code, self.params))


def _rebuild(message: str, code: str, params: dict[str, str]) -> "InvalidMove":
    return InvalidMove(message, code=code, **params)


def _plain(value: object) -> str:
    """A parameter as a string: an enum by its value, a date or time in ISO 8601."""
    if hasattr(value, "value"):
        return str(value.value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
