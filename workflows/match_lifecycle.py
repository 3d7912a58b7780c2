"""MatchLifecycle: the durable workflow each expression of interest starts."""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.contracts import HistoryEntry, RecordMatchInput, SendPromptInput
    from activities.notifications import PERMANENT_DELIVERY_ERROR, Notifications
    from activities.records import MatchRecords
    from domain.enums import MatchStatus, Party, PromptKind, Stage
    from workflows import search_attributes as sa
    from workflows.contracts import MatchLifecycleInput, MatchLifecycleResult, MatchState

DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
SMTP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=[PERMANENT_DELIVERY_ERROR],
)


@workflow.defn
class MatchLifecycle:
    """Follows one EOI from follow-up to outcome; for now it records, introduces and waits."""

    def __init__(self) -> None:
        self._state: MatchState | None = None

    @workflow.run
    async def run(self, data: MatchLifecycleInput) -> MatchLifecycleResult:
        eoi = data.eoi
        now = workflow.now()
        state = self._state = MatchState(
            match_id=eoi.match_id,
            eoi=eoi,
            stage=Stage.FOLLOW_UP,
            status=MatchStatus.ACTIVE,
            next_deadline=data.policy.first_deadline(now),
            started_at=now,
            policy=data.policy,
        )
        self._publish()
        first = HistoryEntry(
            seq=1,
            kind="match_recorded",
            stage=state.stage,
            actor=Party.SECRETARIAT,
            summary=f"Match recorded from EOI {eoi.id} filed at {eoi.workshop.title}",
            data={"eoi_id": eoi.id, "workshop_id": eoi.workshop.id},
            occurred_at=now,
        )
        await workflow.execute_activity_method(
            MatchRecords.record_match,
            RecordMatchInput(
                eoi=eoi,
                workflow_id=workflow.info().workflow_id,
                stage=state.stage,
                status=state.status,
                next_deadline=state.next_deadline,
                first_entry=first,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
            summary=f"Record match {eoi.match_id}",
        )
        state.history.append(first)
        await asyncio.gather(
            self._introduce(Party.ADOPTER, PromptKind.INTRODUCTION_ADOPTER),
            self._introduce(Party.PROVIDER, PromptKind.INTRODUCTION_PROVIDER),
        )
        self._publish()
        await workflow.wait_condition(lambda: state.stage == Stage.CLOSED)
        return MatchLifecycleResult(
            match_id=state.match_id,
            stage=state.stage,
            status=state.status,
            close_reason=state.close_reason,
        )

    async def _introduce(self, party: Party, kind: PromptKind) -> None:
        state = self._require_state()
        eoi = state.eoi
        recipient = eoi.adopter.contact if party == Party.ADOPTER else eoi.solution.contact
        first_reminder = state.policy.reminder_days[0] if state.policy.reminder_days else 7
        await workflow.execute_activity_method(
            Notifications.send_prompt,
            SendPromptInput(
                business_key=f"{state.match_id}/{state.stage}/{kind}/{recipient.email}/1",
                match_id=state.match_id,
                kind=kind,
                party=party,
                recipient=recipient,
                eoi=eoi,
                answer_within_days=first_reminder,
            ),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=SMTP_RETRY,
            summary=f"Email {party} introduction to {recipient.email}",
        )

    def _publish(self) -> None:
        """Mirror the state into search attributes and the current details shown in the UI."""
        state = self._require_state()
        eoi = state.eoi
        workflow.upsert_search_attributes(
            [
                sa.MATCH_STAGE.value_set(state.stage.value),
                sa.MATCH_STATUS.value_set(state.status.value),
                sa.FOCUS_AREA.value_set(eoi.solution.focus_area.value),
                sa.ADOPTER_COUNTRY.value_set(eoi.adopter.institution.country),
                sa.PROVIDER_COUNTRY.value_set(eoi.solution.provider.country),
                sa.WORKSHOP_ID.value_set(eoi.workshop.id),
                sa.NEXT_DEADLINE.value_set(state.next_deadline)
                if state.next_deadline
                else sa.NEXT_DEADLINE.value_unset(),
            ]
        )
        deadline = (
            state.next_deadline.strftime("%Y-%m-%d %H:%M UTC") if state.next_deadline else "—"
        )
        workflow.set_current_details(
            f"**Stage:** {state.stage} · **Status:** {state.status}\n\n"
            f"**Next deadline:** {deadline}\n\n"
            f"**Adopter:** {eoi.adopter.institution.name} ({eoi.adopter.institution.country}), "
            f"{eoi.adopter.contact.name} <{eoi.adopter.contact.email}>\n\n"
            f"**Provider:** {eoi.solution.provider.name} ({eoi.solution.provider.country}), "
            f"{eoi.solution.contact.name} <{eoi.solution.contact.email}>\n\n"
            f"**Last event:** {state.history[-1].summary if state.history else 'started'}"
        )

    def _require_state(self) -> MatchState:
        if self._state is None:
            raise RuntimeError("workflow state read before run() initialised it")
        return self._state

    @workflow.query
    def state(self) -> MatchState:
        """Return the full state of the match."""
        return self._require_state()
