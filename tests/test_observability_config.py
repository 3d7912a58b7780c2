"""The deployment's observability, checked without a Docker engine: Prometheus scrapes the ports
the settings give, traces go to the collector and on to Jaeger, the dashboard and the alerts
name only metrics that exist."""

import re

import pytest
import yaml

from infra.settings import Settings
from tests.support import ROOT, migrated_sqlite, repository_mounts, service_env


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


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


def test_every_file_the_compose_file_mounts_is_in_the_repository(compose):
    mounted = {
        s: t
        for service in compose["services"].values()
        for s, t in repository_mounts(service).items()
    }
    assert mounted, "no configuration is mounted"
    for source in mounted:
        assert (ROOT / source).exists(), source
    prometheus = repository_mounts(compose["services"]["prometheus"])
    assert prometheus["./deploy/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    assert _deploy("prometheus.yml")["rule_files"] == [prometheus["./deploy/alerts.yml"]]
    collector = compose["services"]["otel-collector"]
    config = collector["command"][0].split("=", 1)[1]
    assert repository_mounts(collector)["./deploy/otel-collector.yml"] == config
    grafana = repository_mounts(compose["services"]["grafana"])
    provider = _deploy("grafana/provisioning/dashboards/matchmaker.yml")["providers"][0]
    assert grafana["./deploy/grafana/dashboards"] == provider["options"]["path"]
    assert grafana["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"


def test_prometheus_scrapes_the_ports_the_settings_give(compose):
    services = compose["services"]
    shared = service_env(services["worker"])
    ports = {
        ("api", int(service_env(services["api"])["MATCHMAKER_API_METRICS_PORT"])),
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
    endpoint = service_env(services["api"])["MATCHMAKER_OTLP_ENDPOINT"]
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
