"""From a submitted HTML form to a partner's answer, and from its errors back to the fields.

Field names are the answer's own, dotted for nested models (``plan.start``), so the rules'
validation messages land beside the field that caused them.
"""

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from domain.enums import PromptKind
from domain.lifecycle.answers import Answer
from web.i18n import Said
from web.refusals import ANSWER_RULE_MESSAGES, field_message

ANSWER: TypeAdapter[Any] = TypeAdapter(Answer)
FORM_ERROR = "__form__"  # an error about the answer as a whole, shown above the form

# Optional fields whose empty value means "not given" (the model's default applies).
_OPTIONAL_WHEN_EMPTY = {"counter.start", "counter.end", "counter.format", "counter.delegation_size"}

# The rules about several fields at once (the answers' model validators) name no field: the
# page shows each beside the field a partner has to change, found by its code.
_RULE_FIELDS = {code: name for code, (_, name) in ANSWER_RULE_MESSAGES.items()}


def _nested(fields: Mapping[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("csrf", "kind", "lang"):  # the form key and the page's language
            continue
        target = data
        *parents, leaf = name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value.strip() if isinstance(value, str) else value
    return data


def answer_from_form(kind: PromptKind, fields: Mapping[str, str]) -> Any:
    """The answer the form gives for a prompt of ``kind``; ValidationError when it is wrong."""
    data = _nested({k: v for k, v in fields.items() if not (k in _OPTIONAL_WHEN_EMPTY and not v)})
    if kind == PromptKind.VISIT_CONFIRMATION and data.get("decision") != "counter":
        data.pop("counter", None)  # new terms only count with a counter-proposal
    return ANSWER.validate_python({**data, "kind": kind.value})


def field_errors(error: ValidationError) -> dict[str, Said]:
    """One message per form field (the first), in words a partner can act on, said in the
    page's language (``str()`` of each is the English)."""
    errors: dict[str, Said] = {}
    for item in error.errors(include_url=False):
        location = [str(part) for part in item["loc"]]
        if location and location[0] in {kind.value for kind in PromptKind}:
            location = location[1:]  # the discriminated union's tag
        rule = _RULE_FIELDS.get(item["type"])
        location += [rule] if rule else []
        name = ".".join(location) or FORM_ERROR
        errors.setdefault(name, field_message(item["type"], item.get("ctx")))
    return errors
