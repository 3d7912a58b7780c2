"""`matchmaker setup`, the deployment's one-off job: migrations, search attributes and the first
admin, each idempotent, against a migrated-from-nothing SQLite database and a bare Temporal
test server (no search attributes registered yet)."""

import asyncio
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from typer.testing import CliRunner

from infra.temporal import binary_path, connect
from services import console_auth
from store.engine import make_engine, make_sessionmaker
from tests.support import settings_for_tests, wait_for
from workers import cli
from workers.ports import free_port
from workflows.search_attributes import ALL_KEYS


@pytest.fixture
async def bare_temporal(tmp_path: Path) -> AsyncIterator[Client]:
    """Temporal's dev server as a fresh deployment has it: no search attribute of ours (the
    time-skipping server cannot list them)."""
    port = free_port()
    argv = [str(binary_path("temporal")), "server", "start-dev", "--headless", "--ip",
            "127.0.0.1", "--port", str(port), "--http-port", str(free_port()),
            "--metrics-port", str(free_port()), "--log-level", "error"]  # fmt: skip
    with open(tmp_path / "temporal.log", "wb") as log:
        server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    settings = settings_for_tests(temporal_target=f"127.0.0.1:{port}")

    async def up() -> Client | None:
        assert server.poll() is None, (tmp_path / "temporal.log").read_text()
        try:
            return await connect(settings)
        except RuntimeError:
            return None

    try:
        yield await wait_for(up, timeout=60, interval=0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def setup_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bare_temporal):
    url = f"sqlite+aiosqlite:///{tmp_path / 'matchmaker.db'}"  # nothing migrated yet
    monkeypatch.setattr(cli, "configure_logging", lambda **_: None)
    target = bare_temporal.service_client.config.target_host
    base = {
        "MATCHMAKER_DATABASE_URL": url,
        "MATCHMAKER_TEMPORAL_TARGET": target,
        "MATCHMAKER_TEMPORAL_NAMESPACE": bare_temporal.namespace,
    }

    def run(*args: str, **env: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli.app, ["setup", *args], env=base | env)
        return result.exit_code, result.output

    run.url = url  # type: ignore[attr-defined]
    return run


def _signs_in(url: str, email: str, password: str) -> bool:
    async def attempt() -> bool:
        engine = make_engine(url)
        try:
            await console_auth.sign_in(
                make_sessionmaker(engine),
                email=email,
                password=password,
                lifetime=timedelta(hours=1),
            )
            return True
        except console_auth.SignInFailed:
            return False
        finally:
            await engine.dispose()

    return asyncio.run(attempt())


def test_setup_migrates_registers_and_makes_the_first_admin_once(setup_cli, bare_temporal):
    code, out = setup_cli(MATCHMAKER_FIRST_ADMIN_EMAIL="Awa.Ndiaye@ssn4psi.org")
    assert code == 0, out
    assert "database: migrated to the latest revision" in out
    assert "search attributes: registered" in out
    for key in ALL_KEYS:
        assert key.name in out
    assert "first admin: awa.ndiaye@ssn4psi.org" in out
    lines = out.splitlines()
    password = lines[lines.index("Their console password follows; it is shown this once:") + 1]
    assert len(password) >= 20
    assert _signs_in(setup_cli.url, "awa.ndiaye@ssn4psi.org", password)

    async def registered() -> set[str]:
        listed = await bare_temporal.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=bare_temporal.namespace)
        )
        return set(listed.custom_attributes)

    assert {key.name for key in ALL_KEYS} <= asyncio.run(registered())

    # a second deploy changes nothing and shows no password
    code, again = setup_cli(MATCHMAKER_FIRST_ADMIN_EMAIL="other@ssn4psi.org")
    assert code == 0, again
    assert "search attributes: ready" in again
    assert "an admin exists already; nothing changed" in again
    assert password not in again and "shown this once" not in again
    assert _signs_in(setup_cli.url, "awa.ndiaye@ssn4psi.org", password)


def test_a_password_from_the_environment_is_never_printed(setup_cli):
    secret = "correct horse battery staple 42"
    code, out = setup_cli(
        MATCHMAKER_FIRST_ADMIN_EMAIL="ops@ssn4psi.org", MATCHMAKER_FIRST_ADMIN_PASSWORD=secret
    )
    assert code == 0, out
    assert secret not in out and "shown this once" not in out
    assert _signs_in(setup_cli.url, "ops@ssn4psi.org", secret)


def test_a_weak_password_or_no_temporal_is_a_clear_error(setup_cli, tmp_path):
    code, out = setup_cli(
        MATCHMAKER_FIRST_ADMIN_EMAIL="ops@ssn4psi.org", MATCHMAKER_FIRST_ADMIN_PASSWORD="short"
    )
    assert code == 1 and "the first admin's password: a password has at least" in out, out
    nobody = f"127.0.0.1:{free_port()}"
    code, out = setup_cli("--wait", "0", MATCHMAKER_TEMPORAL_TARGET=nobody)
    assert code == 1 and f"Temporal at {nobody} did not answer within 0 s" in out, out
