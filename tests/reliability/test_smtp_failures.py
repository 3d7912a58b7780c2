"""The mail server fails the worker process in each way it can: down then back, 451 then
accepting, 550 for a recipient, 535 for Matchmaker's own login."""

import time

import pytest

from domain.enums import MatchStatus, Party, Stage
from domain.lifecycle import answers as a
from domain.lifecycle import events as ev
from services import steering
from services.intake import submit_eoi
from tests.reliability.harness import eoi_for, outbox, seconds, timed
from tests.support import wait_for

pytestmark = pytest.mark.reliability


async def _rows(stack, match_id: str) -> dict[str, object]:
    """The match's outbox rows by business key."""
    return {r.business_key: r for r in await outbox(stack.backend, [match_id])}


def _to(rows: dict[str, object], address: str) -> list:
    return [r for r in rows.values() if r.recipient.lower() == address.lower()]


def _tried(rows: dict[str, object], kinds: set[str], attempts: int = 1) -> bool:
    """An email of each kind is there, and every email was tried ``attempts`` times, the last
    attempt's outcome recorded."""
    return kinds <= {r.kind for r in rows.values()} and all(
        r.attempts >= attempts and (r.status != "pending" or r.last_error) for r in rows.values()
    )


INTRODUCTIONS = {"introduction_adopter", "introduction_provider"}


async def _answer(stack, match_id: str, party: Party, answer):
    state = await steering.live_state(stack.backend, match_id=match_id)
    [prompt] = [p for p in state.open_prompts() if p.party == party]
    event = ev.Answered(prompt_id=prompt.id, party=party, answer=answer)
    return await timed(
        lambda: steering.answer(
            stack.backend, match_id=match_id, event=event, entered_by="reliability@ssn4psi.org"
        )
    )


async def test_smtp_down_then_back_the_emails_arrive_once_and_answers_return_meanwhile(
    stack, figures
):
    mail = stack.mail
    eoi = eoi_for("S-down")
    match_id = eoi.match_id
    mail.stop()
    down = time.monotonic()
    try:
        await submit_eoi(stack.backend, eoi=eoi)
        await wait_for(lambda: _tried_now(stack, match_id, INTRODUCTIONS), timeout=60)
        # both partners answer while no email can go out
        _, adopter_took = await _answer(
            stack, match_id, Party.ADOPTER, a.InterestAnswer(decision="confirm", needs="rural")
        )
        result, provider_took = await _answer(
            stack, match_id, Party.PROVIDER, a.ShareAnswer(decision="accept")
        )
        assert result.stage == Stage.FIELD_VISIT
        proposal = INTRODUCTIONS | {"visit_proposal"}
        await wait_for(lambda: _tried_now(stack, match_id, proposal), timeout=60)
        attempts_while_down = sum(r.attempts for r in (await _rows(stack, match_id)).values())
    finally:
        mail.start()
    back = time.monotonic()

    async def all_sent():
        rows = await _rows(stack, match_id)
        return rows if all(r.status == "sent" for r in rows.values()) else None

    rows = await wait_for(all_sent, timeout=120)
    copies = mail.handler.copies()
    state = await steering.live_state(stack.backend, match_id=match_id)
    figures.update(
        smtp_down_s=round(back - down, 1),
        answers_while_down_s=seconds([adopter_took, provider_took]),
        attempts_while_down=attempts_while_down,
        back_to_all_delivered_s=round(time.monotonic() - back, 1),
        emails=len(rows),
        copies_received=[copies[r.message_id] for r in rows.values()],
    )
    assert {r.kind for r in rows.values()} >= proposal
    assert [copies[r.message_id] for r in rows.values()] == [1] * len(rows)
    assert state.status == MatchStatus.ACTIVE and not state.attention


async def _tried_now(stack, match_id: str, kinds: set[str]) -> bool:
    return _tried(await _rows(stack, match_id), kinds)


async def test_451_for_a_recipient_then_accepting_delivers_once(stack, figures):
    mail = stack.mail
    eoi = eoi_for("S-451")
    adopter = eoi.adopter.contact.email.lower()
    mail.handler.refuse[adopter] = "451 4.3.0 Mailbox temporarily unavailable, try later"
    started = time.monotonic()
    try:
        await submit_eoi(stack.backend, eoi=eoi)
        await wait_for(lambda: mail.handler.refused[adopter] >= 1, timeout=60)

        async def deferred():
            # the server counts its refusal before the worker records the deferral
            rows = _to(await _rows(stack, eoi.match_id), adopter)
            return rows if rows and rows[0].status != "sending" else None

        [row] = await wait_for(deferred, timeout=30)
        assert row.status == "pending"
    finally:
        del mail.handler.refuse[adopter]

    async def sent():
        rows = await _rows(stack, eoi.match_id)
        return rows if rows and all(r.status == "sent" for r in rows.values()) else None

    [row] = _to(await wait_for(sent, timeout=120), adopter)
    state = await steering.live_state(stack.backend, match_id=eoi.match_id)
    figures.update(
        refusals=mail.handler.refused[adopter],
        attempts=row.attempts,
        delivered_after_s=round(time.monotonic() - started, 1),
        copies_received=len(mail.handler.to(adopter)),
    )
    assert len(mail.handler.to(adopter)) == 1
    assert row.attempts >= 2
    assert state.status == MatchStatus.ACTIVE and not state.attention


async def test_550_for_a_recipient_bounces_and_the_match_needs_attention(stack, figures):
    mail = stack.mail
    eoi = eoi_for("S-550")
    adopter = eoi.adopter.contact.email.lower()
    mail.handler.refuse[adopter] = "550 5.1.1 No such user here"
    started = time.monotonic()
    try:
        await submit_eoi(stack.backend, eoi=eoi)

        async def attention():
            state = await steering.live_state(stack.backend, match_id=eoi.match_id)
            return state if "delivery:adopter" in state.attention else None

        state = await wait_for(attention, timeout=60)
    finally:
        del mail.handler.refuse[adopter]
    took = time.monotonic() - started
    rows = await _rows(stack, eoi.match_id)
    provider = eoi.solution.contact.email.lower()
    await wait_for(lambda: mail.handler.to(provider), timeout=60)
    figures.update(
        needs_attention_after_s=round(took, 1),
        status=str(state.status),
        attention=state.attention,
        outbox={r.recipient: (r.status, r.attempts) for r in rows.values()},
    )
    assert state.status == MatchStatus.NEEDS_ATTENTION
    assert "550" in state.attention["delivery:adopter"]
    [row] = _to(rows, adopter)
    assert row.status == "bounced" and row.attempts == 1
    assert not mail.handler.to(adopter)
    assert len(mail.handler.to(provider)) == 1


async def test_535_on_login_is_retried_never_a_bounce(stack, figures):
    """The server refusing Matchmaker's login (535) is the server's problem, not the
    recipients': nothing is marked bounced, the emails are retried, and they go out once
    the login is accepted again; the operator is alerted once."""
    mail, worker = stack.mail, stack.worker
    eoi = eoi_for("S-535")
    since = len(worker.output())
    mail.stop()
    mail.handler.refuse_login = True
    mail.start()
    started = time.monotonic()
    try:
        await submit_eoi(stack.backend, eoi=eoi)
        await wait_for(lambda: _tried_now(stack, eoi.match_id, INTRODUCTIONS), timeout=60)
        rows = await _rows(stack, eoi.match_id)
        figures.update(after_first_attempt={r.recipient: r.status for r in rows.values()})
        assert not [r for r in rows.values() if r.status == "bounced"]
        # retried: a second attempt each, still refused, and still nothing bounced
        await wait_for(
            lambda: _tried_again(stack, eoi.match_id), timeout=90
        )  # the retry's backoff is 5 s
        state = await steering.live_state(stack.backend, match_id=eoi.match_id)
        assert not [k for k in state.attention if k.startswith("delivery")]
        refusals = mail.handler.login_refusals
    finally:
        mail.stop()
        mail.handler.refuse_login = False
        mail.start()

    async def sent():
        rows = await _rows(stack, eoi.match_id)
        return rows if all(r.status == "sent" for r in rows.values()) else None

    rows = await wait_for(sent, timeout=120)
    copies = mail.handler.copies()
    records = worker.records(since)
    alerts = [r for r in records if r.get("level") == "error" and "535" in str(r)]
    figures.update(
        login_refusals=refusals,
        attempts={r.recipient: r.attempts for r in rows.values()},
        delivered_after_s=round(time.monotonic() - started, 1),
        copies_received=[copies[r.message_id] for r in rows.values()],
        operator_alerts=len(alerts),
    )
    assert [copies[r.message_id] for r in rows.values()] == [1] * len(rows)
    assert len(alerts) == 1


async def _tried_again(stack, match_id: str) -> bool:
    rows = await _rows(stack, match_id)
    assert not [r for r in rows.values() if r.status == "bounced"]
    return _tried(rows, INTRODUCTIONS, attempts=2)
