"""The import use case on the time-skipping server: a match under way is recognised on
re-import after it continued as new, and a different history for the same EOI is refused."""

import uuid
from datetime import date

import pytest

from domain.lifecycle import events as ev
from domain.lifecycle.imported import ImportedHistory
from domain.policy import TimingPolicy
from services.errors import ConflictingEoi
from services.imports import import_file, validate
from services.intake import submit_eoi
from tests.support import EXAMPLES, unique_eoi, wait_for
from workflows.contracts import MatchLifecycleInput
from workflows.match_lifecycle import MatchLifecycle

UNDER_WAY = ImportedHistory(stage="adaptation", adaptation_on=date(2022, 5, 10))


async def test_reimport_after_continue_as_new_is_already_present(stack):
    eoi = unique_eoi()
    handle = await stack.client.start_workflow(
        MatchLifecycle.run,
        MatchLifecycleInput(eoi=eoi, policy=TimingPolicy(), imported=UNDER_WAY, history_limit=100),
        id=eoi.match_id,
        task_queue=stack.task_queue,
    )
    first_run = handle.first_execution_run_id
    for n in range(30):
        await handle.execute_update(MatchLifecycle.act, ev.AddNote(text=f"note number {n}"))
        if (await handle.describe()).run_id != first_run:
            break
    await wait_for(lambda: _continued(stack, eoi.match_id, first_run))

    again = await submit_eoi(stack.backend, eoi=eoi, imported=UNDER_WAY)
    assert again.created is False
    other = ImportedHistory(stage="adaptation", adaptation_on=date(2022, 6, 1))
    with pytest.raises(ConflictingEoi, match="another stage or with other milestone dates"):
        await submit_eoi(stack.backend, eoi=eoi, imported=other)
    with pytest.raises(ConflictingEoi):
        await submit_eoi(stack.backend, eoi=eoi)  # as a new match: not what was started


async def _continued(stack, workflow_id: str, first_run: str | None) -> bool:
    return (await stack.client.get_workflow_handle(workflow_id).describe()).run_id != first_run


async def test_a_workshop_of_forty_starts_each_match_once(stack):
    prefix = f"S{uuid.uuid4().hex[:8]}"
    lines = (EXAMPLES / "workshop.csv").read_text().splitlines()
    rows = [lines[1].replace("NS21-001", f"{prefix}-{n:03}") for n in range(40)]
    parsed = validate("\n".join([lines[0], *rows]).encode())
    assert parsed.errors == []
    seen: list[str] = []
    summary = await import_file(
        stack.backend, parsed=parsed, on_row=lambda r: seen.append(r.outcome)
    )
    assert (summary.started, summary.already_present, summary.rows) == (40, 0, 40)
    assert len(seen) == 40
    await wait_for(lambda: len(stack.mail.messages) == 80, timeout=60)
    again = await import_file(stack.backend, parsed=parsed)
    assert (again.started, again.already_present) == (0, 40)
