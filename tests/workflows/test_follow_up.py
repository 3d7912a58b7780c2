"""Follow-up: both partners answer, decline, stay silent, get extended, bounce."""

import pytest
from temporalio.client import WorkflowExecutionStatus

from domain.enums import CloseReason, MatchStatus, Party, PromptKind, Stage
from domain.lifecycle import answers as a
from domain.lifecycle import events as ev
from store import queries
from tests.support import wait_for
from tests.workflows.helpers import Match
from workflows import search_attributes as sa
from workflows.match_lifecycle import MatchLifecycle


@pytest.mark.parametrize("party", [Party.ADOPTER, Party.PROVIDER])
async def test_decline_by_either_party(stack, temporal_env, keep_history, party):
    match = await Match.begin(stack, temporal_env)
    if party == Party.ADOPTER:
        await match.answer(
            PromptKind.INTRODUCTION_ADOPTER,
            a.InterestAnswer(decision="decline", reason="budget frozen"),
        )
    else:
        await match.answer(
            PromptKind.INTRODUCTION_PROVIDER,
            a.ShareAnswer(decision="decline", reason="team overloaded"),
        )
    result = await match.finish()
    assert result.stage == Stage.CLOSED and result.close_reason == CloseReason.DECLINED
    [closed] = await match.history("closed")
    assert closed.data["party"] == party and closed.data["why"] in (
        "budget frozen",
        "team overloaded",
    )
    async with stack.resources.sessions() as session:
        row = await queries.get_match(session, match_id=match.eoi.match_id)
        assert (row.stage, row.status, row.close_reason) == ("closed", "closed", "declined")
    assert match.mails("secretariat@ssn4psi.org", "closed: declined")
    await keep_history(match.handle, f"declined_by_{party}")


async def test_silence_reminds_on_days_7_and_14_escalates_on_21_lapses_on_30(
    stack, temporal_env, keep_history
):
    match = await Match.begin(stack, temporal_env)
    result = await match.finish(31)
    assert result.close_reason == CloseReason.LAPSED and result.status == MatchStatus.CLOSED
    assert await match.days_of("reminder_sent") == [7, 7, 14, 14]
    assert await match.days_of("escalated") == [21, 21]
    assert await match.days_of("closed") == [30]
    adopter = match.eoi.adopter.contact.email
    assert len(match.mails(adopter, "Reminder ")) == 2
    assert match.mails(adopter, "Reminder 1: ") and match.mails(adopter, "Reminder 2: ")
    # one notice names both silent partners (rules v3)
    assert len(match.mails("secretariat@ssn4psi.org", "Needs attention")) == 1
    assert len(match.mails(adopter, "ended")) == 1  # each partner is told it closed
    await keep_history(match.handle, "lapsed")


async def test_escalation_marks_needs_attention(stack, temporal_env):
    match = await Match.begin(stack, temporal_env)
    await match.sleep(22)
    await wait_for(lambda: match.mails("secretariat@ssn4psi.org", "Needs attention"))
    state = await match.state()
    assert state.status == MatchStatus.NEEDS_ATTENTION
    description = await match.handle.describe()
    assert description.typed_search_attributes.get(sa.MATCH_STATUS) == "needs_attention"
    async with stack.resources.sessions() as session:
        assert (
            await queries.get_match(session, match_id=match.eoi.match_id)
        ).status == "needs_attention"


async def test_extension_moves_the_lapse(stack, temporal_env, keep_history):
    match = await Match.begin(stack, temporal_env)
    await match.sleep(25)
    await match.handle.execute_update(
        MatchLifecycle.act, ev.ExtendDeadline(days=10, reason="elections", by="ana")
    )
    await match.sleep(10)
    assert (await match.state()).stage == Stage.FOLLOW_UP  # day 35: past the old lapse, still open
    result = await match.finish(6)
    assert result.close_reason == CloseReason.LAPSED
    assert await match.days_of("closed") == [40]
    [extended] = await match.history("deadline_extended")
    assert extended.actor == "secretariat:ana"
    await keep_history(match.handle, "extended_then_lapsed")


async def test_both_remote_go_straight_to_adaptation(stack, temporal_env):
    match = await Match.begin(stack, temporal_env)
    await match.answer(
        PromptKind.INTRODUCTION_ADOPTER,
        a.InterestAnswer(decision="confirm", needs="online training", exchange="remote"),
    )
    result = await match.answer(
        PromptKind.INTRODUCTION_PROVIDER, a.ShareAnswer(decision="accept", exchange="remote")
    )
    assert result.stage == Stage.ADAPTATION
    assert [p.kind for p in result.open_prompts] == ["adaptation_plan"]
    await wait_for(lambda: match.mails(match.eoi.adopter.contact.email, "adaptation plan"))


async def test_a_5xx_bounce_needs_attention_and_the_workflow_goes_on(
    stack, temporal_env, keep_history
):
    adopter = "a.sadykova@gov.kz"
    stack.mail.refuse[adopter] = "550 5.1.1 no such mailbox"
    match = await Match.begin(stack, temporal_env)
    await wait_for(lambda: match.mails("secretariat@ssn4psi.org", "not delivered"))
    state = await match.state()
    assert state.status == MatchStatus.NEEDS_ATTENTION and "delivery:adopter" in state.attention
    assert (await match.handle.describe()).status == WorkflowExecutionStatus.RUNNING
    assert match.mails(match.eoi.solution.contact.email)  # the provider was still introduced
    [failed] = await match.history("delivery_failed")
    assert "550" in failed.summary
    async with stack.resources.sessions() as session:
        emails = await queries.list_outbox(session, match_id=match.eoi.match_id)
        assert {e.recipient: e.status for e in emails}[adopter] == "bounced"
    # the Secretariat fixes the contact: the open prompt goes to the new address
    from domain.model import Contact

    new = Contact(name="Aliya Nurlanovna", email="aliya@gov.kz", language="ru")
    result = await match.handle.execute_update(
        MatchLifecycle.act,
        ev.ChangeContact(party=Party.ADOPTER, contact=new, reason="bounced"),
    )
    assert result.status == MatchStatus.ACTIVE
    # she speaks Russian: the open prompt reaches her in Russian
    await wait_for(lambda: match.mails("aliya@gov.kz", "просим подтвердить"))
    await keep_history(match.handle, "bounce_then_contact_changed")
