"""A partner answers from the link in their email: GET shows, POST answers, bad links say why."""

import re
from datetime import UTC, datetime, timedelta
from email.message import Message

from domain.enums import Party, PromptStatus
from infra.settings import Settings
from services import intake, steering
from tests.support import unique_eoi, wait_for
from workers.worker import partner_links

LINK = re.compile(r"http://matchmaker\.test(/respond/[A-Za-z0-9_.\-]+)")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _text(message: Message) -> str:
    return message.get_payload()[0].get_payload(decode=True).decode()


async def _link_to(stack, address: str) -> str:
    [message] = await wait_for(lambda: stack.mail.to(address), timeout=30)
    return LINK.search(_text(message)).group(1)


async def _started(stack):
    eoi = unique_eoi()
    await intake.submit_eoi(stack.backend, eoi=eoi)
    return eoi, await _link_to(stack, eoi.adopter.contact.email)


async def test_the_adopter_answers_from_the_link_in_their_email(stack, pages):
    eoi, path = await _started(stack)
    before = await steering.live_state(stack.backend, match_id=eoi.match_id)

    shown = await pages.get(path)
    again = await pages.get(path)
    assert shown.status_code == again.status_code == 200
    assert eoi.solution.title in shown.text and "Do you still want to adopt" in shown.text
    after_gets = await steering.live_state(stack.backend, match_id=eoi.match_id)
    assert after_gets.history_seq == before.history_seq  # GET never changes anything

    key = CSRF.search(shown.text).group(1)
    answer = {"csrf": key, "decision": "confirm", "needs": "Rural clinics", "exchange": "remote"}
    recorded = await pages.post(path, data=answer)
    assert recorded.status_code == 200, recorded.text
    assert "your answer is recorded" in recorded.text and "Rural clinics" in recorded.text

    state = await steering.live_state(stack.backend, match_id=eoi.match_id)
    [prompt] = [p for p in state.prompts if p.party == Party.ADOPTER]
    assert prompt.status == PromptStatus.ANSWERED
    assert prompt.answer["needs"] == "Rural clinics" and prompt.answer["exchange"] == "remote"
    [entry] = [h for h in state.history if h.kind == "answered"]
    assert entry.actor == "adopter"  # the partner, not someone on their behalf

    twice = await pages.post(path, data=answer)  # a double submit: absorbed, same outcome
    assert twice.status_code == 200 and "your answer is recorded" in twice.text
    answered = await pages.get(path)
    assert answered.status_code == 409 and "already been answered" in answered.text
    assert "Rural clinics" in answered.text
    other = await pages.post(path, data={**answer, "needs": "Something else"})
    assert other.status_code == 409 and "Rural clinics" in other.text  # the first one stands
    state = await steering.live_state(stack.backend, match_id=eoi.match_id)
    assert [h.kind for h in state.history].count("answered") == 1


async def test_a_wrong_form_is_shown_again_with_the_message_beside_the_field(stack, pages):
    eoi, path = await _started(stack)
    key = CSRF.search((await pages.get(path)).text).group(1)
    refused = await pages.post(path, data={"csrf": key, "decision": "confirm", "needs": ""})
    assert refused.status_code == 422
    assert "describe your needs when you confirm" in refused.text.lower()
    assert 'value="confirm" required checked' in refused.text  # the input is kept
    missing = await pages.post(path, data={"csrf": key, "needs": "x"})
    assert missing.status_code == 422 and 'id="decision-error"' in missing.text
    state = await steering.live_state(stack.backend, match_id=eoi.match_id)
    assert all(p.is_open for p in state.prompts)


async def test_a_form_from_elsewhere_is_refused(stack, pages):
    eoi, path = await _started(stack)
    key = CSRF.search((await pages.get(path)).text).group(1)
    answer = {"decision": "decline", "reason": "not now"}
    assert (await pages.post(path, data=answer)).status_code == 403  # no form key
    assert (await pages.post(path, data={**answer, "csrf": "forged"})).status_code == 403
    cross = await pages.post(
        path, data={**answer, "csrf": key}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    state = await steering.live_state(stack.backend, match_id=eoi.match_id)
    assert all(p.is_open for p in state.prompts)


async def test_bad_links_change_nothing_and_say_why(stack, pages):
    eoi, path = await _started(stack)
    links = partner_links(Settings())
    tampered = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
    response = await pages.get(tampered)
    assert response.status_code == 400 and "not one Matchmaker sent" in response.text

    past = datetime.now(UTC) - timedelta(days=1)
    expired = links.mint(
        match_id=eoi.match_id, party="adopter", prompt_id="introduction_adopter-1", expires_at=past
    )
    response = await pages.get(f"/respond/{expired}")
    assert response.status_code == 410 and "fresh link" in response.text

    later = datetime.now(UTC) + timedelta(days=5)
    unknown = links.mint(
        match_id="match-NOPE-1",
        party="adopter",
        prompt_id="introduction_adopter-1",
        expires_at=later,
    )
    assert (await pages.get(f"/respond/{unknown}")).status_code == 404
    other = links.mint(
        match_id=eoi.match_id,
        party="provider",
        prompt_id="introduction_adopter-1",
        expires_at=later,
    )
    assert (await pages.get(f"/respond/{other}")).status_code == 404
    state = await steering.live_state(stack.backend, match_id=eoi.match_id)
    assert all(p.is_open for p in state.prompts)


async def test_answers_are_rate_limited_per_address(stack, pages):
    _eoi, path = await _started(stack)
    pages._transport.app.state.respond_limiter.limit = 2  # type: ignore[attr-defined]
    statuses = [(await pages.post(path, data={})).status_code for _ in range(3)]
    assert statuses[:2] == [403, 403]
    refused = await pages.post(path, data={})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


async def test_the_email_links_to_the_page_and_the_token_names_nobody(stack):
    eoi, path = await _started(stack)
    token = path.removeprefix("/respond/")
    for personal in (eoi.adopter.contact.email, eoi.adopter.contact.name):
        assert personal not in token
    [message] = stack.mail.to(eoi.adopter.contact.email)
    html = message.get_payload()[1].get_payload(decode=True).decode()
    assert f'href="http://matchmaker.test{path}"' in html
    claims = partner_links(Settings()).read(token, now=datetime.now(UTC))
    assert (claims.match_id, claims.party) == (eoi.match_id, "adopter")
