"""`matchmaker dev` as a supervisor: what each process is given, and what it refuses."""

from pathlib import Path

import pytest

from infra.settings import Settings
from workers import devstate
from workers.dev import (
    DevPorts,
    DevStackError,
    _refuse_a_running_stack,
    _with_codec_wiring,
    child_environments,
)

PORTS = DevPorts(
    temporal=17233,
    ui=18233,
    api=18000,
    smtp=11025,
    codec=18081,
    api_metrics=19464,
    worker_metrics=19466,
    sdk_metrics=19465,
)


def _environments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **variables: str):
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    settings = Settings(
        data_dir=Path("relative"),
        temporal_target="127.0.0.1:17233",
        api_port=18000,
        public_base_url="http://127.0.0.1:18000",
    )
    return child_environments(_with_codec_wiring(settings, PORTS), PORTS)


def test_each_process_gets_the_stacks_settings_and_only_its_own_metrics_port(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    env = _environments(monkeypatch, tmp_path, MATCHMAKER_WORKER_METRICS_PORT="19466")
    assert set(env) == {"api", "worker", "codec-server", "mail-catcher"}
    for child in env.values():
        assert child["MATCHMAKER_DATA_DIR"] == str(tmp_path / "relative")  # whatever its cwd
        assert child["MATCHMAKER_TEMPORAL_TARGET"] == "127.0.0.1:17233"
        assert child["MATCHMAKER_PUBLIC_BASE_URL"] == "http://127.0.0.1:18000"
        assert child["MATCHMAKER_SMTP_PORT"] == "11025"
        assert child["MATCHMAKER_DATABASE_URL"].endswith("/relative/matchmaker.db")
        assert len(child["MATCHMAKER_CODEC_UI_TOKEN"]) >= 32
        assert child["MATCHMAKER_CODEC_CORS_ORIGINS"] == (
            "http://127.0.0.1:18233,http://localhost:18233"
        )
    assert env["api"]["MATCHMAKER_API_METRICS_PORT"] == "19464"
    assert "MATCHMAKER_WORKER_METRICS_PORT" not in env["api"]
    assert env["worker"]["MATCHMAKER_WORKER_METRICS_PORT"] == "19466"
    assert env["worker"]["MATCHMAKER_TEMPORAL_METRICS_PORT"] == "19465"
    assert "MATCHMAKER_API_METRICS_PORT" not in env["worker"]
    for name in ("codec-server", "mail-catcher"):
        assert not any(k.endswith("METRICS_PORT") for k in env[name]), name


def test_the_sdk_port_is_the_workers_even_when_a_dotenv_names_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    # given in the environment: the API's copy of it is removed
    env = _environments(monkeypatch, tmp_path, MATCHMAKER_TEMPORAL_METRICS_PORT="19465")
    assert "MATCHMAKER_TEMPORAL_METRICS_PORT" not in env["api"]
    assert env["worker"]["MATCHMAKER_TEMPORAL_METRICS_PORT"] == "19465"
    # named in a `.env`, which the API reads too: the API's goes to a port of its own
    monkeypatch.delenv("MATCHMAKER_TEMPORAL_METRICS_PORT")
    (tmp_path / ".env").write_text("matchmaker_temporal_metrics_port=19465\n")
    env = _environments(monkeypatch, tmp_path)
    assert env["api"]["MATCHMAKER_TEMPORAL_METRICS_PORT"] == "0"
    assert env["worker"]["MATCHMAKER_TEMPORAL_METRICS_PORT"] == "19465"


def test_a_second_stack_on_the_same_data_directory_is_refused(tmp_path: Path):
    devstate.write_state(
        tmp_path, settings={}, processes={}, api_url="http://127.0.0.1:18000"
    )  # this process stands for the running supervisor
    with pytest.raises(DevStackError, match=r"already running from .* \(pid \d+, API http"):
        _refuse_a_running_stack(Settings(data_dir=tmp_path))
