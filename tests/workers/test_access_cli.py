"""`matchmaker users …` and `matchmaker keys …` against a migrated SQLite database."""

import asyncio
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services import access
from store.engine import make_engine, make_sessionmaker
from tests.support import migrated_sqlite
from workers import cli

KEY = re.compile(r"mmk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def matchmaker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the CLI on a fresh database; return (exit code, stdout + stderr)."""
    url = migrated_sqlite(tmp_path / "matchmaker.db")
    # the process-wide logging set-up is the entry point's, not the test session's
    monkeypatch.setattr(cli, "configure_logging", lambda **_: None)
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli.app, list(args), env={"MATCHMAKER_DATABASE_URL": url})
        return result.exit_code, result.output

    run.url = url  # type: ignore[attr-defined]
    return run


def _authenticate(url: str, token: str) -> access.Principal:
    async def check() -> access.Principal:
        engine = make_engine(url)
        try:
            return await access.authenticate(make_sessionmaker(engine), token=token)
        finally:
            await engine.dispose()

    return asyncio.run(check())


def test_add_and_list_users(matchmaker):
    code, out = matchmaker(
        "users", "add", "Ana@SSN4PSI.org", "--name", "Ana Diaz", "--role", "staff"
    )
    assert code == 0, out
    assert "added ana@ssn4psi.org (Ana Diaz) as staff" in out
    code, out = matchmaker("users", "list")
    assert code == 0 and re.search(r"ana@ssn4psi\.org\s+│\s+Ana Diaz\s+│\s+staff", out), out


def test_a_user_is_added_once_and_with_a_valid_address_and_role(matchmaker):
    assert matchmaker("users", "add", "ana@ssn4psi.org", "--name", "Ana")[0] == 0
    code, out = matchmaker("users", "add", "ana@ssn4psi.org", "--name", "Ana")
    assert code == 1 and "exists already" in out
    code, out = matchmaker("users", "add", "not-an-address", "--name", "X")
    assert code == 1 and "is not an email address" in out
    code, out = matchmaker("users", "add", "b@ssn4psi.org", "--name", "B", "--role", "root")
    assert code == 2 and "root" in out


def test_create_a_key_shown_once_then_list_and_revoke(matchmaker):
    matchmaker("users", "add", "ana@ssn4psi.org", "--name", "Ana", "--role", "admin")
    code, out = matchmaker(
        "keys", "create", "--user", "ana@ssn4psi.org", "--role", "staff",
        "--expires-in-days", "30", "--name", "laptop",
    )  # fmt: skip
    assert code == 0, out
    [token] = KEY.findall(out)
    key_id = token.split("_")[1]
    assert "shown this once" in out
    principal = _authenticate(matchmaker.url, token)
    assert principal.email == "ana@ssn4psi.org" and principal.role == "staff"

    code, listed = matchmaker("keys", "list")
    assert code == 0 and key_id in listed and "laptop" in listed and "active" in listed
    assert token.split("_", 2)[2] not in listed  # never the secret
    assert not KEY.search(listed)

    assert matchmaker("keys", "revoke", key_id) == (0, f"revoked key {key_id}\n")
    code, listed = matchmaker("keys", "list", "--user", "ana@ssn4psi.org")
    assert "revoked" in listed
    with pytest.raises(access.AuthenticationFailed, match="revoked"):
        _authenticate(matchmaker.url, token)


def test_a_key_cannot_outrank_its_user_or_belong_to_nobody(matchmaker):
    matchmaker("users", "add", "ana@ssn4psi.org", "--name", "Ana", "--role", "viewer")
    code, out = matchmaker("keys", "create", "--user", "ana@ssn4psi.org", "--role", "staff")
    assert code == 1 and "cannot be staff" in out and not KEY.search(out)
    code, out = matchmaker("keys", "create", "--user", "nobody@ssn4psi.org")
    assert code == 1 and "no user" in out
    code, out = matchmaker("keys", "revoke", "0123456789ab")
    assert code == 1 and "no key" in out
