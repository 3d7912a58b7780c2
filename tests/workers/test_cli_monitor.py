"""`matchmaker match list` and `matchmaker match show`: the monitor in a terminal, through the
services, over the database the settings name (Temporal away: show says so and goes on)."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from store import writes
from store.engine import make_engine, make_sessionmaker
from tests.support import add_match, example_eoi, migrated_sqlite
from workers import cli
from workers.ports import free_port

runner = CliRunner()
PAST = datetime.now(UTC) - timedelta(hours=2)


async def _seed(url: str) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            for eoi_id, workshop, stage, waiting, deadline in (
                ("CLI-1", "ws-a", "follow_up", ["adopter", "provider"], PAST),
                ("CLI-2", "ws-b", "field_visit", ["provider"], PAST + timedelta(days=9)),
                ("CLI-3", "ws-a", "adaptation", ["adopter", "secretariat"], None),
            ):
                eoi = example_eoi(id=eoi_id)
                eoi = eoi.model_copy(
                    update={"workshop": eoi.workshop.model_copy(update={"id": workshop})}
                )
                await add_match(session, eoi)
                await writes.update_match(
                    session,
                    match_id=eoi.match_id,
                    stage=stage,
                    status="needs_attention" if "secretariat" in waiting else "active",
                    next_deadline=deadline,
                    waiting_on=waiting,
                    needs_attention="secretariat" in waiting,
                )
                await writes.append_history_entries(
                    session,
                    match_id=eoi.match_id,
                    entries=[
                        {
                            "seq": 1,
                            "kind": "match_recorded",
                            "stage": "follow_up",
                            "actor": "secretariat",
                            "summary": f"Match recorded from EOI {eoi_id} [not markup]",
                            "data": {},
                            "occurred_at": PAST,
                        }
                    ],
                )
            await session.commit()
    finally:
        await engine.dispose()


@pytest.fixture
def console_env(tmp_path, monkeypatch):
    """A seeded SQLite database named by the environment, and no Temporal listening."""
    url = migrated_sqlite(tmp_path / "matchmaker.db")
    asyncio.run(_seed(url))
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("MATCHMAKER_DATABASE_URL", url)
    monkeypatch.setenv("MATCHMAKER_TEMPORAL_TARGET", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("MATCHMAKER_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("COLUMNS", "200")

    # the commands end the process without interpreter teardown (see exit_without_teardown);
    # under the test runner they end the command instead
    def leave(code: int) -> None:
        raise SystemExit(code)

    monkeypatch.setattr(cli, "exit_without_teardown", leave)


def _listed(*args: str) -> list[str]:
    result = runner.invoke(cli.app, ["match", "list", "--json", *args])
    assert result.exit_code == 0, result.output
    return [m["id"] for m in json.loads(result.stdout)["items"]]


def test_match_list_filters_and_sorts(console_env):
    assert _listed() == ["match-CLI-3", "match-CLI-2", "match-CLI-1"]
    assert _listed("--workshop", "ws-a") == ["match-CLI-3", "match-CLI-1"]
    assert _listed("--stage", "field_visit") == ["match-CLI-2"]
    assert _listed("--overdue") == ["match-CLI-1"]
    assert _listed("--not-overdue") == ["match-CLI-3", "match-CLI-2"]
    assert _listed("--waiting-on", "adopter") == ["match-CLI-3", "match-CLI-1"]
    assert _listed("--attention") == ["match-CLI-3"]
    assert _listed("--no-attention", "--waiting-on", "provider") == ["match-CLI-2", "match-CLI-1"]
    assert _listed("--text", "UNION DIGITAL", "--limit", "1") == ["match-CLI-3"]
    assert _listed("--text", "nowhere") == []
    assert _listed("--sort", "next_deadline") == ["match-CLI-1", "match-CLI-2", "match-CLI-3"]
    assert _listed("--sort=-next_deadline") == ["match-CLI-2", "match-CLI-1", "match-CLI-3"]
    assert _listed("--sort", "stage") == ["match-CLI-1", "match-CLI-2", "match-CLI-3"]
    assert _listed(
        "--adopter-country",
        "kz",
        "--provider-country",
        "BD",
        "--solution",
        "sol-bd-digital-centres",
        "--status",
        "active",
    ) == ["match-CLI-2", "match-CLI-1"]


def test_match_list_pages_on_with_after(console_env):
    first = runner.invoke(cli.app, ["match", "list", "--limit", "2"])
    assert first.exit_code == 0, first.output
    cursor = first.stdout.split("next page: --after ", 1)[1].split()[0]
    assert _listed("--limit", "2", "--after", cursor) == ["match-CLI-1"]
    refused = runner.invoke(cli.app, ["match", "list", "--after", cursor + "x"])
    assert refused.exit_code == 2 and "--after" in refused.output


def test_match_list_prints_a_table(console_env):
    result = runner.invoke(cli.app, ["match", "list", "--workshop", "ws-a"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Matches 1–2 of 2" in out
    assert "match-CLI-1" in out and "match-CLI-3" in out and "match-CLI-2" not in out
    assert "overdue" in out  # CLI-1's deadline has passed
    assert "adopter, secretariat" in out


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--sort", "summary"], "--sort"),
        (["--adopter-country", "ZZ"], "--adopter-country"),
        (["--waiting-on", "minister"], "--waiting-on"),
        (["--colour", "red"], "--colour"),
    ],
)
def test_match_list_refuses_a_filter_by_name(console_env, args, named):
    result = runner.invoke(cli.app, ["match", "list", *args])
    assert result.exit_code == 2
    assert named in result.output


def test_match_show_prints_the_match_and_its_timeline_without_temporal(console_env):
    result = runner.invoke(cli.app, ["match", "show", "match-CLI-3"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "match-CLI-3" in out and "adaptation" in out and "adopter, secretariat" in out
    assert "Live state unavailable" in out and "Temporal" in out
    assert "Timeline (1 entries)" in out and "Match recorded from EOI CLI-3 [not markup]" in out


def test_match_show_of_an_unknown_match_says_so(console_env):
    result = runner.invoke(cli.app, ["match", "show", "match-nope"])
    assert result.exit_code == 1
    assert "no match with id 'match-nope'" in result.output
