"""What can be checked of the production deployment without a Docker engine."""

import re

import pytest
import yaml
from typer.main import get_command

from infra.settings import Settings
from tests.support import ROOT
from workers.cli import app

SERVICES = {
    "postgres",
    "temporal",
    "temporal-ui",
    "mailpit",
    "migrate",
    "api",
    "worker",
    "codec-server",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    return dict(env) if isinstance(env, dict) else dict(item.split("=", 1) for item in env)


def test_every_service_is_described(compose):
    assert set(compose["services"]) == SERVICES


def test_matchmaker_variables_are_real_settings(compose):
    fields = {name.upper() for name in Settings.model_fields}
    seen = set()
    for name, service in compose["services"].items():
        for key in _env(service):
            if key.startswith("MATCHMAKER_"):
                assert key.removeprefix("MATCHMAKER_") in fields, f"{name}: {key} is not a setting"
                seen.add(key)
    assert {
        "MATCHMAKER_DATABASE_URL",
        "MATCHMAKER_SIGNING_SECRET",
        "MATCHMAKER_TEMPORAL_TARGET",
    } <= seen


def test_secrets_are_required_from_the_environment(compose):
    text = (ROOT / "docker-compose.yml").read_text()
    assert re.search(r"\$\{POSTGRES_PASSWORD:\?", text)
    assert re.search(r"\$\{MATCHMAKER_SIGNING_SECRET:\?", text)
    assert re.search(r"\$\{MATCHMAKER_PAYLOAD_KEYS:\?", text)
    env = _env(compose["services"]["api"])
    assert env["MATCHMAKER_ENV"] == "production"
    assert env["MATCHMAKER_DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_project_services_are_built_and_run_real_commands(compose):
    commands = {c.name for c in get_command(app).commands.values()}  # type: ignore[attr-defined]
    for name in ("migrate", "api", "worker", "codec-server"):
        service = compose["services"][name]
        assert service["build"] == "."
        assert service["command"][0] == "matchmaker" and service["command"][1] in commands
    assert compose["services"]["migrate"]["command"] == ["matchmaker", "db", "upgrade"]
    assert (ROOT / "Dockerfile").is_file()


def test_start_order_waits_on_health(compose):
    services = compose["services"]
    for name in ("postgres", "temporal", "mailpit", "api"):
        assert "healthcheck" in services[name], name
    assert services["temporal"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["temporal"]["condition"] == "service_healthy"
    assert services["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_the_ui_decodes_through_the_codec_server_of_its_own_origin(compose):
    services = compose["services"]
    codec = _env(services["codec-server"])
    ui_port = services["temporal-ui"]["ports"][0].split(":")[0]
    assert codec["MATCHMAKER_CODEC_CORS_ORIGINS"] == f"http://localhost:{ui_port}"
    port = codec["MATCHMAKER_CODEC_PORT"]
    assert f"{port}:{port}" in services["codec-server"]["ports"]
    assert services["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"].endswith(f":{port}}}")
    assert "MATCHMAKER_PAYLOAD_KEYS" in codec


def test_env_example_documents_every_setting():
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^MATCHMAKER_([A-Z_]+)=", text, flags=re.M))
    assert documented == {name.upper() for name in Settings.model_fields}


def test_the_image_holds_every_package_of_the_project():
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"][
        "targets"
    ]["wheel"]["packages"]
    copied = set(re.findall(r"^COPY (\S+) \./\1$", (ROOT / "Dockerfile").read_text(), re.M))
    assert set(packages) | {"migrations"} <= copied
