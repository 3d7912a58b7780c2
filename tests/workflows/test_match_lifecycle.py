import asyncio
from datetime import timedelta

from temporalio.client import WorkflowExecutionStatus

from domain.enums import MatchStatus, Stage
from services.intake import submit_eoi
from store import queries
from tests.support import unique_eoi, wait_for
from workflows import search_attributes as sa
from workflows.match_lifecycle import MatchLifecycle


async def test_first_step_records_introduces_and_waits(stack, temporal_env, keep_history):
    """Intake → record, introduce both partners, publish search attributes, wait."""
    eoi = unique_eoi()
    result = await submit_eoi(stack.backend, eoi=eoi)
    assert result.created and result.workflow_id == f"match-{eoi.id}"
    async with stack.resources.sessions() as session:  # read your own write, for every caller
        assert await queries.get_match(session, match_id=eoi.match_id) is not None
    handle = stack.client.get_workflow_handle(result.workflow_id)

    await wait_for(lambda: len(stack.mail.messages) == 2)
    state = await handle.query(MatchLifecycle.state)
    assert (state.stage, state.status) == (Stage.FOLLOW_UP, MatchStatus.ACTIVE)
    assert state.next_deadline == state.started_at + timedelta(days=7)
    assert [h.kind for h in state.history] == ["match_recorded", "prompt_opened", "prompt_opened"]
    assert state.waiting_on() == ["adopter", "provider"]

    async with stack.resources.sessions() as session:
        match = await queries.get_match(session, match_id=eoi.match_id)
        assert match is not None and match.stage == "follow_up" and match.status == "active"
        assert match.next_deadline == state.next_deadline
        history = await queries.list_history(session, match_id=eoi.match_id)
        assert [h.seq for h in history] == [1, 2, 3]
        emails = await queries.list_outbox(session, match_id=eoi.match_id)
        assert sorted(e.recipient for e in emails) == sorted(
            [eoi.adopter.contact.email, eoi.solution.contact.email]
        )
        assert {e.status for e in emails} == {"sent"}

    description = await handle.describe()
    attrs = description.typed_search_attributes
    assert attrs.get(sa.MATCH_STAGE) == "follow_up"
    assert attrs.get(sa.MATCH_STATUS) == "active"
    assert attrs.get(sa.FOCUS_AREA) == "future_of_public_service"
    assert attrs.get(sa.ADOPTER_COUNTRY) == "KZ" and attrs.get(sa.PROVIDER_COUNTRY) == "BD"
    assert attrs.get(sa.WORKSHOP_ID) == "ws-2021-nur-sultan"
    assert attrs.get(sa.NEXT_DEADLINE) == state.next_deadline
    assert await description.static_summary() == eoi.summary()

    # the workflow waits durably for what comes next
    await temporal_env.sleep(timedelta(days=3))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    assert len(stack.mail.messages) == 2
    await keep_history(handle, "first_step_waiting")


async def test_same_eoi_twice_starts_one_workflow_and_sends_two_emails(stack):
    eoi = unique_eoi()
    first = await submit_eoi(stack.backend, eoi=eoi)
    await wait_for(lambda: len(stack.mail.messages) == 2)
    second = await submit_eoi(stack.backend, eoi=eoi)
    assert first.created and not second.created
    assert second.run_id == first.run_id
    await asyncio.sleep(0.5)  # give a (wrong) second workflow time to send
    assert len(stack.mail.messages) == 2
