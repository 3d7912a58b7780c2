"""What can be checked of the production deployment without a Docker engine."""

import re

import pytest
import yaml
from typer.main import get_command

from infra.settings import Settings
from tests.support import ROOT, migrated_sqlite
from workers.cli import app

SERVICES = {
    *("postgres", "temporal", "temporal-ui", "mailpit", "migrate", "api", "worker"),
    *("codec-server", "prometheus", "grafana", "otel-collector", "jaeger"),
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
    assert re.search(r"\$\{MATCHMAKER_PUBLIC_BASE_URL:\?", text)  # every emailed link
    env = _env(compose["services"]["api"])
    assert env["MATCHMAKER_ENV"] == "production"
    assert env["MATCHMAKER_DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_the_production_worker_runs_the_workflow_outside_the_sandbox(compose):
    # the tests and the replay checks run it in the sandbox (tests/workflows/test_replay.py)
    value = _env(compose["services"]["worker"])["MATCHMAKER_WORKER_WORKFLOW_SANDBOX"]
    assert Settings(worker_workflow_sandbox=value).worker_workflow_sandbox is False
    assert "MATCHMAKER_WORKER_WORKFLOW_SANDBOX" not in _env(compose["services"]["api"])


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


def _packages() -> list[str]:
    """The project's packages, as the wheel names them."""
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]


def test_the_image_holds_every_package_of_the_project():
    packages = _packages()
    copied = set(re.findall(r"^COPY (\S+) \./\1$", (ROOT / "Dockerfile").read_text(), re.M))
    assert set(packages) | {"migrations"} <= copied


def test_the_image_compiles_the_projects_bytecode():
    # the sandbox imports workflows/ for every match it builds; without bytecode it compiles
    packages = _packages()
    compiled = re.search(r"python -m compileall -q ([\w ]+)", (ROOT / "Dockerfile").read_text())
    assert compiled, "the Dockerfile compiles no bytecode"
    assert set(packages) <= set(compiled.group(1).split())


# --- metrics, dashboard and traces -------------------------------------------------------------

# What the Temporal SDK served (counters_total_suffix, durations_as_seconds) to a worker that
# ran a workflow with one activity on the test server (infra/telemetry.temporal_runtime),
# plus the failure counter, served only once an activity has failed.
SDK_METRICS = {
    *(
        f"temporal_{name}_{part}"
        for part in ("bucket", "count", "sum")
        for name in (
            "activity_execution_latency",
            "activity_schedule_to_start_latency",
            "workflow_task_schedule_to_start_latency",
            "workflow_task_execution_latency",
            "workflow_endtoend_latency",
            "request_latency",
        )
    ),
    "temporal_activity_execution_failed_total",
    "temporal_workflow_completed_total",
    "temporal_worker_task_slots_available",
    "temporal_worker_task_slots_used",
    "temporal_sticky_cache_size",
    "temporal_num_pollers",
    "temporal_request_total",
}
PROMQL_NAME = re.compile(r"\b((?:matchmaker|temporal)_[a-z_]+)\b")


def _deploy(path: str) -> dict:
    return yaml.safe_load((ROOT / "deploy" / path).read_text())


def _mounts(service: dict) -> dict[str, str]:
    """Each file or folder of the repository a service mounts, and where it lands."""
    out = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            out[source] = target
    return out


def test_every_file_the_compose_file_mounts_is_in_the_repository(compose):
    mounted = {
        s: t for service in compose["services"].values() for s, t in _mounts(service).items()
    }
    assert mounted, "no configuration is mounted"
    for source in mounted:
        assert (ROOT / source).exists(), source
    prometheus = _mounts(compose["services"]["prometheus"])
    assert prometheus["./deploy/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    assert _deploy("prometheus.yml")["rule_files"] == [prometheus["./deploy/alerts.yml"]]
    collector = compose["services"]["otel-collector"]
    config = collector["command"][0].split("=", 1)[1]
    assert _mounts(collector)["./deploy/otel-collector.yml"] == config
    grafana = _mounts(compose["services"]["grafana"])
    provider = _deploy("grafana/provisioning/dashboards/matchmaker.yml")["providers"][0]
    assert grafana["./deploy/grafana/dashboards"] == provider["options"]["path"]
    assert grafana["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"


def test_prometheus_scrapes_the_ports_the_settings_give(compose):
    services = compose["services"]
    shared = _env(services["worker"])
    ports = {
        ("api", int(_env(services["api"])["MATCHMAKER_API_METRICS_PORT"])),
        ("worker", int(shared["MATCHMAKER_WORKER_METRICS_PORT"])),
        ("api", int(shared["MATCHMAKER_TEMPORAL_METRICS_PORT"])),
        ("worker", int(shared["MATCHMAKER_TEMPORAL_METRICS_PORT"])),
    }
    assert shared["MATCHMAKER_METRICS_HOST"] == "0.0.0.0"  # reachable inside the network
    scraped = set()
    for job in _deploy("prometheus.yml")["scrape_configs"]:
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, port = target.rsplit(":", 1)
                scraped.add((host, int(port)))
        for dns in job.get("dns_sd_configs", []):
            scraped |= {(name, int(dns["port"])) for name in dns["names"]}
    assert scraped == ports
    for host, _port in scraped:
        assert host in services
    for name in ("api", "worker"):  # metrics ports are never published
        published = {p.split(":")[-1] for p in services[name].get("ports", [])}
        assert not published & {str(port) for _host, port in ports}, name


def test_traces_go_from_the_settings_to_the_collector_to_jaeger(compose):
    services = compose["services"]
    endpoint = _env(services["api"])["MATCHMAKER_OTLP_ENDPOINT"]
    url = re.search(r"(http://[^}]+)\}", endpoint).group(1)  # the default of ${...:-default}
    host, port = url.removeprefix("http://").split(":")
    assert host == "otel-collector" and host in services
    collector = _deploy("otel-collector.yml")
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(f":{port}")
    exporter = collector["exporters"]["otlp/jaeger"]["endpoint"]
    assert exporter.split(":")[0] in services
    assert services["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"
    assert Settings(otlp_endpoint=url).otlp_endpoint == url
    assert Settings().otlp_endpoint is None  # off unless configured
    grafana = _deploy("grafana/provisioning/datasources/prometheus.yml")["datasources"]
    for source in grafana:
        assert source["url"].split("//")[1].split(":")[0] in services


async def _exposed_names(tmp_path) -> set[str]:
    """Every sample name this application's /metrics can serve, read from a real scrape (a
    labelled family not yet used shows its type: its samples are named from it)."""

    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    from infra.metrics import serve_metrics
    from services.metrics import store_figures
    from store.engine import make_engine, make_sessionmaker

    url = migrated_sqlite(tmp_path / "matchmaker.db")
    engine = make_engine(url)
    server = serve_metrics(
        host="127.0.0.1", port=0, read=lambda: store_figures(make_sessionmaker(engine))
    )
    try:
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"http://127.0.0.1:{server.port}/metrics")).text
    finally:
        server.close()
        await engine.dispose()
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name + suffix for suffix in suffixes.get(family.type, [""])}
        names |= {sample.name for sample in family.samples}
    return names


async def test_the_dashboard_and_the_alerts_name_only_metrics_that_exist(tmp_path):
    import json

    exposed = await _exposed_names(tmp_path) | SDK_METRICS
    assert {"matchmaker_matches", "matchmaker_outbox_oldest_pending_age_seconds"} <= exposed
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/matchmaker.json").read_text())
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    alerts = [r["expr"] for g in _deploy("alerts.yml")["groups"] for r in g["rules"]]
    named = {name for expr in queries + alerts for name in PROMQL_NAME.findall(expr)}
    assert named - exposed == set()
    # every application figure has a panel
    shown = {name for expr in queries for name in PROMQL_NAME.findall(expr)}
    for figure in (
        "matchmaker_matches",
        "matchmaker_outbox_emails",
        "matchmaker_outbox_oldest_pending_age_seconds",
        "matchmaker_email_attempts_total",
        "matchmaker_answers_total",
        "matchmaker_actions_total",
        "matchmaker_http_request_duration_seconds_bucket",
    ):
        assert figure in shown, figure
    assert all(p["datasource"]["uid"] == "prometheus" for p in dashboard["panels"])
