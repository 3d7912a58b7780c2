from pathlib import Path

import pytest
from pydantic import ValidationError

from infra.settings import DEV_SIGNING_SECRET, Settings


def test_defaults_run_the_embedded_stack(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    settings = Settings()
    assert settings.env == "dev"
    assert (
        settings.resolved_database_url
        == f"sqlite+aiosqlite:///{(Path('.data') / 'matchmaker.db').resolve()}"
    )
    assert settings.mail_dir == Path(".data/mail")
    assert settings.temporal_db_file == Path(".data/temporal.db")


def test_environment_prefix_and_empty_values(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MATCHMAKER_SMTP_PORT", "2525")
    monkeypatch.setenv("MATCHMAKER_DATABASE_URL", "")
    monkeypatch.setenv("MATCHMAKER_SIGNING_SECRET", "")
    settings = Settings()
    assert settings.smtp_port == 2525
    assert settings.database_url is None
    assert settings.signing_secret.get_secret_value() == DEV_SIGNING_SECRET


@pytest.mark.parametrize("secret", [None, DEV_SIGNING_SECRET, "short"])
def test_production_refuses_a_weak_signing_secret(secret):
    kwargs = {"env": "production"} | ({"signing_secret": secret} if secret else {})
    with pytest.raises(ValidationError, match="MATCHMAKER_SIGNING_SECRET"):
        Settings(**kwargs)


def test_production_accepts_a_real_secret():
    settings = Settings(env="production", signing_secret="x" * 48)
    assert settings.signing_secret.get_secret_value() == "x" * 48


def test_invalid_values_are_named():
    with pytest.raises(ValidationError, match="smtp_tls"):
        Settings(smtp_tls="sometimes")


def test_the_default_task_queue_is_the_workflows_own():
    from workflows.contracts import TASK_QUEUE

    assert Settings.model_fields["task_queue"].default == TASK_QUEUE


def test_the_api_answers_loopback_and_the_public_host_by_default(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert Settings().allowed_hosts == ["localhost", "127.0.0.1", "[::1]"]
    public = Settings(public_base_url="https://matchmaker.ssn4psi.org/respond")
    assert public.allowed_hosts == ["localhost", "127.0.0.1", "[::1]", "matchmaker.ssn4psi.org"]


def test_allowed_hosts_read_as_a_comma_separated_list(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MATCHMAKER_ALLOWED_HOSTS", "matchmaker.example.org, *.ssn4psi.org,::1")
    assert Settings().allowed_hosts == ["matchmaker.example.org", "*.ssn4psi.org", "[::1]"]


def test_http_limits_have_safe_defaults(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.api_max_body_bytes == 1_048_576
    assert settings.api_graceful_shutdown_seconds == 10
    with pytest.raises(ValidationError, match="api_max_body_bytes"):
        Settings(api_max_body_bytes=0)
