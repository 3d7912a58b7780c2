"""The dev stack's state file: written by `matchmaker dev`, read by every other command to find
the stack without exported settings; the environment wins, a stale file is ignored with a note."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.settings import Settings
from workers import cli, devstate
from workers.devstate import process_start, read_state, remove_state, running_stack, write_state


def _state(data_dir: Path, **settings: object) -> Path:
    return write_state(
        data_dir,
        settings={"temporal_target": "127.0.0.1:17233", **settings},
        processes={"api": os.getpid()},
        api_url="http://127.0.0.1:18000",
    )


def _gone_pid() -> int:
    """The number of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_file_is_its_owners_only_and_reads_back(tmp_path: Path):
    path = _state(tmp_path, database_url="sqlite+aiosqlite:////x/matchmaker.db")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    state = read_state(tmp_path)
    assert state is not None and state.running
    assert state.pid == os.getpid() and state.started == process_start(os.getpid())
    assert state.settings["temporal_target"] == "127.0.0.1:17233"
    assert state.api_url == "http://127.0.0.1:18000"
    assert state.survivors() == {"api": os.getpid()}
    assert list(tmp_path.iterdir()) == [path]  # no staging file left behind


def test_a_number_given_to_another_process_since_is_not_the_stack(tmp_path: Path):
    _state(tmp_path)
    body = json.loads(devstate.state_path(tmp_path).read_text())
    body["started"] -= 1  # same number, another start: the stack's process is gone
    devstate.state_path(tmp_path).write_text(json.dumps(body))
    assert read_state(tmp_path).running is False  # type: ignore[union-attr]


def test_a_client_takes_what_it_was_not_given_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _state(tmp_path, temporal_namespace="dev-ns", api_port=18000)
    monkeypatch.setenv("MATCHMAKER_TEMPORAL_NAMESPACE", "mine")
    found, note = running_stack(Settings(data_dir=tmp_path))
    assert note is None
    assert found == {"temporal_target": "127.0.0.1:17233", "api_port": 18000}


def test_a_stale_file_is_ignored_with_a_note(tmp_path: Path):
    _state(tmp_path)
    body = json.loads(devstate.state_path(tmp_path).read_text())
    body["pid"] = _gone_pid()
    devstate.state_path(tmp_path).write_text(json.dumps(body))
    found, note = running_stack(Settings(data_dir=tmp_path))
    assert found == {}
    assert note is not None and "no longer running" in note and str(body["pid"]) in note


def test_only_the_writer_removes_the_file(tmp_path: Path):
    path = _state(tmp_path)
    body = json.loads(path.read_text())
    path.write_text(json.dumps({**body, "pid": body["pid"] + 1}))
    remove_state(tmp_path)
    assert path.exists()
    _state(tmp_path)
    remove_state(tmp_path)
    assert not path.exists()


def test_no_file_or_an_unreadable_one_changes_nothing(tmp_path: Path):
    assert running_stack(Settings(data_dir=tmp_path)) == ({}, None)
    devstate.state_path(tmp_path).write_text("{not json")
    assert running_stack(Settings(data_dir=tmp_path)) == ({}, None)


@pytest.fixture
def matchmaker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(cli, "configure_logging", lambda **_: None)
    monkeypatch.delenv("MATCHMAKER_DATABASE_URL", raising=False)

    def run(*args: str, **env: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(
            cli.app, list(args), env={"MATCHMAKER_DATA_DIR": str(tmp_path / ".data"), **env}
        )

    return run


def test_a_command_finds_the_running_stacks_database(tmp_path: Path, matchmaker):
    data_dir = tmp_path / ".data"
    data_dir.mkdir()
    stacks = tmp_path / "stacks.db"
    _state(data_dir, database_url=f"sqlite+aiosqlite:///{stacks}")
    result = matchmaker("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert stacks.exists() and not (data_dir / "matchmaker.db").exists()
    # a database in the environment wins over the file's
    mine = tmp_path / "mine.db"
    result = matchmaker("db", "upgrade", MATCHMAKER_DATABASE_URL=f"sqlite+aiosqlite:///{mine}")
    assert result.exit_code == 0, result.output
    assert mine.exists()


def test_a_command_says_when_the_stack_it_names_is_gone(tmp_path: Path, matchmaker):
    data_dir = tmp_path / ".data"
    data_dir.mkdir()
    _state(data_dir, database_url=f"sqlite+aiosqlite:///{tmp_path / 'stacks.db'}")
    body = json.loads(devstate.state_path(data_dir).read_text())
    devstate.state_path(data_dir).write_text(json.dumps({**body, "pid": _gone_pid()}))
    result = matchmaker("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "names a dev stack that is no longer running" in result.output
    assert (data_dir / "matchmaker.db").exists()  # the default, not the gone stack's
    assert not (tmp_path / "stacks.db").exists()
