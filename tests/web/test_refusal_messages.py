"""Every refusal code and every answer rule has words in every language a page speaks."""

import re

import pytest

from domain.lifecycle.answers import ANSWER_RULES
from domain.lifecycle.refusals import REFUSALS
from web.i18n import Said, translator
from web.refusals import (
    ANSWER_RULE_MESSAGES,
    FIELD_MESSAGES,
    REFUSAL_MESSAGES,
    REFUSED,
    field_message,
    said,
)

LANGUAGES = ["fr", "es", "ru"]
SAMPLE = {  # a value of each parameter a refusal may carry
    "prompt_id": "visit_proposal-4",
    "status": "expired",
    "party": "provider",
    "kind": "visit_proposal",
    "answered": "check_in",
    "rules_version": "1",
    "stage": "field_visit",
    "to": "follow_up",
    "today": "2026-03-03",
    "start": "2026-03-01",
    "end": "2026-03-02",
    "sent_at": "2026-03-03T09:15:00+00:00",
    "again": "2026-03-04T09:15:00+00:00",
    "since": "2026-03-01T08:00:00+00:00",
    "reason": "declined",
    "last": "2026-03-03T09:15:00+00:00",
}


def _english(language: str) -> set[str]:
    """The English words a translation must not leave (the msgids, without placeholders)."""
    return {re.sub(r"%\(\w+\)s", "", m).strip(" .:") for m in REFUSAL_MESSAGES.values()}


def test_every_code_of_the_domain_has_a_message_and_no_other():
    assert set(REFUSAL_MESSAGES) == set(REFUSALS)
    assert set(ANSWER_RULE_MESSAGES) == set(ANSWER_RULES)


@pytest.mark.parametrize("code", sorted(REFUSALS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_refusal_is_said_in_the_language_with_its_details(code, language):
    message = said(code, SAMPLE)
    assert message.msgid == REFUSAL_MESSAGES[code]  # every placeholder has its parameter
    text = translator(language)(message)
    english = translator("en")(message)
    assert text and text != english and "%(" not in text
    assert not any(len(e) > 12 and e in text for e in _english(language)), text
    if "%(start)s" in message.msgid:  # dates are the locale's
        assert {"fr": "1er mars 2026", "es": "1 de marzo de 2026", "ru": "1 марта 2026"}[
            language
        ] in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_answer_rules_and_field_errors_are_said_in_the_language(language):
    translate = translator(language)
    for code in [*ANSWER_RULES, *FIELD_MESSAGES]:
        message = field_message(code, {"ge": 1, "le": 100, "max_length": 5000})
        assert translate(message) != translator("en")(message), code
    assert translate(field_message("no_such_type", None)) != "Please check this value."


def test_a_refusal_without_a_code_or_with_missing_details_gets_the_general_words():
    assert said(None, {}) == Said(REFUSED)
    assert said("visit_starts_too_soon", {"today": "2026-03-03"}) == Said(REFUSED)
    english = translator("en")(said("visit_starts_too_soon", SAMPLE))
    assert english == "The visit must start after today (3 March 2026), not on 1 March 2026."
