"""Replay stored histories with today's code: a change that breaks running workflows fails here.

Histories are recorded by the path tests with MATCHMAKER_RECORD_HISTORIES=1 and committed; a
change that must alter command order ships behind ``workflow.patched`` so these still replay.
"""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from domain.model import load_reference_data
from infra.temporal import data_converter
from tests.support import settings_for_tests
from workers.worker import SANDBOX, UNSANDBOXED, WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


# Each generation of the workflow's commands: today's, and those older runs still follow.
GENERATIONS = (
    "",
    ".pre-rules-v3",
    ".pre-changed-attributes",
    ".pre-effect-pump",
    ".pre-parallel-effects",
)


@pytest.mark.parametrize("generation", GENERATIONS)
def test_the_paths_have_stored_histories(generation: str):
    names = {
        p.name.removesuffix(f"{generation}.json")
        for p in HISTORIES
        if p.name.endswith(f"{generation}.json") and (generation or p.name.count(".") == 1)
    }
    assert {
        "first_step_waiting",
        "happy_path",
        "declined_by_adopter",
        "declined_by_provider",
        "lapsed",
        "extended_then_lapsed",
        "bounce_then_contact_changed",
        "visit_rescheduled_then_cancelled",
        "visit_not_pursued",
        "adaptation_abandoned",
        "continued_as_new_adaptation",
        "secretariat_actions",
    } <= names
    if generation in ("", ".pre-rules-v3"):  # paths that exist only since rules version 2
        assert {"recorded_visit_then_progress", "advanced_past_a_scheduled_visit"} <= names
    if not generation:  # since rules version 3
        assert "visit_invited_changed_cancelled" in names


@pytest.mark.parametrize("runner", [SANDBOX, UNSANDBOXED], ids=["sandboxed", "unsandboxed"])
@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path, runner):
    """In the sandbox the tests run, and without it as a production worker may run: the same
    commands either way."""
    load_reference_data()
    history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=data_converter(settings_for_tests()),
        workflow_runner=runner,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
