"""Console passwords from the command line, and the dev stack's admin password."""

import asyncio
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.settings import Settings
from services import access, console_auth
from store.engine import make_engine, make_sessionmaker
from tests.support import migrated_sqlite
from workers import cli
from workers.dev import admin_password_path, ensure_admin_password

PASSWORD = "a password long enough"


@pytest.fixture
def matchmaker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the CLI on a fresh database, with standard input; return (exit code, output)."""
    url = migrated_sqlite(tmp_path / "matchmaker.db")
    monkeypatch.setattr(cli, "configure_logging", lambda **_: None)
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = runner.invoke(
            cli.app, list(args), input=stdin, env={"MATCHMAKER_DATABASE_URL": url}
        )
        return result.exit_code, result.output

    run.url = url  # type: ignore[attr-defined]
    return run


def _signs_in(url: str, email: str, password: str) -> bool:
    async def check() -> bool:
        engine = make_engine(url)
        try:
            await console_auth.sign_in(
                make_sessionmaker(engine), email=email, password=password, lifetime=timedelta(1)
            )
            return True
        except console_auth.SignInFailed:
            return False
        finally:
            await engine.dispose()

    return asyncio.run(check())


def test_users_add_sets_a_password_from_stdin(matchmaker):
    code, out = matchmaker(
        "users", "add", "ana@ssn4psi.org", "--name", "Ana", "--password-stdin", stdin=PASSWORD
    )
    assert code == 0, out
    assert "set their console password" in out and PASSWORD not in out
    assert _signs_in(matchmaker.url, "ana@ssn4psi.org", PASSWORD)
    assert not _signs_in(matchmaker.url, "ana@ssn4psi.org", PASSWORD + "!")


def test_users_add_prompts_twice_with_hidden_input(matchmaker):
    code, out = matchmaker(
        "users", "add", "ana@ssn4psi.org", "--name", "Ana", "--password",
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert code == 0, out
    assert "Repeat for confirmation" in out and PASSWORD not in out
    assert _signs_in(matchmaker.url, "ana@ssn4psi.org", PASSWORD)


def test_a_short_password_adds_nobody(matchmaker):
    code, out = matchmaker(
        "users", "add", "ana@ssn4psi.org", "--name", "Ana", "--password-stdin", stdin="short"
    )
    assert code == 2 and "at least 12 characters" in out
    assert "ana@ssn4psi.org" not in matchmaker("users", "list")[1]


def test_set_password_replaces_the_old_one(matchmaker):
    assert matchmaker("users", "add", "ana@ssn4psi.org", "--name", "Ana")[0] == 0
    assert not _signs_in(matchmaker.url, "ana@ssn4psi.org", PASSWORD)  # none yet
    code, out = matchmaker(
        "users", "set-password", "ana@ssn4psi.org", "--password-stdin", stdin=PASSWORD
    )
    assert code == 0, out
    assert _signs_in(matchmaker.url, "ana@ssn4psi.org", PASSWORD)
    code, out = matchmaker(
        "users", "set-password", "bob@ssn4psi.org", "--password-stdin", stdin=PASSWORD
    )
    assert code == 1 and "no user" in out


async def test_the_dev_stack_gives_its_admin_a_password_once(tmp_path: Path):
    url = migrated_sqlite(tmp_path / "matchmaker.db")
    settings = Settings(database_url=url, data_dir=tmp_path)
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        await access.dev_admin_key(
            sessions, email=settings.secretariat_email, name="Secretariat (dev)", existing=None
        )
        password = await ensure_admin_password(settings, sessions)
        path = admin_password_path(settings)
        assert password is not None and path.read_text().strip() == password
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert await ensure_admin_password(settings, sessions) is None  # kept: still works
        new = await console_auth.sign_in(
            sessions, email=settings.secretariat_email, password=password, lifetime=timedelta(1)
        )
        assert new.user.role.value == "admin"
        # a password the admin chose since is theirs: later starts leave it alone
        await console_auth.set_password(
            sessions, email=settings.secretariat_email, password="my own password!"
        )
        assert await ensure_admin_password(settings, sessions) is None
        assert path.read_text().strip() == password
    finally:
        await engine.dispose()
