"""Every page that refuses a link or a form speaks the partner's language: the language of the
link's contact when the link can be believed (genuine, expired, or cut short by a mail client),
else the best of the browser's Accept-Language, else English."""

from datetime import UTC, datetime, timedelta

import pytest

from infra.settings import Settings
from services import intake
from services import partner as partner_service
from services.errors import Busy, Unavailable
from tests.web.test_partner_languages import _links, _speaking, _words
from web.i18n import accepted_language
from workers.worker import partner_links


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"),
        ("de-DE,de;q=0.9,es;q=0.8,en;q=0.7", "es"),
        ("en;q=0.2, ru;q=0.9", "ru"),
        ("ES-419", "es"),
        ("pt-BR, ru;q=0, fr;q=0.001", "fr"),
        ("ru;q=0", None),
        ("de, ja", None),
        ("*", None),
        ("", None),
        (None, None),
        ("fr;q=x, ;;, =, es;q=0.5", "es"),
    ],
)
def test_the_browsers_best_language_of_the_four(header, language):
    assert accepted_language(header) == language


def _tampered(path: str) -> str:
    return path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")


def _cut(path: str) -> str:
    return path[:-6]  # the signature is 27 characters long: 21 are left


async def test_a_changed_link_follows_the_browser_and_a_cut_one_the_partner(stack, pages):
    eoi = _speaking("fr", "en")
    await intake.submit_eoi(stack.backend, eoi=eoi)
    answer_path, match_path = await _links(stack, eoi.adopter.contact.email)

    spanish = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}
    changed = await pages.get(_tampered(answer_path), headers=spanish)
    assert changed.status_code == 400 and '<html lang="es">' in changed.text
    assert "Este enlace no funciona" in _words(changed.text)
    assert "Accept-Language" in changed.headers["vary"]
    plain = await pages.get(_tampered(match_path))  # no header: English
    assert plain.status_code == 400 and '<html lang="en">' in plain.text

    for cut in (_cut(answer_path), _cut(match_path)):
        shown = await pages.get(cut, headers=spanish)
        assert shown.status_code == 400 and '<html lang="fr">' in shown.text, cut
        assert "Ce lien ne fonctionne pas" in _words(shown.text)


async def test_a_link_to_no_match_or_no_question_speaks_what_it_can(stack, pages):
    eoi = _speaking("ru", "en")
    await intake.submit_eoi(stack.backend, eoi=eoi)
    await _links(stack, eoi.adopter.contact.email)
    links = partner_links(Settings())
    later = datetime.now(UTC) + timedelta(days=5)
    nobody = links.mint(match_id="match-NOPE-1", party="adopter", prompt_id="x-1", expires_at=later)
    french = {"Accept-Language": "fr"}
    unknown = await pages.get(f"/respond/{nobody}", headers=french)
    assert unknown.status_code == 404 and '<html lang="fr">' in unknown.text
    assert "Nous ne trouvons pas cette mise en relation" in _words(unknown.text)

    other = links.mint(
        match_id=eoi.match_id, party="adopter", prompt_id="check_in-9", expires_at=later
    )  # a genuine link to a question the match does not have: its contact reads Russian
    missing = await pages.get(f"/respond/{other}", headers=french)
    assert missing.status_code == 404 and '<html lang="ru">' in missing.text

    past = datetime.now(UTC) - timedelta(days=1)
    gone = links.mint(match_id="match-NOPE-2", party="adopter", prompt_id="x-1", expires_at=past)
    expired = await pages.get(f"/respond/{gone}", headers={"Accept-Language": "es"})
    assert expired.status_code == 410 and '<html lang="es">' in expired.text
    assert "Este enlace ha caducado" in _words(expired.text)


@pytest.mark.parametrize(
    ("refusal", "status", "title"),
    [
        (Busy("busy"), 429, "Это партнёрство сейчас изменяется"),
        (Unavailable("down"), 503, "Matchmaker занят"),
    ],
)
async def test_a_busy_or_unreachable_engine_is_said_in_the_browsers_language(
    stack, pages, monkeypatch, refusal, status, title
):
    links = partner_links(Settings())
    later = datetime.now(UTC) + timedelta(days=5)
    token = links.mint(match_id="match-ANY-1", party="adopter", prompt_id="x-1", expires_at=later)

    async def refuse(*args, **kwargs):
        raise refusal

    monkeypatch.setattr(partner_service, "open_link", refuse)
    shown = await pages.get(f"/respond/{token}", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert shown.status_code == status and '<html lang="ru">' in shown.text
    assert title in _words(shown.text) and "Retry-After" in shown.headers


async def test_a_refused_form_speaks_the_form_or_the_browser(stack, pages):
    eoi = _speaking("es", "en")
    await intake.submit_eoi(stack.backend, eoi=eoi)
    answer_path, _ = await _links(stack, eoi.adopter.contact.email)
    russian = {"Accept-Language": "ru"}
    no_key = await pages.post(answer_path, data={"decision": "confirm"}, headers=russian)
    assert no_key.status_code == 403 and '<html lang="ru">' in no_key.text
    with_lang = await pages.post(answer_path, data={"lang": "es"}, headers=russian)
    assert with_lang.status_code == 403 and '<html lang="es">' in with_lang.text  # its page's

    pages._transport.app.state.respond_limiter.limit = 2  # type: ignore[attr-defined]
    too_many = await pages.post(answer_path, data={"lang": "es"}, headers=russian)
    assert too_many.status_code == 429 and '<html lang="ru">' in too_many.text
    assert "Слишком много попыток" in _words(too_many.text)
