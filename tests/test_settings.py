from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.policy import TimingPolicy
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


PUBLIC = "https://matchmaker.ssn4psi.org"


def test_production_accepts_a_real_secret():
    key = "k1:" + "A" * 43 + "="
    settings = Settings(
        env="production", signing_secret="x" * 48, payload_keys=key, public_base_url=PUBLIC
    )
    assert settings.signing_secret.get_secret_value() == "x" * 48


@pytest.mark.parametrize(
    "public",
    ["http://127.0.0.1:8000", "http://localhost:8000", "https://[::1]/", "http://app.localhost",
     "matchmaker.ssn4psi.org"],
)  # fmt: skip
def test_production_refuses_a_public_address_no_partner_can_reach(public):
    key = "k1:" + "A" * 43 + "="
    with pytest.raises(ValidationError, match="MATCHMAKER_PUBLIC_BASE_URL must be the address"):
        Settings(
            env="production", signing_secret="x" * 48, payload_keys=key, public_base_url=public
        )
    # dev and the tests keep their loopback default
    assert Settings(env="test", signing_secret="x" * 48, payload_keys=key, public_base_url=public)


def test_production_refuses_plain_http():
    key = "k1:" + "A" * 43 + "="
    with pytest.raises(ValidationError, match="must be https in production"):
        Settings(
            env="production",
            signing_secret="x" * 48,
            payload_keys=key,
            public_base_url="http://matchmaker.ssn4psi.org",
        )
    production = Settings(
        env="production", signing_secret="x" * 48, payload_keys=key, public_base_url=PUBLIC
    )
    assert production.console_cookie_secure


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


def test_the_timing_policy_defaults_to_the_networks_practice(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.timing == TimingPolicy() and settings.day_seconds == 86_400
    assert settings.timing_policy == TimingPolicy()


def test_timing_fields_read_one_by_one_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MATCHMAKER_TIMING__LAPSE_DAY", "45")
    monkeypatch.setenv("MATCHMAKER_TIMING__REMINDER_DAYS", "[5, 10]")
    monkeypatch.setenv("MATCHMAKER_TIMING__EMAIL_RETRY_HOURS", "12")
    timing = Settings().timing
    assert (timing.lapse_day, timing.reminder_days, timing.email_retry_hours) == (45, (5, 10), 12)
    assert timing.escalation_day == 21  # the rest keep their defaults


def test_the_timing_policy_reads_as_json(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MATCHMAKER_TIMING", '{"escalation_day": 18, "lapse_day": 20}')
    assert Settings().timing == TimingPolicy(escalation_day=18, lapse_day=20)


def test_a_dotenv_file_sets_the_timing_and_the_time_scale(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("MATCHMAKER_TIMING__LAPSE_DAY=40\nMATCHMAKER_DAY_SECONDS=60\n")
    settings = Settings()
    assert settings.timing.lapse_day == 40
    # one day lasts a minute: every duration of the policy new matches start with scales
    policy = settings.timing_policy
    assert policy.lapse_day == pytest.approx(40 / 1440)
    assert policy.reminder_days == pytest.approx((7 / 1440, 14 / 1440))
    assert policy.checkin_interval_days == pytest.approx(30 / 1440)
    assert policy.email_retry_hours == pytest.approx(24 / 1440)
    assert policy.max_reschedules == 2


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("MATCHMAKER_TIMING__LAPSE_DAY", "10", "strictly increasing"),  # before escalation
        ("MATCHMAKER_TIMING__LAPSE_DAYS", "10", "lapse_days"),  # a typo is named, not ignored
        ("MATCHMAKER_DAY_SECONDS", "0", "day_seconds"),
    ],
)
def test_an_impossible_timing_is_refused(monkeypatch, tmp_path, variable, value, named):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=named):
        Settings()


def test_the_backend_carries_the_settings_policy(monkeypatch, tmp_path):
    from workers.api import backend_for

    monkeypatch.chdir(tmp_path)
    settings = Settings(day_seconds=3600)
    backend = backend_for(settings, client=None, sessions=None)  # type: ignore[arg-type]
    assert backend.policy == settings.timing_policy
    assert backend.policy.lapse_day == pytest.approx(30 / 24)
