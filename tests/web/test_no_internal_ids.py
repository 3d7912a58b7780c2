"""No page asks a partner for an internal id or shows them one: a question is named by what it
asks, never by its prompt id or kind code; the match id is at most a small reference to quote
to the Secretariat."""

import re

import pytest

from domain.enums import PromptKind
from tests.web.offline import every_page, match_view, words

KINDS = "|".join(kind.value for kind in PromptKind)
PROMPT_ID = re.compile(rf"\b({KINDS})-\d+\b")
# the codes as they are, or spaced where the words mean nothing ("visit report" does)
CODE = re.compile(rf"\b({KINDS})\b|\bintroduction (adopter|provider)\b", re.I)


@pytest.mark.parametrize("language", ["en", "fr", "es", "ru"])
def test_no_page_names_a_question_by_its_id_or_code(language):
    for name, html in every_page(language).items():
        text = words(html)
        assert not PROMPT_ID.search(html), (name, PROMPT_ID.search(html))
        assert not CODE.search(text), (name, CODE.search(text), text)
        assert "<input" not in html or not re.search(r'name="[^"]*(_id|match|prompt)"', html), name


@pytest.mark.parametrize("language", ["en", "fr", "es", "ru"])
def test_the_match_id_is_only_a_small_reference(language):
    match_id = match_view().match_id
    for name, html in every_page(language).items():
        text = words(html)
        assert text.count(match_id) <= 1, (name, text)
        if match_id in text:
            [reference] = re.findall(r'<small class="reference">(.*?)</small>', html, re.S)
            assert match_id in reference and len(words(reference)) < 60, (name, reference)
