"""Every Secretariat action through its Update, including the refused ones."""

import json

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from domain.enums import CloseReason, MatchStatus, Party, Stage
from domain.lifecycle import events as ev
from domain.model import Contact
from tests.support import wait_for
from tests.workflows.helpers import Match
from workflows import search_attributes as sa
from workflows.match_lifecycle import MatchLifecycle


async def _refused(match: Match, update, event, reason: str) -> None:
    before = await match.state()
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await match.handle.execute_update(update, event)
    assert reason in str(info.value.cause)
    after = await match.state()
    assert after.history_seq == before.history_seq and after.model_dump() == before.model_dump()


async def _accepted_updates(match: Match) -> list[str]:
    history = await match.handle.fetch_history()
    names = []
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            request = e.workflow_execution_update_accepted_event_attributes.accepted_request.input
            name = request.name
            if name == "act":  # one update for every action: its kind names it
                codec = match.stack.client.data_converter.payload_codec  # payloads are sealed
                [payload] = await codec.decode(request.args.payloads[:1])
                name += ":" + json.loads(payload.data)["kind"]
            names.append(name)
    return names


async def test_secretariat_actions(stack, temporal_env, keep_history):
    match = await Match.begin(stack, temporal_env)
    h = match.handle

    await _refused(match, MatchLifecycle.act, ev.Resume(), "the match is not paused")
    await _refused(
        match, MatchLifecycle.act, ev.Resend(prompt_id="check_in-99"), "nothing to resend"
    )
    await _refused(match, MatchLifecycle.act, ev.CancelVisit(reason="no visit yet"), "no visit")

    paused = await h.execute_update(
        MatchLifecycle.act, ev.Pause(reason="ministerial reshuffle", by="ana")
    )
    assert paused.status == MatchStatus.PAUSED
    await wait_for(lambda: _status_attribute(match, "paused"))
    await _refused(match, MatchLifecycle.act, ev.Pause(reason="again"), "already paused")
    await match.sleep(20)
    assert not match.mails(subject="Reminder")  # nothing while paused
    resumed = await h.execute_update(MatchLifecycle.act, ev.Resume(by="ana"))
    assert resumed.status == MatchStatus.ACTIVE
    [entry] = [e for e in (await match.history("resumed"))]
    assert entry.data["shift_days"] == 20

    await h.execute_update(
        MatchLifecycle.act, ev.AddNote(text="Called the provider, answer next week", by="ben")
    )
    assert (await match.history("note"))[-1].actor == "secretariat:ben"

    count = len(match.mails())
    resent = await h.execute_update(MatchLifecycle.act, ev.Resend(by="ben"))
    await wait_for(lambda: len(match.mails()) >= count + 2)
    assert len(match.mails()) == count + 2 and {p.sends for p in resent.open_prompts} == {2}

    new = Contact(name="Aliya Nurlanovna", email="aliya@gov.kz", language="ru")
    await h.execute_update(
        MatchLifecycle.act,
        ev.ChangeContact(party=Party.ADOPTER, contact=new, reason="staff change"),
    )
    await wait_for(lambda: match.mails("aliya@gov.kz"))
    await _refused(
        match,
        MatchLifecycle.act,
        ev.ChangeContact(party=Party.ADOPTER, contact=new, reason="again"),
        "already the adopter contact",
    )

    advanced = await h.execute_update(
        MatchLifecycle.act, ev.Advance(to=Stage.ADAPTATION, reason="visit held informally")
    )
    assert advanced.stage == Stage.ADAPTATION
    await _refused(
        match,
        MatchLifecycle.act,
        ev.Advance(to=Stage.FIELD_VISIT, reason="go back"),
        "only move forward",
    )
    extended = await h.execute_update(
        MatchLifecycle.act, ev.ExtendDeadline(days=14, reason="holidays")
    )
    assert extended.open_prompts[0].kind == "adaptation_plan"

    closed = await h.execute_update(
        MatchLifecycle.act,
        ev.Close(reason=CloseReason.WITHDRAWN, note="adopter withdrew", by="ana"),
    )
    assert closed.stage == Stage.CLOSED and closed.close_reason == CloseReason.WITHDRAWN
    await match.finish()
    # a closed match's workflow has completed: nothing reaches it any more
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await h.execute_update(MatchLifecycle.act, ev.AddNote(text="late"))

    accepted = await _accepted_updates(match)
    assert accepted == [
        "act:pause",
        "act:resume",
        "act:add_note",
        "act:resend",
        "act:change_contact",
        "act:advance",
        "act:extend_deadline",
        "act:close",
    ]
    await keep_history(match.handle, "secretariat_actions")


async def _status_attribute(match: Match, value: str) -> bool:
    # read the raw payload: the test server answers an unset Datetime attribute (NextDeadline,
    # unset while paused) with a value the SDK's typed decoding rejects
    request = DescribeWorkflowExecutionRequest(
        namespace=match.stack.client.namespace,
        execution=WorkflowExecution(workflow_id=match.handle.id),
    )
    raw = await match.stack.client.workflow_service.describe_workflow_execution(request)
    fields = raw.workflow_execution_info.search_attributes.indexed_fields
    return json.loads(fields[sa.MATCH_STATUS.name].data) == value


async def test_invalid_partner_answers_are_refused_with_the_reason(stack, temporal_env):
    from domain.enums import PromptKind
    from domain.lifecycle import answers as a

    match = await Match.begin(stack, temporal_env)
    prompt = await match.open(PromptKind.INTRODUCTION_ADOPTER)
    good = a.InterestAnswer(decision="confirm", needs="rural access")
    await _refused(
        match,
        MatchLifecycle.answer,
        ev.Answered(prompt_id=prompt.id, party=Party.PROVIDER, answer=good),
        "is for the adopter, not the provider",
    )
    await _refused(
        match,
        MatchLifecycle.answer,
        ev.Answered(prompt_id="check_in-9", party=Party.ADOPTER, answer=good),
        "no prompt check_in-9 in this match",
    )
    await _refused(
        match,
        MatchLifecycle.answer,
        ev.Answered(
            prompt_id=prompt.id, party=Party.ADOPTER, answer=a.ShareAnswer(decision="accept")
        ),
        "asks for introduction_adopter",
    )
    await match.answer(PromptKind.INTRODUCTION_ADOPTER, good)
    await _refused(
        match,
        MatchLifecycle.answer,
        ev.Answered(prompt_id=prompt.id, party=Party.ADOPTER, answer=good),
        "no longer open",
    )
    assert await _accepted_updates(match) == ["answer"]
