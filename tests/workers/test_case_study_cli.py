"""`matchmaker case-study …` against a migrated SQLite database."""

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from store.engine import make_engine, make_sessionmaker
from tests.services.test_case_studies import DRAFT, drafted
from tests.support import migrated_sqlite
from workers import cli


@pytest.fixture
def matchmaker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the CLI on a fresh database holding one drafted case study; return (exit code,
    output); ``run.match_id`` names the case study."""
    url = migrated_sqlite(tmp_path / "matchmaker.db")
    monkeypatch.setattr(cli, "configure_logging", lambda **_: None)
    runner = CliRunner()

    async def draft() -> str:
        engine = make_engine(url)
        try:
            return await drafted(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli.app, list(args), env={"MATCHMAKER_DATABASE_URL": url})
        return result.exit_code, result.output

    run.match_id = asyncio.run(draft())  # type: ignore[attr-defined]
    assert run("users", "add", "ana@ssn4psi.org", "--name", "Ana", "--role", "staff")[0] == 0
    assert run("users", "add", "vic@ssn4psi.org", "--name", "Vic", "--role", "viewer")[0] == 0
    return run


def test_list_show_edit_review_publish_and_compile(matchmaker, tmp_path):
    match_id = matchmaker.match_id
    code, out = matchmaker("case-study", "list")
    assert code == 0 and match_id in out and "draft" in out and "1-1 of 1" in out
    code, out = matchmaker("case-study", "show", match_id)
    assert code == 0 and DRAFT in out
    edit = tmp_path / "edit.md"
    edit.write_text("# Edited by Ana\n\n## Context\nWhy.\n\n## Results\n- 12,000 people\n")
    code, out = matchmaker(
        "case-study", "edit", match_id, "--file", str(edit), "--as", "ana@ssn4psi.org"
    )
    assert code == 0, out
    assert f"{match_id}: edited; now draft, revision 2" in out
    code, out = matchmaker("case-study", "publish", match_id, "--as", "ana@ssn4psi.org")
    assert code == 1 and "only a reviewed case study can be published; this one is draft" in out
    assert matchmaker("case-study", "review", match_id, "--as", "ana@ssn4psi.org")[0] == 0
    code, out = matchmaker("case-study", "publish", match_id, "--as", "ana@ssn4psi.org")
    assert code == 0 and "published; now published, revision 4" in out
    code, out = matchmaker("case-study", "list", "--status", "published")
    assert code == 0 and "ana@ssn4psi.org" in out and "Edited by Ana" in out
    volume = tmp_path / "volume.html"
    code, out = matchmaker("case-study", "volume", "--format", "html", "-o", str(volume))
    assert code == 0 and f"wrote {volume}" in out
    html = volume.read_text()
    assert '<html lang="en">' in html and "1. Edited by Ana</h3>" in html
    code, out = matchmaker("case-study", "volume")
    assert code == 0 and out.startswith("# The South-South Matchmaker") and "12,000 people" in out


def test_changes_need_a_staff_user_and_a_current_revision(matchmaker, tmp_path):
    match_id = matchmaker.match_id
    code, out = matchmaker("case-study", "review", match_id, "--as", "vic@ssn4psi.org")
    assert code == 1 and "vic@ssn4psi.org is a viewer" in out
    code, out = matchmaker("case-study", "review", match_id, "--as", "someone")
    assert code == 1 and "'someone' is not an email address" in out
    code, out = matchmaker("case-study", "review", match_id, "--as", "eve@ssn4psi.org")
    assert code == 1 and "no user 'eve@ssn4psi.org'" in out
    edit = tmp_path / "edit.md"
    edit.write_text("# New\n")
    code, out = matchmaker(
        "case-study",
        "edit",
        match_id,
        "--file",
        str(edit),
        "--as",
        "ana@ssn4psi.org",
        "--revision",
        "5",
    )
    assert code == 1 and "has no revision 5 (it is at revision 1)" in out
    code, out = matchmaker("case-study", "show", "match-unknown")
    assert code == 1 and "no case study for match 'match-unknown'" in out
    shown = matchmaker("case-study", "show", match_id)[1]
    assert DRAFT in shown
