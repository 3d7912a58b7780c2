"""Intake: start one MatchLifecycle per EOI, never two, and show it at once in the read model."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.enums import MatchStatus, Stage
from domain.lifecycle.imported import ImportedHistory
from domain.model import ExpressionOfInterest
from domain.policy import TimingPolicy
from infra.temporal import readable
from services.backend import Backend
from services.calendar import stack_calendar
from services.errors import ConflictingEoi
from services.outages import outages_refused
from store import writes
from store.units import run_unit
from workflows import search_attributes as sa
from workflows.contracts import MatchLifecycleInput
from workflows.match_lifecycle import MatchLifecycle


@dataclass(frozen=True)
class IntakeResult:
    match_id: str
    workflow_id: str
    run_id: str | None
    created: bool


async def _submitted(client: Client, workflow_id: str) -> MatchLifecycleInput | None:
    """Read the input a workflow was started with from its first history event."""
    handle = client.get_workflow_handle(workflow_id)
    async for event in handle.fetch_history_events(page_size=1):
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        if not payloads:
            return None
        started: MatchLifecycleInput
        [started] = await client.data_converter.decode(payloads, [MatchLifecycleInput])
        return started
    return None


@outages_refused()
async def submit_eoi(
    backend: Backend,
    *,
    eoi: ExpressionOfInterest,
    policy: TimingPolicy | None = None,
    imported: ImportedHistory | None = None,
) -> IntakeResult:
    """Start the match workflow for an EOI, or return the existing one for the same EOI.

    Without a policy the match starts with the backend's (the settings' default); it keeps it
    for its whole life. ``imported``: a match under way, started at its stage with its past
    milestones as history. The match is in the read model when this returns (read your own write): the workflow
    records it too, idempotently, with its first history entries."""
    client, workflow_id = backend.client, eoi.match_id
    try:
        # static_summary/details typed str; a Payload passes the codec as it is (temporalio's
        # client _encode_user_metadata), so the UI reads it without the codec server
        handle = await client.start_workflow(  # type: ignore[call-overload]  # a Payload summary, see above
            MatchLifecycle.run,
            MatchLifecycleInput(
                eoi=eoi,
                policy=policy or backend.policy,
                calendar=await stack_calendar(backend),
                imported=imported,
            ),
            id=workflow_id,
            task_queue=backend.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=sa.at_start(eoi),
            # institutions and countries, no person: left unencrypted for the UI's list
            static_summary=readable(eoi.summary()),
            static_details=readable(
                f"EOI **{eoi.id}** filed at *{eoi.workshop.title}* ({eoi.workshop.date}).\n\n"
                f"Focus area: {eoi.solution.focus_area.label}"
            ),
        )
    except WorkflowAlreadyStartedError as exc:
        existing = await _submitted(client, workflow_id)
        if existing is not None and existing.eoi.model_dump() != eoi.model_dump():
            raise ConflictingEoi(
                f"EOI {eoi.id} was already submitted with different content; "
                "ask the Secretariat to correct the existing match instead"
            ) from exc
        if existing is not None and existing.imported != imported:
            raise ConflictingEoi(
                f"EOI {eoi.id} was already started at another stage or with other milestone "
                "dates; ask the Secretariat to correct the existing match instead"
            ) from exc
        result = IntakeResult(
            match_id=eoi.match_id, workflow_id=workflow_id, run_id=exc.run_id, created=False
        )
    else:
        result = IntakeResult(
            match_id=eoi.match_id,
            workflow_id=workflow_id,
            run_id=handle.first_execution_run_id,
            created=True,
        )
    await _show(
        backend,
        eoi=eoi,
        workflow_id=workflow_id,
        stage=imported.stage if imported else Stage.FOLLOW_UP,
    )
    return result


async def _show(
    backend: Backend, *, eoi: ExpressionOfInterest, workflow_id: str, stage: Stage
) -> None:
    """Put the match in the read model unless it is there (the workflow may have been first)."""

    async def record(session: AsyncSession) -> None:
        await writes.create_match(
            session,
            eoi=eoi,
            workflow_id=workflow_id,
            stage=stage,
            status=MatchStatus.ACTIVE,
            next_deadline=None,
        )

    # matches of one workshop share rows: an import may meet PostgreSQL's deadlock detector
    await run_unit(backend.sessions, record)
