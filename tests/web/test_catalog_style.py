"""The pages' French, Spanish and Russian read as a native writes them: French elides before a
vowel and spaces its high punctuation with a non-breaking space, Spanish contracts "de el",
Russian never doubles the stop after an abbreviated year ("2026 г.."), every language keeps
the formal register (vous, usted, вы) and one word for a match, the one the emails use."""

import re
from datetime import date

import pytest
from babel.messages.pofile import read_po

from infra.i18n import catalog_path, full_date, long_date
from tests.web.offline import VOWEL_NAMES, every_page, render, words
from tests.web.test_answer_sentences import ANSWERS
from tests.web.test_refusal_messages import SAMPLE
from web.i18n import LOCALE_DIR
from web.pages import TITLES
from web.refusals import REFUSAL_MESSAGES, said

DATES = ("date", "start", "end", "today", "sent_at", "again", "since")  # what a date fills in


def translations(language: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) for every form of every message of a language's catalog."""
    with catalog_path(LOCALE_DIR, language).open("rb") as po:
        catalog = read_po(po, locale=language)
    pairs = []
    for message in catalog:
        if message.id:
            msgid = message.id[0] if isinstance(message.id, tuple) else message.id
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            pairs += [(msgid, form) for form in forms]
    return pairs


def pages(language: str) -> dict[str, str]:
    """Every page of a match whose names begin with a vowel, and every refusal's page."""
    shown = every_page(language, ANSWERS)
    for code in REFUSAL_MESSAGES:
        shown[f"refused {code}"] = render(
            "problem.html", language, title=TITLES[409], message=said(code, SAMPLE)
        )
    return shown


def _spaced(text: str) -> str:
    """The words of a page with the space a tag left before a stop taken out again."""
    return re.sub(r"\s+([.,;:])", r"\1", text)


# -- French ------------------------------------------------------------------------------------
# a word that elides before a vowel ("que Agence" is "qu’Agence"), or contracts ("de le" is "du")
ELIDED = re.compile(
    r"\b(que|de|le|la|ne|se|ce|je|me|lorsque|puisque|jusque)\s+[aeiouyàâäéèêëîïôöûü]"
    r"|\bsi\s+ils?\b|\b(de|à)\s+(le|les)\b",
    re.IGNORECASE,
)
HIGH = re.compile(r"(?<![\u00a0\u202f])[:;?!»]|«(?![\u00a0\u202f])")


def test_french_pages_elide_before_a_vowel():
    assert all(name[0] in "AEIÉ" for name in VOWEL_NAMES.values())  # the test's own premise
    for slip in ("Confirmez que Agence", "au nom de Institut", "si il", "de les"):
        assert ELIDED.search(slip), slip
    for name, html in pages("fr").items():
        text = words(html)
        assert not ELIDED.search(text), (name, ELIDED.search(text), text)


def test_french_high_punctuation_has_its_non_breaking_space():
    for msgid, text in translations("fr"):
        assert not HIGH.search(text), (msgid, text)
        assert "'" not in text and " ," not in text and " ." not in text, text  # ’ throughout


def test_french_dates_write_the_first_as_an_ordinal():
    assert long_date(date(2026, 3, 1), "fr") == "1er mars 2026"
    assert full_date(date(2026, 3, 1), "fr") == "dimanche 1er mars 2026"
    assert long_date(date(2026, 3, 21), "fr") == "21 mars 2026"
    assert long_date(date(2026, 3, 1), "en") == "1 March 2026"


# -- Spanish -----------------------------------------------------------------------------------
def test_spanish_contracts_de_el_and_a_el():
    for name, html in pages("es").items():
        assert not re.search(r"\b(de|a)\s+el\b", words(html), re.I), name
    for _msgid, text in translations("es"):
        assert not re.search(r"\b(de|a)\s+el\b", text, re.I), text
        assert "¿" not in text or "?" in text, text  # an opened question is closed
        assert text.count("¡") == text.count("!"), text


# -- Russian -----------------------------------------------------------------------------------
def test_russian_never_doubles_the_stop_after_a_year():
    year = long_date(date(2026, 3, 3), "ru")
    assert year.endswith("г.")
    for msgid, text in translations("ru"):
        filled = re.sub(rf"%\(({'|'.join(DATES)})\)s", year, text)
        assert ".." not in re.sub(r"%\(\w+\)s", "x", filled), (msgid, text)
    for name, html in pages("ru").items():
        assert ".." not in _spaced(words(html)), (name, _spaced(words(html)))


# -- every language ----------------------------------------------------------------------------
INFORMAL = {
    "fr": r"\b(tu|toi|ton|ta|tes|t’)\b",
    "es": r"\b(tú|tu|tus|ti|te|contigo|puedes|tienes|quieres)\b",
    "ru": r"\b(ты|тебя|тебе|тобой|твой|твоя|твоё|твои|твою|твоего|твоей|твоим|твоих)\b",
}
# the word the emails use for a match (activities/locale), and the ones they do not
MATCH = {"es": ("emparejamiento", r"vinculaci[oó]n"), "ru": ("партнёрств", r"взаимодейств")}


@pytest.mark.parametrize("language", ["fr", "es", "ru"])
def test_the_register_is_formal(language):
    for msgid, text in translations(language):
        assert not re.search(INFORMAL[language], text, re.IGNORECASE), (msgid, text)


@pytest.mark.parametrize("language", ["es", "ru"])
def test_a_match_has_one_name_the_emails_one(language):
    word, other = MATCH[language]
    emails = (catalog_path(LOCALE_DIR.parents[1] / "activities" / "locale", language)).read_text()
    assert word in emails
    for msgid, text in translations(language):
        assert not re.search(other, text, re.IGNORECASE), (msgid, text)
