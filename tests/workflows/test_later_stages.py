"""Field visit, adaptation (with continue-as-new) and outcome on a real worker."""

from datetime import timedelta

from domain.enums import CloseReason, MatchStatus, Party, PromptKind, Stage
from domain.lifecycle import answers as a
from domain.lifecycle import events as ev
from domain.lifecycle.state import RULES_VERSION
from domain.policy import TimingPolicy
from store import queries
from tests.support import wait_for
from tests.workflows.helpers import Match
from workflows.match_lifecycle import MatchLifecycle


async def _agree(match: Match, remote: bool = False) -> None:
    exchange = "remote" if remote else "field_visit"
    await match.answer(
        PromptKind.INTRODUCTION_ADOPTER,
        a.InterestAnswer(decision="confirm", needs="rural one-stop shops", exchange=exchange),
    )
    await match.answer(
        PromptKind.INTRODUCTION_PROVIDER, a.ShareAnswer(decision="accept", exchange=exchange)
    )


async def _plan(match: Match, start_in: int, days: int = 3) -> a.VisitPlan:
    today = (await match.state()).history[-1].occurred_at.date()
    return a.VisitPlan(
        start=today + timedelta(days=start_in),
        end=today + timedelta(days=start_in + days - 1),
        format="in_person",
        delegation_size=6,
    )


async def _adapt(match: Match) -> None:
    today = (await match.state()).history[-1].occurred_at.date()
    await match.answer(
        PromptKind.ADAPTATION_PLAN,
        a.AdaptationPlanAnswer(
            customisations="Russian-language forms", target_pilot_date=today + timedelta(days=90)
        ),
    )


async def test_happy_path_to_completed(stack, temporal_env, keep_history):
    match = await Match.begin(stack, temporal_env)
    await _agree(match)
    plan = await _plan(match, 20)
    await match.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=plan))
    await match.answer(PromptKind.VISIT_CONFIRMATION, a.VisitConfirmation(decision="confirm"))
    await match.sleep(15)
    await wait_for(lambda: len(match.mails(subject="Field visit starts")) == 2)
    await match.sleep(10)
    await wait_for(lambda: match.mails(subject="How did the field visit go?"))
    await match.answer(
        PromptKind.VISIT_REPORT, a.VisitReport(held=True, proceed=True, learned="financing model")
    )
    await _adapt(match)
    await match.sleep(31)
    await wait_for(lambda: match.mails(subject="Monthly check-in 1"))
    await match.answer(PromptKind.CHECK_IN, a.CheckInAnswer(status="piloted"))
    await match.answer(
        PromptKind.OUTCOME_REPORT,
        a.OutcomeReport(
            result="scaled",
            people_reached=250000,
            time_saved_days=3,
            cost_saved_usd=12.5,
            visits_saved=2,
            lessons="train operators first",
            consent_to_publish=True,
        ),
    )
    result = await match.answer(
        PromptKind.OUTCOME_CONFIRMATION,
        a.OutcomeConfirmation(confirmed=True, notes="proud partners"),
    )
    assert result.stage == Stage.CLOSED and result.status == MatchStatus.COMPLETED
    final = await match.finish()
    assert final.close_reason == CloseReason.COMPLETED
    assert len(match.mails(subject="Thank you")) == 2
    async with stack.resources.sessions() as session:
        row = await queries.get_match(session, match_id=match.eoi.match_id)
        assert (row.stage, row.status, row.close_reason) == ("closed", "completed", "completed")
        case = await queries.get_case_study(session, match_id=match.eoi.match_id)
        assert case is not None and case.status == "draft"
        assert "People reached: 250,000" in case.body and "## Field visit" in case.body
        history = await queries.list_history(session, match_id=match.eoi.match_id)
        assert [h.seq for h in history] == list(range(1, len(history) + 1))
        assert {"visit_scheduled", "visit_ended", "outcome_recorded", "case_study_drafted"} <= {
            h.kind for h in history
        }
    await keep_history(match.handle, "happy_path")


async def test_counter_proposal_reschedule_and_cancellation(stack, temporal_env, keep_history):
    match = await Match.begin(stack, temporal_env, policy=TimingPolicy(max_reschedules=1))
    await _agree(match)
    await match.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=await _plan(match, 20)))
    counter = await _plan(match, 35)
    await match.answer(
        PromptKind.VISIT_CONFIRMATION,
        a.VisitConfirmation(decision="counter", counter=counter, reason="ministers away"),
    )
    confirm = await match.open(PromptKind.VISIT_CONFIRMATION)
    assert confirm.party == Party.ADOPTER
    await match.answer(PromptKind.VISIT_CONFIRMATION, a.VisitConfirmation(decision="confirm"))
    assert (await match.state()).visit.plan == counter
    result = await match.handle.execute_update(
        MatchLifecycle.act, ev.CancelVisit(reason="flights grounded", by="ana")
    )
    assert result.stage == Stage.FIELD_VISIT and [p.kind for p in result.open_prompts] == [
        "visit_proposal"
    ]
    await match.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=await _plan(match, 50)))
    result = await match.answer(
        PromptKind.VISIT_CONFIRMATION, a.VisitConfirmation(decision="cancel", reason="budget cut")
    )
    assert result.close_reason == CloseReason.CANCELLED
    await keep_history(match.handle, "visit_rescheduled_then_cancelled")


async def test_secretariat_schedules_the_visit_and_adopter_does_not_proceed(
    stack, temporal_env, keep_history
):
    match = await Match.begin(stack, temporal_env)
    await _agree(match)
    plan = await _plan(match, 5, days=1)
    await match.handle.execute_update(
        MatchLifecycle.act, ev.ScheduleVisit(plan=plan, reason="agreed by phone")
    )
    await match.sleep(7)
    await wait_for(lambda: match.mails(subject="How did the field visit go?"))
    result = await match.answer(
        PromptKind.VISIT_REPORT, a.VisitReport(held=True, proceed=False, learned="not a fit")
    )
    assert result.close_reason == CloseReason.NOT_PURSUED
    await keep_history(match.handle, "visit_not_pursued")


async def test_blocked_adaptation_sends_the_support_request(stack, temporal_env):
    match = await Match.begin(stack, temporal_env)
    await _agree(match, remote=True)
    await _adapt(match)
    await match.sleep(31)
    await wait_for(lambda: match.mails(subject="Monthly check-in 1"))
    await match.answer(
        PromptKind.CHECK_IN,
        a.CheckInAnswer(status="blocked", support_needed="source code of the citizen portal"),
    )
    provider = match.eoi.solution.contact.email
    await wait_for(lambda: match.mails(provider, "Support requested"))
    assert match.mails(provider, "Support requested") and match.mails(
        "secretariat@ssn4psi.org", "Support requested"
    )
    body = (
        match.mails(provider, "Support requested")[0]
        .get_payload()[0]
        .get_payload(decode=True)
        .decode()
    )
    assert "source code of the citizen portal" in body


async def test_two_missed_check_ins_escalate_then_abandoned(stack, temporal_env, keep_history):
    match = await Match.begin(stack, temporal_env)
    await _agree(match, remote=True)
    await _adapt(match)
    await match.sleep(91)
    await wait_for(lambda: match.mails("secretariat@ssn4psi.org", "check-ins in a row"))
    state = await match.state()
    assert state.status == MatchStatus.NEEDS_ATTENTION and state.missed_checkins == 2
    result = await match.answer(
        PromptKind.CHECK_IN, a.CheckInAnswer(status="abandoned", note="ministry merged")
    )
    assert result.close_reason == CloseReason.ABANDONED
    await keep_history(match.handle, "adaptation_abandoned")


async def test_fifteen_monthly_check_ins_across_continue_as_new(stack, temporal_env, keep_history):
    match = await Match.begin(stack, temporal_env, history_limit=150)
    first_run = match.handle.first_execution_run_id or (await match.handle.describe()).run_id
    await _agree(match, remote=True)
    await _adapt(match)
    for n in range(1, 16):
        await match.sleep(30)
        await wait_for(lambda n=n: match.mails(subject=f"Monthly check-in {n}:"))
        handle = stack.client.get_workflow_handle_for(MatchLifecycle.run, match.eoi.match_id)
        prompt = await Match(stack, temporal_env, handle, match.eoi).open(PromptKind.CHECK_IN)
        await handle.execute_update(
            MatchLifecycle.answer,
            ev.Answered(
                prompt_id=prompt.id,
                party=Party.ADOPTER,
                answer=a.CheckInAnswer(status="on_track", note=f"month {n}"),
            ),
        )
    handle = stack.client.get_workflow_handle(match.eoi.match_id)
    state = await handle.query(MatchLifecycle.state)
    assert (
        state.checkins_opened == 15
        and state.missed_checkins == 0
        and state.stage == Stage.ADAPTATION
    )
    assert state.next_deadline is not None  # the 16th check-in is still scheduled
    description = await handle.describe()
    assert description.run_id != first_run, "the workflow never continued as new"
    assert state.rules_version == RULES_VERSION  # carried across continue-as-new
    assert len((await handle.fetch_history()).events) < 400
    async with stack.resources.sessions() as session:
        history = await queries.list_history(session, match_id=match.eoi.match_id)
        assert (
            len(
                [
                    h
                    for h in history
                    if h.kind == "answered" and h.data.get("prompt_id", "").startswith("check_in")
                ]
            )
            == 15
        )
    await keep_history(handle, "continued_as_new_adaptation")
