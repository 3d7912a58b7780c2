"""`matchmaker report funnel|stalled|network`: readable tables, CSV and JSON, over the
database the settings name (no Temporal needed)."""

import asyncio
import json

import pytest
from typer.testing import CliRunner

from store.engine import make_engine, make_sessionmaker
from tests.store.test_reports import COMPLETED, START, VISITED, _match
from tests.support import migrated_sqlite
from workers import cli
from workers.ports import free_port

runner = CliRunner()


async def _seed(url: str) -> None:
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        await _match(sessions, "ws-c", COMPLETED)
        await _match(sessions, "ws-c", VISITED)
        await _match(sessions, "ws-d", [*START, ("closed", "follow_up", 3, {"reason": "lapsed"})])
    finally:
        await engine.dispose()


@pytest.fixture
def report_env(tmp_path, monkeypatch):
    url = migrated_sqlite(tmp_path / "matchmaker.db")
    asyncio.run(_seed(url))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MATCHMAKER_DATABASE_URL", url)
    monkeypatch.setenv("MATCHMAKER_TEMPORAL_TARGET", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("MATCHMAKER_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("COLUMNS", "200")

    def leave(code: int) -> None:
        raise SystemExit(code)

    monkeypatch.setattr(cli, "exit_without_teardown", leave)


def test_report_funnel_as_a_table_csv_and_json(report_env):
    table = runner.invoke(cli.app, ["report", "funnel", "--workshop", "ws-c"])
    assert table.exit_code == 0, table.output
    assert "Funnel by workshop" in table.stdout and "ws-c" in table.stdout
    assert "1 (50%)" in table.stdout  # adaptation: 1 of the 2 that had a field visit
    csv = runner.invoke(cli.app, ["report", "funnel", "--by", "year", "--format", "csv"])
    assert csv.stdout.splitlines()[1].startswith("2025,3,1,3,,4.0,2,0.6667,")
    as_json = runner.invoke(cli.app, ["report", "funnel", "--format", "json"])
    assert [r["key"] for r in json.loads(as_json.stdout)["rows"]] == ["ws-c", "ws-d"]


def test_report_stalled_and_network(report_env):
    stalled = runner.invoke(cli.app, ["report", "stalled", "--days", "30", "--format", "json"])
    assert stalled.exit_code == 0, stalled.output
    assert json.loads(stalled.stdout)["total"] == 1
    network = runner.invoke(cli.app, ["report", "network"])
    assert network.exit_code == 0, network.output
    assert "3 partnership opportunities across 2 countries from 2 workshops" in network.stdout


def test_a_bad_option_says_which(report_env):
    bad = runner.invoke(cli.app, ["report", "funnel", "--adopter-country", "XX"])
    assert bad.exit_code == 2 and "--adopter-country" in bad.output
    assert runner.invoke(cli.app, ["report", "funnel", "--by", "planet"]).exit_code == 2
