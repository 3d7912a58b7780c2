"""Rules version 2 on a real worker; a match that began under version 1 keeps it."""

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.enums import CheckInStatus, Party, PromptKind, Stage
from domain.lifecycle import answers as a
from domain.lifecycle import events as ev
from domain.lifecycle import start
from domain.policy import TimingPolicy
from tests.support import record_eoi, unique_eoi, wait_for
from tests.workflows.helpers import Match
from tests.workflows.test_later_stages import _adapt, _agree, _plan
from workflows.contracts import MatchLifecycleInput
from workflows.match_lifecycle import MatchLifecycle


async def test_a_recorded_past_visit_then_progress_reported_at_any_time(
    stack, temporal_env, keep_history
):
    match = await Match.begin(stack, temporal_env)
    today = (await match.state()).history[-1].occurred_at.date()
    held = a.VisitPlan(
        start=today - timedelta(days=40),
        end=today - timedelta(days=38),
        format="in_person",
        delegation_size=4,
    )
    result = await match.handle.execute_update(
        MatchLifecycle.act,
        ev.RecordVisit(
            plan=held,
            held=True,
            report="front-office redesign",
            proceed=True,
            reason="the visit took place before the match was entered",
            by="ana",
        ),
    )
    assert result.stage == Stage.ADAPTATION
    assert [p.kind for p in result.open_prompts] == ["adaptation_plan"]
    await _adapt(match)

    # between check-ins, the adopter reports a blockage: provider and Secretariat are asked
    blocked = await match.handle.execute_update(
        MatchLifecycle.report_progress,
        ev.ReportProgress(
            report=a.CheckInAnswer(status=CheckInStatus.BLOCKED, support_needed="API specs")
        ),
    )
    assert blocked.stage == Stage.ADAPTATION
    provider = match.eoi.solution.contact.email
    await wait_for(lambda: match.mails(provider, "Support requested"))
    piloted = await match.handle.execute_update(
        MatchLifecycle.report_progress,
        ev.ReportProgress(report=a.CheckInAnswer(status=CheckInStatus.PILOTED)),
    )
    assert piloted.stage == Stage.OUTCOME
    state = await match.state()
    assert state.rules_version >= 2 and state.visit is not None and state.visit.held
    await keep_history(match.handle, "recorded_visit_then_progress")


async def test_advancing_past_a_scheduled_visit_calls_it_off(stack, temporal_env, keep_history):
    match = await Match.begin(stack, temporal_env)
    await _agree(match)
    plan = await _plan(match, 20)
    await match.handle.execute_update(
        MatchLifecycle.act, ev.ScheduleVisit(plan=plan, reason="agreed by phone")
    )
    result = await match.handle.execute_update(
        MatchLifecycle.act,
        ev.Advance(to=Stage.ADAPTATION, reason="the visit is not needed after all"),
    )
    assert [p.kind for p in result.open_prompts] == ["adaptation_plan"]
    state = await match.state()
    assert state.next_deadline == min(state.open_prompts()[0].timers())
    await match.sleep(25)  # past the visit's dates
    kinds = [h.kind for h in await match.history()]
    assert "visit_cancelled" in kinds and "visit_ended" not in kinds
    assert not match.mails(subject="Field visit starts")
    assert not match.mails(subject="How did the field visit go?")
    assert all(p.stage == Stage.ADAPTATION for p in (await match.state()).open_prompts())
    await keep_history(match.handle, "advanced_past_a_scheduled_visit")


async def test_a_match_begun_under_version_1_keeps_it_across_continue_as_new(stack):
    """A run continued as new after the upgrade carries version 1 and its rules."""
    eoi = unique_eoi()
    policy = TimingPolicy()
    first = start(eoi, policy, datetime.now(UTC) - timedelta(minutes=1), rules_version=1)
    await record_eoi(stack.resources.sessions, eoi)  # as the first run recorded it
    handle = await stack.client.start_workflow(
        MatchLifecycle.run,
        MatchLifecycleInput(eoi=eoi, policy=policy, state=first.state),
        id=eoi.match_id,
        task_queue=stack.task_queue,
    )
    state = await handle.query(MatchLifecycle.state)
    assert state.rules_version == 1
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            MatchLifecycle.report_progress,
            ev.ReportProgress(report=a.CheckInAnswer(status=CheckInStatus.ON_TRACK)),
        )
    assert "rules version 1" in str(refused.value.cause)
    accepted = await handle.execute_update(
        MatchLifecycle.answer,
        ev.Answered(
            prompt_id="introduction_adopter-1",
            party=Party.ADOPTER,
            answer=a.InterestAnswer(decision="confirm", needs="training"),
        ),
    )
    assert accepted.waiting_on == [Party.PROVIDER]
    assert [p.kind for p in accepted.open_prompts] == [PromptKind.INTRODUCTION_PROVIDER]
