"""Answers and actions never wait on email: the effect pump and its bounded retries."""

import asyncio
import shutil
import time

import pytest

from activities import notifications
from activities.mail import TEMPLATES_DIR, TemplateRenderer
from domain.enums import MatchStatus, Party, PromptKind, Stage
from domain.lifecycle import answers as a
from domain.lifecycle import events as ev
from store import queries
from tests.support import wait_for
from tests.workflows.helpers import Match
from workflows.effects import EMAIL_HEARTBEAT_TIMEOUT
from workflows.match_lifecycle import MatchLifecycle

TRY_LATER = "421 4.3.2 Service not available, try again later"


async def _outbox(stack, match: Match) -> dict[str, tuple[str, int]]:
    """Each email's template kind and recipient → (status, attempts)."""
    async with stack.resources.sessions() as session:
        rows = await queries.list_outbox(session, match_id=match.eoi.match_id)
    return {f"{r.kind}:{r.recipient}": (r.status, r.attempts) for r in rows}


async def _both_agree(match: Match):
    await match.answer(
        PromptKind.INTRODUCTION_ADOPTER, a.InterestAnswer(decision="confirm", needs="rural access")
    )
    started = time.monotonic()
    # a hang guard only: the old driver waited here until the email was delivered
    result = await asyncio.wait_for(
        match.answer(PromptKind.INTRODUCTION_PROVIDER, a.ShareAnswer(decision="accept")),
        timeout=10,
    )
    return result, time.monotonic() - started


async def test_an_answer_returns_while_smtp_refuses_and_the_email_follows(stack, temporal_env):
    match = await Match.begin(stack, temporal_env)
    adopter = match.eoi.adopter.contact.email
    stack.mail.refuse[adopter] = TRY_LATER

    result, took = await _both_agree(match)

    assert result.stage == Stage.FIELD_VISIT
    assert [p.kind for p in result.open_prompts] == ["visit_proposal"]
    print(f"answer accepted in {took:.3f} s while SMTP refused the adopter")  # noqa: T201
    # the visit proposal is being retried, and the match still takes actions meanwhile
    key = f"visit_proposal:{adopter}"
    await wait_for(lambda: _retried(stack, match, key), timeout=30)
    noted = await asyncio.wait_for(
        match.handle.execute_update(
            MatchLifecycle.act, ev.AddNote(text="Called the adopter about dates", by="ana")
        ),
        timeout=10,
    )
    assert noted.stage == Stage.FIELD_VISIT
    assert not match.mails(adopter, "propose dates")

    del stack.mail.refuse[adopter]
    await match.sleep(1 / 24)  # let the retry's backoff pass
    await wait_for(lambda: match.mails(adopter, "propose dates"), timeout=30)
    assert len(match.mails(adopter, "propose dates")) == 1
    assert (await _outbox(stack, match))[key][0] == "sent"
    state = await match.state()
    assert state.status == MatchStatus.ACTIVE and not state.attention


async def _retried(stack, match: Match, key: str) -> bool:
    status, attempts = (await _outbox(stack, match)).get(key, ("", 0))
    return status == "pending" and attempts >= 2


async def test_an_outage_longer_than_the_bound_makes_the_email_undeliverable(stack, temporal_env):
    match = await Match.begin(stack, temporal_env)
    adopter = match.eoi.adopter.contact.email
    stack.mail.refuse[adopter] = TRY_LATER  # say, the adopter's mail server is down for days

    result, _ = await _both_agree(match)
    assert result.stage == Stage.FIELD_VISIT
    await match.sleep(2)  # past the default bound of 24 hours

    async def given_up():
        state = await match.state()
        return state if "delivery:adopter" in state.attention else None

    state = await wait_for(given_up, timeout=60)
    assert state.status == MatchStatus.NEEDS_ATTENTION
    failed = [h for h in state.history if h.kind == "delivery_failed"]
    assert "not delivered within 24 hours" in failed[0].summary
    assert "421" in failed[0].summary  # the last error the mail server gave
    outbox = await _outbox(stack, match)
    assert outbox[f"visit_proposal:{adopter}"][0] == "failed"
    assert not match.mails(adopter, "propose dates")

    # the Secretariat was told
    [told] = match.mails("secretariat@ssn4psi.org", "not delivered")
    assert (
        "not delivered within 24 hours" in told.get_payload()[0].get_payload(decode=True).decode()
    )

    # the adopter's server is back: a resend sends the prompt again
    stack.mail.refuse.clear()
    resent = await match.handle.execute_update(MatchLifecycle.act, ev.Resend(by="ana"))
    assert [p.sends for p in resent.open_prompts] == [2]
    await wait_for(lambda: match.mails(adopter, "propose dates"), timeout=30)
    async with stack.resources.sessions() as session:
        rows = await queries.list_outbox(session, match_id=match.eoi.match_id)
    # the undeliverable row stays failed; the resend is a row of its own
    assert [r.status for r in rows if r.kind == "visit_proposal"] == ["failed", "sent"]
    assert (await match.open(PromptKind.VISIT_PROPOSAL)).party == Party.ADOPTER


@pytest.fixture
def broken_visit_proposal(tmp_path, monkeypatch):
    """Workers built after this render visit_proposal from a template with an error in it."""
    directory = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, directory)
    (directory / "visit_proposal.txt.j2").write_text(
        "{% set subject %}Propose dates{% endset %}{{ no_such.thing }}\n"
    )
    monkeypatch.setattr(notifications, "TemplateRenderer", lambda: TemplateRenderer(directory))


async def test_an_email_that_cannot_be_built_is_a_delivery_failure_at_once(
    broken_visit_proposal, stack, temporal_env
):
    match = await Match.begin(stack, temporal_env)
    adopter = match.eoi.adopter.contact.email
    await _both_agree(match)

    async def told():
        state = await match.state()
        return state if "delivery:adopter" in state.attention else None

    state = await wait_for(told, timeout=30)  # no backoff, no waiting for the bound
    [failed] = [h for h in state.history if h.kind == "delivery_failed"]
    assert "the email could not be built: template visit_proposal: UndefinedError" in (
        failed.summary
    )
    assert failed.summary.endswith("fix the template (a bug: tell the developers), then resend")
    assert (await _outbox(stack, match))[f"visit_proposal:{adopter}"] == ("failed", 1)
    await wait_for(lambda: match.mails("secretariat@ssn4psi.org", "not delivered"), timeout=30)
    # the activity marked the row itself; send_email runs with a heartbeat timeout
    history = await match.handle.fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    kinds = [a.activity_type.name for a in scheduled]
    assert "mark_undeliverable" not in kinds and "send_email" in kinds
    assert {
        a.heartbeat_timeout.ToTimedelta() for a in scheduled if a.activity_type.name == "send_email"
    } == {EMAIL_HEARTBEAT_TIMEOUT}
