"""MatchLifecycle: the durable driver of one match. The rules live in domain.lifecycle."""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        DraftCaseStudyInput,
        MatchSnapshot,
        RecordHistoryInput,
        RecordMatchInput,
        SendEmailInput,
    )
    from activities.notifications import PERMANENT_DELIVERY_ERROR, Notifications
    from activities.records import MatchRecords
    from domain.lifecycle import InvalidMove, decide, start
    from domain.lifecycle import events as ev
    from domain.lifecycle.effects import Decision, SendEmail
    from domain.lifecycle.state import RULES_VERSION, MatchState
    from workflows import search_attributes as sa
    from workflows.contracts import MatchLifecycleInput, MatchLifecycleResult, UpdateResult

DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
# Patches: each id guards a change of the commands a workflow issues, so histories recorded
# before it still replay (tests/workflows/test_replay.py). Remove once no such run is open.
PARALLEL_EFFECTS = "parallel-effects-and-search-attribute-diffs"
STEADY_TIMER = "one-timer-per-deadline"
# A new match follows the newest rules; one started before versions existed follows version 1
# for its whole life (the version is part of the state carried across continue-as-new).
RULES_V2 = "rules-version-2"

SMTP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=[PERMANENT_DELIVERY_ERROR],
)


@workflow.defn
class MatchLifecycle:
    """Waits for the next event (answer, action, timer), asks the rules, performs the effects."""

    @workflow.init
    def __init__(self, data: MatchLifecycleInput) -> None:
        # The state exists before any handler runs, so an answer that arrives with the start
        # is validated against the opened prompts; it is applied once the start effects ran.
        self._input = data
        self._version = 0
        self._lock = asyncio.Lock()  # one decision and its effects at a time, in order
        self._first: Decision | None = None
        if data.state is not None:
            self._state: MatchState | None = data.state
        else:
            version = RULES_VERSION if workflow.patched(RULES_V2) else 1
            self._first = start(data.eoi, data.policy, workflow.now(), rules_version=version)
            self._state = self._first.state
        self._ready = self._first is None
        self._timer: asyncio.Task[None] | None = None
        self._timer_for: datetime | None = None

    @workflow.run
    async def run(self, data: MatchLifecycleInput) -> MatchLifecycleResult:
        if self._first is None:
            self._publish()
        else:
            async with self._lock:
                self._adopt(self._first)
                await self._record_match(self._first)
                await self._send(self._first.emails)
            self._ready = True
        steady_timer = workflow.patched(STEADY_TIMER)
        while not self.state_.closed:
            if steady_timer:
                await self._wait_for_next_event()
            else:  # histories made before the patch: a new timer after every event
                await self._wait_with_fresh_timer()
            if self._continue_as_new_due() and not self.state_.closed:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    MatchLifecycleInput(
                        eoi=data.eoi,
                        policy=data.policy,
                        state=self.state_,
                        history_limit=data.history_limit,
                    )
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        s = self.state_
        return MatchLifecycleResult(
            match_id=s.match_id, stage=s.stage, status=s.status, close_reason=s.close_reason
        )

    # -- the driver ---------------------------------------------------------------------------
    async def _wait_for_next_event(self) -> None:
        """Wait for an answer, an action or the next deadline; keep one timer per deadline."""
        deadline = self.state_.next_deadline
        if deadline != self._timer_for:
            if self._timer is not None:
                self._timer.cancel()
            self._timer, self._timer_for = None, deadline
            if deadline is not None:
                delay = max(deadline - workflow.now(), timedelta(0))
                self._timer = asyncio.create_task(workflow.sleep(delay, summary="next deadline"))
        seen, timer = self._version, self._timer
        await workflow.wait_condition(
            lambda: (
                self._version != seen
                or (timer is not None and timer.done())
                or self._continue_as_new_due()
            )
        )
        if timer is not None and timer.done() and not self.state_.closed:
            self._timer, self._timer_for = None, None
            await self._apply(ev.Tick())

    async def _wait_with_fresh_timer(self) -> None:
        seen, deadline = self._version, self.state_.next_deadline
        timeout = max(deadline - workflow.now(), timedelta(0)) if deadline else None
        try:
            await workflow.wait_condition(
                lambda: self._version != seen or self._continue_as_new_due(), timeout=timeout
            )
        except TimeoutError:
            pass
        if deadline is not None and workflow.now() >= deadline and not self.state_.closed:
            await self._apply(ev.Tick())

    @property
    def state_(self) -> MatchState:
        if self._state is None:
            raise RuntimeError("workflow state read before run() initialised it")
        return self._state

    def _continue_as_new_due(self) -> bool:
        info = workflow.info()
        limit = self._input.history_limit if self._input else None
        return info.is_continue_as_new_suggested() or bool(
            limit and info.get_current_history_length() > limit
        )

    def _adopt(self, decision: Decision) -> None:
        self._state = decision.state
        self._version += 1
        self._publish()

    async def _apply(self, event: ev.Event) -> UpdateResult:
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            try:
                decision = decide(self.state_, event, workflow.now())
            except InvalidMove as exc:  # the state moved since validation
                raise ApplicationError(str(exc), type="InvalidMove", non_retryable=True) from exc
            self._adopt(decision)
            await self._perform(decision)
        return UpdateResult.of(self.state_)

    async def _perform(self, decision: Decision) -> None:
        """Record history, draft a case study and send emails, all at once (they are independent)."""
        steps = []
        if decision.history:
            steps.append(
                workflow.execute_activity_method(
                    MatchRecords.record_history,
                    RecordHistoryInput(
                        match_id=self.state_.match_id,
                        snapshot=self._snapshot(),
                        entries=decision.history,
                    ),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=DB_RETRY,
                    summary="Record " + ", ".join(e.kind for e in decision.history),
                )
            )
        if decision.case_study:
            steps.append(
                workflow.execute_activity_method(
                    MatchRecords.draft_case_study,
                    DraftCaseStudyInput(state=self.state_),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=DB_RETRY,
                    summary="Draft a case study for The South-South Matchmaker",
                )
            )
        if workflow.patched(PARALLEL_EFFECTS):
            await asyncio.gather(*steps, self._send(decision.emails))
        else:  # histories made before the patch: history, then case study, then emails
            for step in steps:
                await step
            await self._send(decision.emails)

    async def _record_match(self, decision: Decision) -> None:
        s = self.state_
        await workflow.execute_activity_method(
            MatchRecords.record_match,
            RecordMatchInput(
                eoi=s.eoi,
                workflow_id=workflow.info().workflow_id,
                snapshot=self._snapshot(),
                entries=decision.history,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
            summary=f"Record match {s.match_id}",
        )

    async def _send(self, emails: list[SendEmail]) -> None:
        """Send emails in parallel; a permanent refusal becomes a DeliveryFailed event."""
        results = await asyncio.gather(*(self._send_one(e) for e in emails), return_exceptions=True)
        for email, result in zip(emails, results, strict=True):
            if isinstance(result, BaseException):
                cause = result.cause if isinstance(result, ActivityError) else None
                if not (
                    isinstance(cause, ApplicationError) and cause.type == PERMANENT_DELIVERY_ERROR
                ):
                    raise result
                failed = ev.DeliveryFailed(
                    party=email.party,
                    recipient=email.recipient_email or "secretariat inbox",
                    error=cause.message,
                    prompt_id=email.prompt_id,
                )
                decision = decide(self.state_, failed, workflow.now())
                self._adopt(decision)
                await self._perform(decision)

    async def _send_one(self, email: SendEmail) -> None:
        s = self.state_
        await workflow.execute_activity_method(
            Notifications.send_email,
            SendEmailInput(match_id=s.match_id, eoi=s.eoi, email=email),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=SMTP_RETRY,
            summary=f"Email {email.template} to the {email.party}"
            + (f" (round {email.round})" if email.round > 1 else ""),
        )

    def _snapshot(self) -> MatchSnapshot:
        s = self.state_
        return MatchSnapshot(
            stage=s.stage,
            status=s.status,
            next_deadline=s.next_deadline,
            close_reason=s.close_reason,
        )

    def _publish(self) -> None:
        """Mirror the state into search attributes and the current details shown in the UI."""
        s = self.state_
        eoi = s.eoi
        deadline = s.next_deadline
        workflow.upsert_search_attributes(
            [
                sa.MATCH_STAGE.value_set(s.stage.value),
                sa.MATCH_STATUS.value_set(s.status.value),
                sa.FOCUS_AREA.value_set(eoi.solution.focus_area.value),
                sa.ADOPTER_COUNTRY.value_set(eoi.adopter.institution.country),
                sa.PROVIDER_COUNTRY.value_set(eoi.solution.provider.country),
                sa.WORKSHOP_ID.value_set(eoi.workshop.id),
                sa.NEXT_DEADLINE.value_set(deadline)
                if deadline
                else sa.NEXT_DEADLINE.value_unset(),
            ]
        )
        prompts = "\n".join(
            f"- `{p.id}` → {p.party}" + (f", answer by {p.lapse_at:%Y-%m-%d}" if p.lapse_at else "")
            for p in s.open_prompts()
        )
        workflow.set_current_details(
            f"**Stage:** {s.stage} · **Status:** {s.status}"
            + (f" ({s.close_reason})" if s.close_reason else "")
            + f"\n\n**Next deadline:** {f'{deadline:%Y-%m-%d %H:%M} UTC' if deadline else '—'}"
            + f"\n\n**Adopter:** {eoi.adopter.institution.name} ({eoi.adopter.institution.country}), "
            f"{s.contacts['adopter'].email}"
            + f"\n\n**Provider:** {eoi.solution.provider.name} ({eoi.solution.provider.country}), "
            f"{s.contacts['provider'].email}"
            + (f"\n\n**Open prompts:**\n{prompts}" if prompts else "")
            + (f"\n\n**Needs attention:** {'; '.join(s.attention.values())}" if s.attention else "")
            + (f"\n\n**Last event:** {s.history[-1].summary}" if s.history else "")
        )

    def _check(self, event: ev.Event) -> None:
        """Validator body: refuse (leaving no trace in history) what the rules refuse."""
        try:
            decide(self.state_, event, workflow.now())
        except InvalidMove as exc:
            raise ValueError(str(exc)) from exc

    # -- queries ------------------------------------------------------------------------------
    @workflow.query
    def state(self) -> MatchState:
        """Return the full state: stage, status, whom we wait on, prompts, policy, history."""
        return self.state_

    # -- partner answers ----------------------------------------------------------------------
    @workflow.update
    async def answer(self, event: ev.Answered) -> UpdateResult:
        """A partner answers an open prompt."""
        return await self._apply(event)

    @answer.validator
    def _check_answer(self, event: ev.Answered) -> None:
        self._check(event)

    # -- Secretariat actions ------------------------------------------------------------------
    @workflow.update
    async def pause(self, event: ev.Pause) -> UpdateResult:
        return await self._apply(event)

    @pause.validator
    def _check_pause(self, event: ev.Pause) -> None:
        self._check(event)

    @workflow.update
    async def resume(self, event: ev.Resume) -> UpdateResult:
        return await self._apply(event)

    @resume.validator
    def _check_resume(self, event: ev.Resume) -> None:
        self._check(event)

    @workflow.update
    async def extend_deadline(self, event: ev.ExtendDeadline) -> UpdateResult:
        return await self._apply(event)

    @extend_deadline.validator
    def _check_extend_deadline(self, event: ev.ExtendDeadline) -> None:
        self._check(event)

    @workflow.update
    async def change_contact(self, event: ev.ChangeContact) -> UpdateResult:
        return await self._apply(event)

    @change_contact.validator
    def _check_change_contact(self, event: ev.ChangeContact) -> None:
        self._check(event)

    @workflow.update
    async def advance(self, event: ev.Advance) -> UpdateResult:
        return await self._apply(event)

    @advance.validator
    def _check_advance(self, event: ev.Advance) -> None:
        self._check(event)

    @workflow.update
    async def close(self, event: ev.Close) -> UpdateResult:
        return await self._apply(event)

    @close.validator
    def _check_close(self, event: ev.Close) -> None:
        self._check(event)

    @workflow.update
    async def add_note(self, event: ev.AddNote) -> UpdateResult:
        return await self._apply(event)

    @add_note.validator
    def _check_add_note(self, event: ev.AddNote) -> None:
        self._check(event)

    @workflow.update
    async def resend(self, event: ev.Resend) -> UpdateResult:
        return await self._apply(event)

    @resend.validator
    def _check_resend(self, event: ev.Resend) -> None:
        self._check(event)

    @workflow.update
    async def schedule_visit(self, event: ev.ScheduleVisit) -> UpdateResult:
        return await self._apply(event)

    @schedule_visit.validator
    def _check_schedule_visit(self, event: ev.ScheduleVisit) -> None:
        self._check(event)

    @workflow.update
    async def cancel_visit(self, event: ev.CancelVisit) -> UpdateResult:
        return await self._apply(event)

    @cancel_visit.validator
    def _check_cancel_visit(self, event: ev.CancelVisit) -> None:
        self._check(event)
