"""From intake to `completed` as partners would: every answer is given by reading the email at
the SMTP server, following its link over HTTP and submitting the form; nothing else reaches
the workflow."""

import re
from datetime import timedelta

import pytest

from domain.enums import CloseReason, MatchStatus, PromptStatus, Stage
from store import queries
from tests.support import start_test_server, wait_for
from tests.web.test_partner_pages import CSRF, LINK, _text
from tests.workflows.helpers import Match


@pytest.fixture
async def temporal_env():
    """A test server of its own: time skipping stalls while other tests' workflows wait."""
    env = await start_test_server()
    try:
        yield env
    finally:
        await env.shutdown()


async def _by_link(match: Match, pages, *, to: str, subject: str, form: dict[str, str]):
    """Open the link of the last email to ``to`` whose subject has ``subject``; send the form."""
    mails = await wait_for(lambda: match.mails(to=to, subject=subject), timeout=30)
    path = LINK.search(_text(mails[-1])).group(1)
    shown = await pages.get(path)
    assert shown.status_code == 200, shown.text
    sent = await pages.post(path, data={"csrf": CSRF.search(shown.text).group(1), **form})
    assert sent.status_code == 200, re.sub(r"\s+", " ", sent.text)[:2000]
    assert "your answer is recorded" in sent.text
    return sent


async def test_a_match_completes_with_every_answer_given_at_its_link(stack, temporal_env, pages):
    match = await Match.begin(stack, temporal_env)
    adopter, provider = match.eoi.adopter.contact.email, match.eoi.solution.contact.email
    await _by_link(
        match,
        pages,
        to=adopter,
        subject="please confirm",
        form={"decision": "confirm", "needs": "one-stop shops", "exchange": "field_visit"},
    )
    await _by_link(
        match, pages, to=provider, subject="will you share it", form={"decision": "accept"}
    )
    today = (await match.state()).history[-1].occurred_at.date()
    start, end = today + timedelta(days=20), today + timedelta(days=22)
    await _by_link(
        match,
        pages,
        to=adopter,
        subject="propose dates",
        form={
            "plan.start": start.isoformat(),
            "plan.end": end.isoformat(),
            "plan.format": "in_person",
            "plan.delegation_size": "6",
        },
    )
    confirmed = await _by_link(
        match, pages, to=provider, subject="please confirm the dates", form={"decision": "confirm"}
    )
    assert "field visit" in confirmed.text
    await match.sleep(25)
    await _by_link(
        match,
        pages,
        to=adopter,
        subject="How did the field visit go?",
        form={"held": "true", "learned": "the financing model", "proceed": "true"},
    )
    await _by_link(
        match,
        pages,
        to=adopter,
        subject="Your adaptation plan",
        form={
            "customisations": "Forms in Russian",
            "target_pilot_date": (today + timedelta(days=120)).isoformat(),
        },
    )
    await match.sleep(31)
    await _by_link(
        match,
        pages,
        to=adopter,
        subject="Monthly check-in 1",
        form={"status": "piloted", "note": "pilot in two districts"},
    )
    await _by_link(
        match,
        pages,
        to=adopter,
        subject="The outcome of",
        form={
            "result": "scaled",
            "people_reached": "250000",
            "time_saved_days": "3",
            "cost_saved_usd": "12.5",
            "visits_saved": "2",
            "lessons": "train operators first",
            "consent_to_publish": "true",
        },
    )
    done = await _by_link(
        match,
        pages,
        to=provider,
        subject="Please confirm the outcome",
        form={"confirmed": "true", "notes": "proud partners"},
    )
    assert "The match is now complete" in done.text  # and nothing more is asked
    final = await match.finish()
    assert final.close_reason == CloseReason.COMPLETED
    state = await match.state()
    assert all(p.status == PromptStatus.ANSWERED for p in state.prompts)
    assert {h.actor for h in state.history if h.kind == "answered"} == {"adopter", "provider"}
    async with stack.resources.sessions() as session:
        row = await queries.get_match(session, match_id=match.eoi.match_id)
    assert (row.stage, row.status) == (Stage.CLOSED, MatchStatus.COMPLETED)
