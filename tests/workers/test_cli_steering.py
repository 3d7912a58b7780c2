"""`matchmaker match act` and `matchmaker match bulk` on the test Temporal server and SQLite: the
acting user named and checked, the dry run's table, the confirmation, --yes, the exit codes."""

import uuid

import pytest
import typer

from domain.access import Role
from domain.lifecycle import events as ev
from services import access, steering
from services.intake import submit_eoi
from store import queries
from tests.support import CliRun, matchmaker_process, unique_eoi, wait_for
from workers import cli

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
_PAUSE = ev.Pause(reason="elections")
ANA = "ana@ssn4psi.org"


@pytest.fixture
async def matchmaker(stack, database_url, temporal_env, tmp_path, monkeypatch):
    """Run the CLI (a process of its own: the test's loop runs the worker) against the test
    stack, from a folder without an .env."""
    await access.add_user(stack.backend.sessions, email=ANA, name="Ana", role=Role.STAFF)
    await access.add_user(
        stack.backend.sessions, email="vic@ssn4psi.org", name="V", role=Role.VIEWER
    )
    env = {
        "MATCHMAKER_DATABASE_URL": database_url,
        "MATCHMAKER_TEMPORAL_TARGET": temporal_env.client.service_client.config.target_host,
        "MATCHMAKER_TASK_QUEUE": stack.task_queue,
        "COLUMNS": "250",
    }

    async def run(*args: str, answer: str | None = None) -> CliRun:
        return await matchmaker_process(*args, env=env, cwd=tmp_path, answer=answer)

    return run


async def _workshop(stack, size: int) -> tuple[str, list[str]]:
    workshop = f"ws-{uuid.uuid4().hex[:8]}"
    ids = []
    for _ in range(size):
        eoi = unique_eoi()
        eoi = eoi.model_copy(update={"workshop": eoi.workshop.model_copy(update={"id": workshop})})
        ids.append((await submit_eoi(stack.backend, eoi=eoi)).match_id)
    return workshop, ids


async def _history(stack, match_id: str) -> list[tuple[str, str]]:
    state = await steering.live_state(stack.backend, match_id=match_id)
    return [(h.kind, h.actor) for h in state.history]


@SQLITE
async def test_match_act_applies_each_action_as_the_named_user(matchmaker, stack):
    _, (match_id,) = await _workshop(stack, 1)
    as_ana = ("--as", ANA)
    done = await matchmaker("match", "act", match_id, "pause", "--reason", "elections", *as_ana)
    assert done.exit_code == 0, done.output
    assert f"pause: {match_id} is follow_up, paused; waiting on" in done.stdout
    again = await matchmaker("match", "act", match_id, "pause", "--reason", "elections", *as_ana)
    assert again.exit_code == 1 and "reminders are already paused" in again.output
    for args in (
        ("resume",),
        ("note", "--note", "called the adopter"),
        ("extend-deadline", "--days", "10", "--reason", "the minister is away"),
        ("resend",),
        ("close", "--reason", "withdrawn", "--note", "the adopter left the network"),
    ):
        done = await matchmaker("match", "act", match_id, *args, *as_ana)
        assert done.exit_code == 0, (args, done.output)
    kinds = [(k, a) for k, a in await _history(stack, match_id) if a == f"secretariat:{ANA}"]
    assert [k for k, _ in kinds] == [
        "paused",
        "resumed",
        "note",
        "deadline_extended",
        "resent",
        "resent",
        "closed",
    ]


@SQLITE
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--as", "bob@ssn4psi.org"), "no user 'bob@ssn4psi.org'"),
        (("--as", "vic@ssn4psi.org"), "vic@ssn4psi.org is viewer: this needs the staff role"),
        (("--as", "ana@ssn4psi.org", "--days", "3"), "--days: pause does not take this option"),
        (("--as", "ana@ssn4psi.org", "--reason", "x"), "--reason: String should have at least"),
    ],
)
async def test_match_act_refuses_an_unknown_or_unfit_user_and_a_wrong_option(
    matchmaker, stack, args, words
):
    _, (match_id,) = await _workshop(stack, 1)
    before = await _history(stack, match_id)
    done = await matchmaker("match", "act", match_id, "pause", "--reason", "elections", *args)
    assert done.exit_code in (1, 2) and words in done.output, done.output
    assert await _history(stack, match_id) == before


@SQLITE
async def test_match_act_needs_a_user(matchmaker, stack):
    done = await matchmaker("match", "act", "match-x", "resume")
    assert done.exit_code == 2 and "--as" in done.output


async def _paused_and_fresh(stack) -> tuple[str, str, str]:
    workshop, (fresh, paused) = await _workshop(stack, 2)
    await steering.act(stack.backend, match_id=paused, action=_PAUSE, by=ANA)

    async def recorded() -> bool:
        async with stack.backend.sessions() as session:
            return (await queries.get_match(session, match_id=paused)).status == "paused"

    await wait_for(recorded)
    return workshop, fresh, paused


@SQLITE
async def test_match_bulk_shows_the_dry_run_and_changes_nothing(matchmaker, stack):
    workshop, fresh, paused = await _paused_and_fresh(stack)
    before = [await _history(stack, m) for m in (fresh, paused)]
    done = await matchmaker(
        "match", "bulk", "pause", "--reason", "elections", "--workshop", workshop,
        "--dry-run", "--as", ANA,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    out = done.stdout
    assert "Dry run of pause on 2 matches: 1 would apply, 1 would refuse, 0 failed" in out
    assert fresh in out and paused in out and "reminders are already paused" in out
    assert [await _history(stack, m) for m in (fresh, paused)] == before


@SQLITE
async def test_match_bulk_asks_before_applying(matchmaker, stack):
    workshop, fresh, paused = await _paused_and_fresh(stack)
    command = ("match", "bulk", "pause", "--reason", "elections", "--workshop", workshop)
    before = await _history(stack, fresh)
    declined = await matchmaker(*command, "--as", ANA, answer="n\n")
    assert declined.exit_code == 1 and "Apply pause to these 2 matches as" in declined.output
    assert "nothing changed" in declined.output
    assert await _history(stack, fresh) == before

    applied = await matchmaker(*command, "--as", ANA, answer="y\n")
    assert applied.exit_code == 1, applied.output  # one was refused
    out = applied.stdout
    assert "Applied pause on 2 matches: 1 applied, 1 refused, 0 failed" in out
    assert "idempotency key" in out
    assert [k for k, _ in await _history(stack, fresh)].count("paused") == 1


@SQLITE
async def test_match_bulk_with_yes_applies_without_asking(matchmaker, stack):
    workshop, ids = await _workshop(stack, 2)
    done = await matchmaker(
        "match", "bulk", "note", "--note", "workshop follow-up call held",
        "--workshop", workshop, "--yes", "--as", ANA, "--idempotency-key", "call-1",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "Apply" not in done.stdout and "2 applied, 0 refused, 0 failed" in done.stdout
    again = await matchmaker(
        "match", "bulk", "note", "--note", "workshop follow-up call held",
        "--match", ids[0], "--match", ids[1], "--yes", "--as", ANA, "--idempotency-key", "call-1",
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    for match_id in ids:
        assert [k for k, _ in await _history(stack, match_id)].count("note") == 1


def test_match_bulk_takes_every_filter_of_match_list():
    match = typer.main.get_command(cli.app).commands["match"]  # type: ignore[attr-defined]

    def options(command: str) -> set[str]:
        return {o for p in match.commands[command].params for o in p.opts}

    listed = options("list") - {"--sort", "--limit", "--offset", "--after", "--json"}
    assert listed <= options("bulk")


def test_match_act_names_the_actions_as_the_api_does():
    from api.routes.steering import ACTION_NAMES
    from workers.steering_cli import KINDS

    assert list(KINDS) == ACTION_NAMES
