"""The partner pages speak the language of the contact whose link opened them."""

import re

import pytest
from babel.messages.pofile import read_po
from jinja2 import Environment

from domain.model import ExpressionOfInterest
from infra.i18n import catalog_path
from services import intake
from tests.support import unique_eoi, wait_for
from tests.web.test_partner_pages import CSRF, LINK, _text
from web.i18n import LOCALE_DIR, TEMPLATES_DIR

MATCH_LINK = re.compile(r"http://matchmaker\.test(/match/[A-Za-z0-9_.\-]+)")


def _speaking(adopter: str, provider: str):
    data = unique_eoi().model_dump(mode="json")
    data["adopter"]["contact"]["language"] = adopter
    data["solution"]["contact"]["language"] = provider
    return ExpressionOfInterest.model_validate(data)


async def _links(stack, address: str) -> tuple[str, str]:
    [message] = await wait_for(lambda: stack.mail.to(address), timeout=30)
    text = _text(message)
    return LINK.search(text).group(1), MATCH_LINK.search(text).group(1)


def _words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_a_french_adopter_answers_in_french_and_the_provider_reads_english(stack, pages):
    eoi = _speaking("fr", "en")
    await intake.submit_eoi(stack.backend, eoi=eoi)
    answer_path, match_path = await _links(stack, eoi.adopter.contact.email)

    shown = await pages.get(answer_path)
    assert shown.status_code == 200 and '<html lang="fr">' in shown.text
    words = _words(shown.text)
    assert "Souhaitez-vous toujours adopter cette solution" in words
    assert "Envoyer ma réponse" in words and "Send my answer" not in words
    assert re.search(r"répondre d’ici le \w+ \d+ \w+ 20\d\d", words)  # a French date

    key = CSRF.search(shown.text).group(1)
    lang = re.search(r'name="lang" value="([a-z]+)"', shown.text).group(1)  # as a browser sends
    form = {"csrf": key, "lang": lang, "decision": "confirm", "needs": "Guichets ruraux"}
    form["exchange"] = "remote"
    recorded = await pages.post(answer_path, data=form)
    assert recorded.status_code == 200 and '<html lang="fr">' in recorded.text
    recorded_words = _words(recorded.text)
    assert "votre réponse est enregistrée" in recorded_words
    assert "Vous avez confirmé que vous souhaitez adopter la solution." in recorded_words
    assert "dans le cadre d’un échange à distance" in recorded_words
    assert "Vos besoins : Guichets ruraux" in recorded_words, recorded_words

    page = await pages.get(match_path)
    assert '<html lang="fr">' in page.text and "Ce qui est attendu" in _words(page.text)

    provider_answer, _ = await _links(stack, eoi.solution.contact.email)
    english = await pages.get(provider_answer)
    assert '<html lang="en">' in english.text
    assert "Will you share your solution with this institution?" in english.text


@pytest.mark.parametrize(
    ("language", "question", "button"),
    [
        ("es", "¿Sigue deseando adoptar esta solución?", "Enviar mi respuesta"),
        ("ru", "Вы по-прежнему хотите внедрить это решение?", "Отправить ответ"),
        ("de", "Do you still want to adopt this solution?", "Send my answer"),
    ],
)
async def test_the_question_page_speaks_the_adopters_language(
    stack, pages, language, question, button
):
    eoi = _speaking(language, "en")
    await intake.submit_eoi(stack.backend, eoi=eoi)
    answer_path, _ = await _links(stack, eoi.adopter.contact.email)
    shown = await pages.get(answer_path)
    expected = language if language != "de" else "en"  # English for any other language
    assert f'<html lang="{expected}">' in shown.text
    assert question in _words(shown.text) and button in _words(shown.text)


def _page_messages() -> set[str]:
    """Every msgid of the pages: their templates and the N_ marks of web/*.py."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    found = set()
    for path in (TEMPLATES_DIR / "partner").glob("*.html"):
        for _, _, message in env.extract_translations(path.read_text()):
            found.add(message[0] if isinstance(message, tuple) else message)
    for path in TEMPLATES_DIR.parent.glob("*.py"):
        found |= set(re.findall(r'\bN_\(\s*"([^"]+)"\s*\)', path.read_text()))
    return found


@pytest.mark.parametrize("language", ["fr", "es", "ru"])
def test_the_pages_catalog_translates_every_message(language):
    with catalog_path(LOCALE_DIR, language).open("rb") as po:
        catalog = read_po(po, locale=language)
    messages = {m.id[0] if isinstance(m.id, tuple) else m.id: m for m in catalog if m.id}
    assert set(messages) == _page_messages(), "run pybabel extract -k N_ and update (docs)"
    for message in messages.values():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings) and not message.fuzzy, message.id
    assert not list(catalog.check())  # each msgstr keeps its msgid's placeholders


async def test_a_refusal_and_the_history_are_in_the_partners_language(stack, pages):
    """The rules refuse a visit that starts today: the French page says why in French (the
    refusal's code travelled from the workflow), and the history is told in French."""
    from datetime import date

    from domain.enums import Party, PromptKind
    from domain.lifecycle import answers as a
    from domain.lifecycle import events as ev
    from services import steering

    eoi = _speaking("fr", "en")
    await intake.submit_eoi(stack.backend, eoi=eoi)
    answer_path, match_path = await _links(stack, eoi.adopter.contact.email)
    key = CSRF.search((await pages.get(answer_path)).text).group(1)
    form = {"csrf": key, "lang": "fr", "decision": "confirm", "needs": "Guichets ruraux"}
    assert (await pages.post(answer_path, data=form)).status_code == 200
    state = await steering.live_state(stack.backend, match_id=eoi.match_id)
    [intro] = [p for p in state.open_prompts() if p.kind == PromptKind.INTRODUCTION_PROVIDER]
    accept = ev.Answered(
        prompt_id=intro.id, party=Party.PROVIDER, answer=a.ShareAnswer(decision="accept")
    )
    await steering.answer(stack.backend, match_id=eoi.match_id, event=accept, entered_by="test")

    mails = await wait_for(lambda: stack.mail.to(eoi.adopter.contact.email)[1:], timeout=30)
    proposal_path = LINK.search(_text(mails[-1])).group(1)
    shown = await pages.get(proposal_path)
    key = CSRF.search(shown.text).group(1)
    today = date.today().isoformat()
    plan = {"plan.start": today, "plan.end": today, "plan.format": "virtual"}
    refused = await pages.post(
        proposal_path, data={"csrf": key, "lang": "fr", **plan, "plan.delegation_size": "3"}
    )
    words = _words(refused.text)
    assert refused.status_code == 409 and '<html lang="fr">' in refused.text
    assert "La visite doit commencer après aujourd’hui" in words, words
    assert "must start after today" not in words

    page = _words((await pages.get(match_path)).text)
    assert "La mise en relation est passée à l’étape : visite d’étude." in page, page
    assert "L’institution adoptante a répondu à la question" in page
    assert "follow_up → field_visit" not in page and "answered introduction" not in page


async def test_an_expired_link_says_so_in_the_partners_language(stack, pages):
    from datetime import UTC, datetime, timedelta

    from infra.settings import Settings
    from workers.worker import partner_links

    eoi = _speaking("es", "en")
    await intake.submit_eoi(stack.backend, eoi=eoi)
    await _links(stack, eoi.adopter.contact.email)
    expired = partner_links(Settings()).mint(
        match_id=eoi.match_id,
        party="adopter",
        prompt_id="introduction_adopter-1",
        expires_at=datetime(2026, 3, 3, tzinfo=UTC) - timedelta(days=1),
    )
    shown = await pages.get(f"/respond/{expired}")
    words = _words(shown.text)
    assert shown.status_code == 410 and '<html lang="es">' in shown.text
    assert "Este enlace caducó el 2 de marzo de 2026." in words, words
    assert "expired" not in words
