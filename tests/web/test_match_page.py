"""A partner's own page of the match, a call for help, progress at any time, a fresh link."""

import re
from datetime import UTC, datetime, timedelta

from domain.enums import PromptKind
from domain.lifecycle import answers as a
from infra.settings import Settings
from services import steering
from tests.support import wait_for
from tests.web.test_partner_pages import CSRF, _started, _text
from tests.workflows.helpers import Match
from workers.worker import partner_links

MATCH_LINK = re.compile(r"http://matchmaker\.test(/match/[A-Za-z0-9_.\-]+)")


async def _page_of(stack, address: str) -> str:
    [message, *_] = await wait_for(lambda: stack.mail.to(address), timeout=30)
    return MATCH_LINK.search(_text(message)).group(1)


async def test_the_match_page_shows_where_it_stands_and_changes_nothing(stack, pages):
    eoi, _answer_path = await _started(stack)
    path = await _page_of(stack, eoi.solution.contact.email)
    before = await steering.live_state(stack.backend, match_id=eoi.match_id)
    shown = await pages.get(path)
    assert shown.status_code == 200
    assert "You are the <strong>provider</strong>" in shown.text
    assert "From the <strong>adopter</strong>: confirmation of interest" in shown.text
    assert "From the <strong>provider</strong>: agreement to share the solution" in shown.text
    assert shown.text.count("Answer now") == 1  # only the provider's own question
    answer = re.search(r'href="(/respond/[^"]+)">Answer now', shown.text).group(1)
    assert (await pages.get(answer)).status_code == 200
    assert "Report progress" not in shown.text  # the adopter's, in adaptation
    assert "Ask the Secretariat for help" in shown.text
    assert eoi.adopter.contact.email not in shown.text
    after = await steering.live_state(stack.backend, match_id=eoi.match_id)
    assert after.history_seq == before.history_seq


async def test_a_partner_asks_the_secretariat_for_help(stack, pages):
    eoi, _ = await _started(stack)
    path = await _page_of(stack, eoi.adopter.contact.email)
    key = CSRF.search((await pages.get(path)).text).group(1)
    empty = await pages.post(f"{path}/help", data={"csrf": key, "message": "  "})
    assert empty.status_code == 422 and 'id="message-error"' in empty.text
    sent = await pages.post(
        f"{path}/help", data={"csrf": key, "message": "Our minister changed: who do we write to?"}
    )
    assert sent.status_code == 200 and "reached the Secretariat" in sent.text
    again = await pages.post(
        f"{path}/help", data={"csrf": key, "message": "Our minister changed: who do we write to?"}
    )
    assert again.status_code == 200  # the same message twice counts once
    told = await wait_for(lambda: stack.mail.to("secretariat@ssn4psi.org"), timeout=30)
    assert len(told) == 1 and "Help requested by" in told[0]["Subject"]
    assert "who do we write to?" in _text(told[0])
    state = await steering.live_state(stack.backend, match_id=eoi.match_id)
    assert "help:adopter" in state.attention
    assert [h.kind for h in state.history].count("help_requested") == 1


async def test_the_adopter_reports_progress_from_the_match_page(stack, temporal_env, pages):
    match = await Match.begin(stack, temporal_env)
    await match.answer(
        PromptKind.INTRODUCTION_ADOPTER,
        a.InterestAnswer(decision="confirm", needs="forms", exchange="remote"),
    )
    await match.answer(
        PromptKind.INTRODUCTION_PROVIDER, a.ShareAnswer(decision="accept", exchange="remote")
    )
    path = await _page_of(stack, match.eoi.adopter.contact.email)
    shown = await pages.get(path)
    assert "Report progress" in shown.text
    key = CSRF.search(shown.text).group(1)
    blocked = await pages.post(f"{path}/progress", data={"csrf": key, "status": "blocked"})
    assert blocked.status_code == 422 and "support is needed" in blocked.text
    state = await match.state()
    assert state.stage == "adaptation"
    recorded = await pages.post(
        f"{path}/progress", data={"csrf": key, "status": "on_track", "note": "forms translated"}
    )
    assert recorded.status_code == 200 and "forms translated" in recorded.text
    [entry] = await match.history("progress_reported")
    assert entry.actor == "adopter"


async def test_an_expired_link_asks_for_a_fresh_one_at_most_once_a_day(stack, pages):
    eoi, _ = await _started(stack)
    links = partner_links(Settings())
    expired = links.mint(
        match_id=eoi.match_id,
        party="adopter",
        prompt_id="introduction_adopter-1",
        expires_at=datetime.now(UTC) - timedelta(days=1),
    )
    shown = await pages.get(f"/respond/{expired}")
    assert shown.status_code == 410 and "Email me a fresh link" in shown.text
    key = CSRF.search(shown.text).group(1)
    sent = await pages.post(f"/respond/{expired}/fresh-link", data={"csrf": key})
    assert sent.status_code == 200 and "fresh link is on its way" in sent.text
    mails = await wait_for(
        lambda: (
            len(stack.mail.to(eoi.adopter.contact.email)) == 2
            and stack.mail.to(eoi.adopter.contact.email)
        ),
        timeout=30,
    )
    assert "/respond/" in _text(mails[-1])
    again = await pages.post(f"/respond/{expired}/fresh-link", data={"csrf": key})
    assert again.status_code == 429 and "already sent you a fresh link" in again.text
    assert len(stack.mail.to(eoi.adopter.contact.email)) == 2
