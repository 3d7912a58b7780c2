"""A wrong form's messages land beside the field to change, rules about several fields too."""

import pytest
from pydantic import ValidationError

from domain.enums import PromptKind
from web.forms import FORM_ERROR, answer_from_form, field_errors

PLAN = {"plan.format": "in_person", "plan.delegation_size": "4"}


@pytest.mark.parametrize(
    ("kind", "form", "field", "says"),
    [
        (PromptKind.INTRODUCTION_ADOPTER, {"decision": "confirm"}, "needs", "Describe your needs"),
        (PromptKind.INTRODUCTION_ADOPTER, {"needs": "x"}, "decision", "Please fill in this field"),
        (
            PromptKind.VISIT_PROPOSAL,
            {**PLAN, "plan.start": "2030-05-02", "plan.end": "2030-05-01"},
            "plan.end",
            "The visit must end on or after",
        ),
        (
            PromptKind.VISIT_PROPOSAL,
            {**PLAN, "plan.start": "2030-05-01", "plan.end": "2030-08-01"},
            "plan.end",
            "A field visit lasts at most 60 days",
        ),
        (PromptKind.VISIT_CONFIRMATION, {"decision": "counter"}, "decision", "A counter-proposal"),
        (PromptKind.VISIT_REPORT, {"held": "false", "proceed": "true"}, "proceed", "A visit that"),
        (PromptKind.VISIT_REPORT, {"held": "true"}, "learned", "Say what the delegation learned"),
        (PromptKind.CHECK_IN, {"status": "blocked"}, "support_needed", "Say what support"),
    ],
)
def test_each_message_is_beside_its_field(kind, form, field, says):
    with pytest.raises(ValidationError) as refused:
        answer_from_form(kind, form)
    errors = field_errors(refused.value)
    assert FORM_ERROR not in errors, errors
    assert str(errors[field]).startswith(says), errors
