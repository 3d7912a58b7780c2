"""The effect pump: performs the effects of accepted decisions, in order, behind the workflow.

An accepted answer or action returns as soon as its decision is adopted (durable with the
workflow task that accepted it); the pump then records each decision's history (and its case
study) strictly in decision order, and hands its emails to delivery tasks that run in parallel
and never hold up the next decision. An email the mail server refuses for good, or that could
not be delivered within the policy's bound, comes back to the rules as a DeliveryFailed event.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    RetryState,
    TimeoutError,
    TimeoutType,
)

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        DraftCaseStudyInput,
        DraftCaseStudyResult,
        MarkUndeliverableInput,
        MatchSnapshot,
        RecordHistoryInput,
        RecordHistoryResult,
        RecordMatchInput,
        RecordMatchResult,
        SendEmailInput,
    )
    from activities.failures import DATA_REJECTED
    from activities.notifications import (
        EMAIL_NOT_BUILDABLE,
        PERMANENT_DELIVERY_ERROR,
        Notifications,
    )
    from activities.records import MatchRecords
    from domain.lifecycle import events as ev
    from domain.lifecycle.effects import Decision, SendEmail
    from domain.lifecycle.state import MatchState

DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
SMTP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=[PERMANENT_DELIVERY_ERROR, EMAIL_NOT_BUILDABLE],
)
EMAIL_ATTEMPT_TIMEOUT = timedelta(minutes=2)
# send_email heartbeats every 2 s: the attempt of a worker that died is retried this soon.
EMAIL_HEARTBEAT_TIMEOUT = timedelta(seconds=15)


def snapshot(state: MatchState) -> MatchSnapshot:
    """The position of a match that the read model mirrors."""
    return MatchSnapshot(
        stage=state.stage,
        status=state.status,
        next_deadline=state.next_deadline,
        close_reason=state.close_reason,
        waiting_on=[str(party) for party in state.waiting_on_anyone()],
        needs_attention=state.needs_attention(),
    )


def record_history(
    decision: Decision, *, first: bool, workflow_id: str
) -> Awaitable[RecordMatchResult | RecordHistoryResult]:
    """The activity that records a decision: the match itself for the first, else its history."""
    state = decision.state
    if first:
        return workflow.execute_activity_method(
            MatchRecords.record_match,
            RecordMatchInput(
                eoi=state.eoi,
                workflow_id=workflow_id,
                snapshot=snapshot(state),
                entries=decision.history,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
            summary=f"Record match {state.match_id}",
        )
    return workflow.execute_activity_method(
        MatchRecords.record_history,
        RecordHistoryInput(
            match_id=state.match_id, snapshot=snapshot(state), entries=decision.history
        ),
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=DB_RETRY,
        summary="Record " + ", ".join(e.kind for e in decision.history),
    )


def draft_case_study(decision: Decision) -> Awaitable[DraftCaseStudyResult]:
    case = decision.case_study
    assert case is not None
    return workflow.execute_activity_method(
        MatchRecords.draft_case_study,
        DraftCaseStudyInput(state=decision.state, title=case.title, body=case.body),
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=DB_RETRY,
        summary="Draft a case study for The South-South Matchmaker",
    )


def _entries(decision: Decision) -> str:
    """Name a decision's history entries for a person looking for them."""
    entries = decision.history
    numbers = f"no. {entries[0].seq}" + (f"–{entries[-1].seq}" if len(entries) > 1 else "")
    return f"history {numbers} ({', '.join(e.kind for e in entries)})"


def email_summary(email: SendEmail) -> str:
    return f"Email {email.template} to the {email.party}" + (
        f" (round {email.round})" if email.round > 1 else ""
    )


class EffectPump:
    """Runs the effects of adopted decisions; ``on_event`` feeds delivery failures back.

    A failure the pump cannot turn into an event (a bug, a non-retryable activity error) is
    kept in ``failure`` for the workflow to raise, so the workflow task fails visibly and is
    retried instead of the match silently losing its effects."""

    def __init__(self, on_event: Callable[[ev.Event], None]) -> None:
        self._queue: deque[tuple[Decision, bool, bool]] = deque()
        self._recording = False
        self._deliveries: dict[asyncio.Task[None], SendEmail] = {}
        self._on_event = on_event
        self.failure: BaseException | None = None

    def push(self, decision: Decision, *, first: bool = False, feedback: bool = True) -> None:
        """Queue a decision's effects (its history in order, its emails beside it).

        ``feedback=False``: a record the database refuses is not fed back to the rules (the
        decision is itself about such a refusal; feeding it back could loop)."""
        if first or decision.changed:
            self._queue.append((decision, first, feedback))

    @property
    def recorded(self) -> bool:
        """True when every queued decision's history is recorded (emails may be under way)."""
        return not self._queue and not self._recording

    @property
    def idle(self) -> bool:
        """True when every queued decision is recorded and every email delivered or failed."""
        return self.recorded and not self._deliveries

    def undelivered(self) -> list[SendEmail]:
        """The emails still under way, in the order they were started."""
        return list(self._deliveries.values())

    def raise_if_failed(self) -> None:
        if self.failure is not None:
            raise self.failure

    async def run(self) -> None:
        """Perform queued effects for as long as the workflow runs."""
        try:
            await self._run()
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):
                self.failure = exc
            raise

    async def _run(self) -> None:
        workflow_id = workflow.info().workflow_id
        while True:
            await workflow.wait_condition(lambda: bool(self._queue))
            decision, first, feedback = self._queue.popleft()
            self._recording = True
            if first:  # the match's row first: every later row refers to it
                await self._record(
                    record_history(decision, first=True, workflow_id=workflow_id),
                    "the match itself (its EOI and first history entries)",
                    feedback,
                )
            # history first (scheduled before the emails), the emails beside it
            steps = []
            if not first and decision.history:
                steps.append(
                    asyncio.create_task(
                        self._record(
                            record_history(decision, first=False, workflow_id=workflow_id),
                            _entries(decision),
                            feedback,
                        )
                    )
                )
            if decision.case_study:
                steps.append(
                    asyncio.create_task(
                        self._record(draft_case_study(decision), "the case study", feedback)
                    )
                )
            self.deliver(decision.state, decision.emails)
            await asyncio.gather(*steps)
            self._recording = False

    async def _record(self, step: Awaitable[object], what: str, feedback: bool) -> None:
        """Await a record; one the database refuses for good becomes a RecordFailed event
        (the match needs attention and stays steerable) instead of wedging the pump."""
        try:
            await step
        except ActivityError as exc:
            cause = exc.cause
            if not (isinstance(cause, ApplicationError) and cause.type == DATA_REJECTED):
                raise
            workflow.logger.warning("record refused: %s", cause.message)
            if feedback:
                self._on_event(ev.RecordFailed(what=what, error=cause.message))

    def deliver(self, state: MatchState, emails: list[SendEmail]) -> None:
        """Start delivering emails; each runs on its own and never holds up the next decision."""
        for email in emails:
            task = asyncio.create_task(self._guarded(state, email))
            self._deliveries[task] = email
            task.add_done_callback(self._delivered)

    def _delivered(self, task: asyncio.Task[None]) -> None:
        self._deliveries.pop(task, None)

    async def _guarded(self, state: MatchState, email: SendEmail) -> None:
        try:
            await self._deliver(state, email)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.failure = exc

    async def _deliver(self, state: MatchState, email: SendEmail) -> None:
        """Send one email, retrying transient failures up to the policy's bound."""
        bound = timedelta(hours=state.policy.email_retry_hours)
        try:
            await workflow.execute_activity_method(
                Notifications.send_email,
                SendEmailInput(match_id=state.match_id, eoi=state.eoi, email=email),
                start_to_close_timeout=EMAIL_ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=bound,
                heartbeat_timeout=EMAIL_HEARTBEAT_TIMEOUT,
                retry_policy=SMTP_RETRY,
                summary=email_summary(email),
            )
            return
        except ActivityError as exc:
            error = _why_undelivered(exc, bound)
            final = isinstance(exc.cause, ApplicationError) and exc.cause.type in (
                PERMANENT_DELIVERY_ERROR,
                EMAIL_NOT_BUILDABLE,
            )
        # the activity marked a bounce or an unbuildable email itself; else the row is "failed"
        if not final:
            marked = await workflow.execute_activity_method(
                Notifications.mark_undeliverable,
                MarkUndeliverableInput(business_key=email.key, error=error),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=DB_RETRY,
                summary=f"Mark undeliverable: {email.template} to the {email.party}",
            )
            if marked.already_sent:  # the last attempt got through before its record
                return
        self._on_event(
            ev.DeliveryFailed(
                party=email.party,
                recipient=email.recipient_email or "secretariat inbox",
                error=error,
                prompt_id=email.prompt_id,
            )
        )


def _why_undelivered(exc: ActivityError, bound: timedelta) -> str:
    cause = exc.cause
    if exc.retry_state == RetryState.TIMEOUT or (
        isinstance(cause, TimeoutError) and cause.type == TimeoutType.SCHEDULE_TO_CLOSE
    ):
        last = cause.cause if isinstance(cause, TimeoutError) else cause
        detail = f" (last error: {last.message})" if isinstance(last, ApplicationError) else ""
        return f"not delivered within {bound / timedelta(hours=1):g} hours{detail}"
    if isinstance(cause, ApplicationError) and cause.type == EMAIL_NOT_BUILDABLE:
        return f"the email could not be built: {cause.message}"  # ends with what to do
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or exc)
