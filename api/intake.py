"""EOI intake: start one MatchLifecycle per EOI, never two (shared by the API and the CLI)."""

from dataclasses import dataclass

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.enums import MatchStatus, Stage
from domain.model import ExpressionOfInterest
from domain.policy import TimingPolicy
from workflows import search_attributes as sa
from workflows.contracts import MatchLifecycleInput
from workflows.match_lifecycle import MatchLifecycle


class ConflictingEoiError(Exception):
    """The EOI id is taken by an EOI with different content."""


@dataclass(frozen=True)
class IntakeResult:
    match_id: str
    workflow_id: str
    run_id: str | None
    created: bool


async def _submitted_eoi(client: Client, workflow_id: str) -> ExpressionOfInterest | None:
    """Read the EOI a workflow was started with from its first history event."""
    handle = client.get_workflow_handle(workflow_id)
    async for event in handle.fetch_history_events(page_size=1):
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        if not payloads:
            return None
        [started] = await client.data_converter.decode(payloads, [MatchLifecycleInput])
        return started.eoi
    return None


async def submit_eoi(
    client: Client,
    *,
    eoi: ExpressionOfInterest,
    task_queue: str,
    policy: TimingPolicy | None = None,
) -> IntakeResult:
    """Start the match workflow for an EOI, or return the existing one for the same EOI."""
    workflow_id = eoi.match_id
    try:
        handle: WorkflowHandle = await client.start_workflow(
            MatchLifecycle.run,
            MatchLifecycleInput(eoi=eoi, policy=policy or TimingPolicy()),
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.MATCH_STAGE, Stage.FOLLOW_UP.value),
                    SearchAttributePair(sa.MATCH_STATUS, MatchStatus.ACTIVE.value),
                    SearchAttributePair(sa.FOCUS_AREA, eoi.solution.focus_area.value),
                    SearchAttributePair(sa.ADOPTER_COUNTRY, eoi.adopter.institution.country),
                    SearchAttributePair(sa.PROVIDER_COUNTRY, eoi.solution.provider.country),
                    SearchAttributePair(sa.WORKSHOP_ID, eoi.workshop.id),
                ]
            ),
            static_summary=eoi.summary(),
            static_details=(
                f"EOI **{eoi.id}** filed at *{eoi.workshop.title}* ({eoi.workshop.date}).\n\n"
                f"Focus area: {eoi.solution.focus_area.label}"
            ),
        )
    except WorkflowAlreadyStartedError as exc:
        existing = await _submitted_eoi(client, workflow_id)
        if existing is not None and existing.model_dump() != eoi.model_dump():
            raise ConflictingEoiError(
                f"EOI {eoi.id} was already submitted with different content; "
                "ask the Secretariat to correct the existing match instead"
            ) from exc
        return IntakeResult(
            match_id=eoi.match_id, workflow_id=workflow_id, run_id=exc.run_id, created=False
        )
    return IntakeResult(
        match_id=eoi.match_id,
        workflow_id=workflow_id,
        run_id=handle.first_execution_run_id,
        created=True,
    )
