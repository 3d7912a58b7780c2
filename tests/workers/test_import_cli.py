"""`matchmaker eoi import FILE`: a summary table, errors with their lines, exit codes, over the
test stack (the command runs as a process; the worker serves it on the test's event loop)."""

import json
import re
import uuid
from pathlib import Path

import pytest

from tests.support import EXAMPLES, CliRun, matchmaker_process


@pytest.fixture
def cli_env(stack, database_url, temporal_env, tmp_path, monkeypatch):
    """Settings naming the test stack's database, Temporal server and task queue."""
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("MATCHMAKER_DATABASE_URL", database_url)
    target = temporal_env.client.service_client.config.target_host
    monkeypatch.setenv("MATCHMAKER_TEMPORAL_TARGET", target)
    monkeypatch.setenv("MATCHMAKER_TASK_QUEUE", stack.task_queue)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def _file(directory, *, breaks: bool = False):
    prefix = f"C{uuid.uuid4().hex[:8]}"
    text = (EXAMPLES / "workshop-2024.csv").read_text().replace("BK24-", f"{prefix}-")
    if breaks:
        text = text.replace("a.diop@justice.gouv.sn", "a.diop(at)justice")
    path = directory / f"{prefix}.csv"
    path.write_text(text)
    return path


async def _invoke(*args: str) -> CliRun:
    """The command as its own process (the test's loop runs the worker it talks to)."""
    return await matchmaker_process("eoi", "import", *args, env={}, cwd=Path.cwd())


async def test_import_prints_a_summary_and_a_second_run_finds_every_match_present(cli_env, stack):
    path = _file(cli_env)
    first = await _invoke(str(path))
    assert first.exit_code == 0, first.output
    assert re.search(r"started\s+│\s+4 │", first.stdout), first.stdout
    assert re.search(r"already present\s+│\s+0 │", first.stdout)

    again = await _invoke(str(path), "--json")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert (summary["started"], summary["already_present"]) == (0, 4)


async def test_an_invalid_file_lists_its_errors_starts_nothing_and_fails(cli_env, stack):
    path = _file(cli_env, breaks=True)
    result = await _invoke(str(path))
    assert result.exit_code == 1
    assert "adopter_contact_email" in result.stdout and "nothing was started" in result.output
    dry = await _invoke(str(path), "--dry-run", "--json")
    assert dry.exit_code == 1
    assert [(e["line"], e["field"]) for e in json.loads(dry.stdout)["errors"]] == [
        (3, "adopter_contact_email")
    ]
    assert len(stack.mail.messages) == 0

    skipped = await _invoke(str(path), "--skip-invalid", "--json")
    assert skipped.exit_code == 1  # a row was invalid: said by the exit code too
    summary = json.loads(skipped.stdout)
    assert (summary["started"], summary["invalid"]) == (3, 1)


async def test_a_dry_run_of_a_valid_file_needs_no_temporal(cli_env, monkeypatch):
    monkeypatch.setenv("MATCHMAKER_TEMPORAL_TARGET", "127.0.0.1:9")
    result = await _invoke(str(_file(cli_env)), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "checked 4 rows" in result.stdout and re.search(r"valid\s+│\s+4 │", result.stdout)


async def test_a_workshop_policy_given_beside_a_csv_file_is_kept_by_its_matches(cli_env, stack):
    from workflows.match_lifecycle import MatchLifecycle

    policy = cli_env / "policy.json"
    policy.write_text('{"lapse_day": 40, "escalation_day": 30}')
    path = _file(cli_env)
    result = await _invoke(str(path), "--policy", str(policy), "--json")
    assert result.exit_code == 0, result.output
    match_id = json.loads(result.stdout)["results"][0]["match_id"]
    state = await stack.client.get_workflow_handle(match_id).query(MatchLifecycle.state)
    assert (state.policy.lapse_day, state.policy.escalation_day) == (40, 30)

    policy.write_text('{"lapse_day": 10}')  # before the escalation: refused, nothing started
    refused = await _invoke(str(_file(cli_env)), "--policy", str(policy))
    assert refused.exit_code == 2
    assert "policy.json" in refused.output
