"""Emails in the contact's language: catalogs complete, every kind in every language, locale
dates and numbers, Russian plurals, reminders numbered, English for any other language."""

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po
from jinja2 import Environment

from activities.mail import LOCALE_DIR, TEMPLATES_DIR, TemplateRenderer
from activities.samples import KINDS, SAMPLE_EOI, sample_context
from infra.i18n import LANGUAGES, catalog_path, language_of

TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
TODAY = date(2026, 2, 17)  # the sample prompt is due on Tuesday 3 March 2026: 14 days later
RENDERER = TemplateRenderer()


def _render(kind, language, *, renderer=RENDERER, **changes):
    context = sample_context(kind, language=language)
    context.update(changes)
    return renderer.render(kind, context, today=TODAY)


def _template_messages() -> set[str]:
    """Every msgid the templates use (the singular of a plural)."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    found = set()
    for path in TEMPLATES_DIR.glob("*.j2"):
        for _, _, message in env.extract_translations(path.read_text()):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_catalog_translates_every_message_of_the_templates(language):
    with catalog_path(LOCALE_DIR, language).open("rb") as po:
        catalog = read_po(po, locale=language)
    messages = {m.id[0] if isinstance(m.id, tuple) else m.id: m for m in catalog if m.id}
    assert set(messages) == _template_messages(), "run pybabel extract and update (docs)"
    for message in messages.values():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(strings) == (catalog.num_plurals if message.pluralizable else 1)
        assert all(s.strip() for s in strings), f"untranslated: {message.id!r}"
        assert not message.fuzzy, f"fuzzy (left out at load): {message.id!r}"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems  # the placeholders of each msgstr are those of its msgid


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("links", [True, False], ids=["links", "no links"])
def test_every_kind_renders_in_every_language(kind, language, links):
    context = sample_context(kind, language=language, links=links)
    rendered = RENDERER.render(kind, context, today=TODAY)
    assert rendered.subject and "\n" not in rendered.subject
    assert context["match_id"] in rendered.text
    assert f'<html lang="{language}">' in rendered.html
    assert all(len(line) <= 76 or "://" in line for line in rendered.text.splitlines())


def _values(value) -> list[str]:
    """The strings of the context that no language translates: names, ids, links, text."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in _values(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _values(v)]
    if not (isinstance(value, str) and len(value) > 1):
        return []
    return [value, *value.splitlines()]  # an agenda's lines stand on their own lines


def _lines(text: str) -> set[str]:
    text = re.sub(r"<[^>]+>", "\n", text)  # HTML: the text between tags
    return {" ".join(line.split()) for line in text.splitlines() if line.strip()}


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("kind", KINDS)
def test_no_english_is_left_in_a_translated_email(kind, language):
    unwrapped = TemplateRenderer(width=10_000)  # a wrapped line would split a name
    english = _render(kind, "en", renderer=unwrapped)
    translated = _render(kind, language, renderer=unwrapped)
    untranslatable = sorted(
        {*_values(SAMPLE_EOI), *_values(sample_context(kind))}, key=len, reverse=True
    )
    untranslatable += ["Matchmaker", "SSN4PSI", "Union Digital Centres"]
    for part in ("text", "html"):
        left = _lines(getattr(english, part)) & _lines(getattr(translated, part))
        for line in left:
            rest = line
            for value in untranslatable:
                rest = rest.replace(" ".join(value.split()), "")
            assert not re.search(r"[A-Za-z]{2,}", rest), f"{part} line in English: {line!r}"
    assert english.subject != translated.subject


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Tuesday, 3 March 2026, in 14 days"),
        ("fr", "mardi 3 mars 2026, soit dans 14 jours"),
        ("es", "martes, 3 de marzo de 2026, es decir, dentro de 14 días"),
        ("ru", "вторник, 3 марта 2026 г., то есть через 14 дней"),
    ],
)
def test_the_deadline_is_said_in_plain_words_and_local_dates(language, expected):
    rendered = _render("introduction_adopter", language)
    assert expected in " ".join(rendered.text.split())
    assert expected in " ".join(re.sub(r"</?strong>", "", rendered.html).split())


@pytest.mark.parametrize(
    ("language", "dates"),
    [
        ("fr", ["27 octobre 2021", "14 avril 2026"]),
        ("es", ["27 de octubre de 2021", "14 de abril de 2026"]),
        ("ru", ["27 октября 2021 г.", "14 апреля 2026 г."]),
        ("en", ["27 October 2021", "14 April 2026"]),
    ],
)
def test_workshop_and_visit_dates_are_written_for_the_locale(language, dates):
    workshop, visit = dates
    assert workshop in " ".join(_render("introduction_provider", language).text.split())
    assert visit in " ".join(_render("visit_report", language).text.split())


@pytest.mark.parametrize(
    ("language", "people", "cost"),
    [
        ("en", "12,500", "US$1,500.00"),
        ("fr", "12\u202f500", "1\u202f500,00\u00a0$US"),
        ("es", "12.500", "1.500,00\u00a0US$"),
        ("ru", "12\u00a0500", "1\u00a0500,00\u00a0$"),
    ],
)
def test_numbers_are_written_for_the_locale(language, people, cost):
    text = _render("outcome_confirmation", language).html
    assert people in text and cost in text


@pytest.mark.parametrize(
    ("days", "words"),
    [(2, "через 2 дня"), (5, "через 5 дней"), (21, "через 21 день"), (11, "через 11 дней")],
)
def test_russian_days_take_their_three_plural_forms(days, words):
    today = date.fromordinal(date(2026, 3, 3).toordinal() - days)
    rendered = RENDERER.render("check_in", sample_context("check_in", language="ru"), today=today)
    assert words in " ".join(rendered.text.split())


@pytest.mark.parametrize(
    ("size", "words"),
    [(1, "из 1 человека"), (3, "из 3 человек"), (5, "из 5 человек"), (21, "из 21 человека")],
)
def test_russian_delegations_take_their_plural_forms(size, words):
    plan = {**sample_context("visit_confirmation")["plan"], "delegation_size": size}
    rendered = _render("visit_confirmation", "ru", plan=plan)
    assert words in " ".join(rendered.text.split())


def test_the_deadline_tomorrow_and_past_are_said_too():
    tomorrow = RENDERER.render("check_in", sample_context("check_in"), today=date(2026, 3, 2))
    late = RENDERER.render("check_in", sample_context("check_in"), today=date(2026, 3, 9))
    assert "3 March 2026, that is tomorrow." in " ".join(tomorrow.text.split())
    assert "Please answer by Tuesday, 3 March 2026. You" in " ".join(late.text.split())
    late_ru = RENDERER.render(
        "check_in", sample_context("check_in", language="ru"), today=date(2026, 3, 9)
    )
    assert "Срок ответа: вторник, 3 марта 2026 г. Вы также" in " ".join(late_ru.text.split())


@pytest.mark.parametrize(
    ("language", "round", "subject", "body"),
    [
        ("en", 1, None, None),
        ("en", 2, "Reminder 1: ", "This is reminder 1:"),
        ("en", 3, "Reminder 2: ", "This is reminder 2:"),
        ("fr", 3, "Rappel 2 : ", "Ceci est le rappel n°\u00a02"),
        ("es", 2, "Recordatorio 1: ", "Este es el recordatorio n.º 1"),
        ("ru", 4, "Напоминание 3: ", "Это напоминание № 3"),
    ],
)
def test_a_reminder_says_which_reminder_it_is(language, round, subject, body):
    context = sample_context("visit_proposal", language=language, round=round)
    rendered = RENDERER.render("visit_proposal", context, today=TODAY)
    if subject is None:
        assert "Reminder" not in rendered.subject and "reminder" not in rendered.text
    else:
        assert rendered.subject.startswith(subject)
        assert body in rendered.text and body in rendered.html


@pytest.mark.parametrize("code", ["de", "", None, "english", "zz-ZZ"])
def test_an_unknown_language_falls_back_to_english(code):
    rendered = _render("introduction_adopter", code)
    assert rendered.subject.startswith("Reminder 1: Your interest in")
    assert '<html lang="en">' in rendered.html


@pytest.mark.parametrize(("code", "language"), [("fr-CA", "fr"), ("ES", "es"), ("ru_RU", "ru")])
def test_a_regional_language_code_speaks_its_language(code, language):
    assert language_of(code) == language
    assert f'<html lang="{language}">' in _render("thanks", code).html


def test_catalogs_are_compiled_from_their_po_when_loaded(tmp_path: Path):
    """No compiled .mo is kept: the .po read at load is the one truth, so none goes stale."""
    assert not list(LOCALE_DIR.rglob("*.mo"))
    locale = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, locale)
    path = catalog_path(locale, "fr")
    with path.open("rb") as po:
        catalog = read_po(po, locale="fr")
    catalog["Answer now"].string = "Répondre tout de suite"
    with path.open("wb") as po:
        write_po(po, catalog)
    rendered = TemplateRenderer(locale_dir=locale).render(
        "check_in", sample_context("check_in", language="fr"), today=TODAY
    )
    assert "Répondre tout de suite" in rendered.html


@pytest.mark.parametrize(
    ("language", "name"),
    [("en", "Kazakhstan"), ("fr", "Kazakhstan"), ("es", "Kazajistán"), ("ru", "Казахстан")],
)
def test_countries_are_named_in_the_language(language, name):
    assert (
        f"Agency for Civil Service Affairs ({name})"
        in _render("introduction_provider", language).html
    )


@pytest.mark.parametrize("kind", KINDS)
def test_no_slip_a_native_reader_would_stop_at(kind):
    # the sample's institutions begin with a vowel ("Agency …", "Aspire …"): French elides
    # before them ("qu'", "d'"), so a sentence must not put "que" or "de" right before a name
    french = _render(kind, "fr", renderer=TemplateRenderer(width=10_000))
    for body in (french.text, french.html):
        assert not re.search(r"\b(que|de|le|la) (Agency|Aspire)", body), body
    # a Russian date ends with "г.": a sentence ending on one must not add a second stop
    russian = _render(kind, "ru", renderer=TemplateRenderer(width=10_000))
    for body in (russian.text, russian.html, russian.subject):
        assert "г.." not in body and "г.</strong>." not in body, body
