"""What can be checked of the production deployment without a Docker engine: the compose file's
shape (only the TLS proxy published, operators' tools behind a password, Temporal from its
server image on a schema job, one image, health checks and restart policies everywhere), the
proxy's routes, the alerting configuration, and the backup and restore scripts run for real
against the test PostgreSQL."""

import asyncio
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from typer.main import get_command

from infra.settings import Settings
from infra.temporal import binary_path
from tests.support import (
    ROOT,
    PostgresServer,
    migrated_postgres,
    repository_mounts,
    service_env,
    settings_for_tests,
    unique_eoi,
)
from workers.alerting import alertmanager_config
from workers.cli import app

SERVICES = {
    *("proxy", "postgres", "temporal-schema", "temporal", "temporal-ui", "mailpit", "setup"),
    *("api", "worker", "codec-server", "backup", "prometheus", "alertmanager-config"),
    *("alertmanager", "grafana", "otel-collector", "jaeger"),
}
PROJECT = ("setup", "api", "worker", "codec-server", "alertmanager-config")
ONE_SHOT = {"temporal-schema", "setup", "alertmanager-config"}  # jobs: run, finish
# read by `matchmaker setup` alone, never kept in Settings (a password is among them)
SETUP_VARIABLES = {
    "MATCHMAKER_FIRST_ADMIN_EMAIL",
    "MATCHMAKER_FIRST_ADMIN_NAME",
    "MATCHMAKER_FIRST_ADMIN_PASSWORD",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _default(value: str) -> str:
    """``${NAME:-default}`` → default; ``${NAME:?message}`` → ``<NAME>``; text kept."""
    value = re.sub(r"\$\{(\w+):\?[^}]*\}", r"<\1>", value)
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def test_every_service_is_described(compose):
    assert set(compose["services"]) == SERVICES


def test_matchmaker_variables_are_real_settings(compose):
    fields = {name.upper() for name in Settings.model_fields}
    seen = set()
    for name, service in compose["services"].items():
        for key in service_env(service):
            if key.startswith("MATCHMAKER_") and key not in SETUP_VARIABLES:
                assert key.removeprefix("MATCHMAKER_") in fields, f"{name}: {key} is not a setting"
                seen.add(key)
    assert {
        "MATCHMAKER_DATABASE_URL",
        "MATCHMAKER_SIGNING_SECRET",
        "MATCHMAKER_TEMPORAL_TARGET",
    } <= seen
    assert set(service_env(compose["services"]["setup"])) >= SETUP_VARIABLES


def test_secrets_are_required_from_the_environment(compose):
    text = (ROOT / "docker-compose.yml").read_text()
    for name in (
        "POSTGRES_PASSWORD",
        "MATCHMAKER_SIGNING_SECRET",
        "MATCHMAKER_PAYLOAD_KEYS",
        "MATCHMAKER_DOMAIN",  # every emailed link, and the certificates
        "MATCHMAKER_OPS_PASSWORD_HASH",
        "GRAFANA_ADMIN_PASSWORD",
        "MATCHMAKER_FIRST_ADMIN_EMAIL",
    ):
        assert re.search(rf"\$\{{{name}:\?", text), name
    env = service_env(compose["services"]["api"])
    assert env["MATCHMAKER_ENV"] == "production"
    assert env["MATCHMAKER_DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_production_accepts_the_public_address_compose_gives_and_nothing_weaker(compose):
    env = service_env(compose["services"]["api"])
    public = _default(env["MATCHMAKER_PUBLIC_BASE_URL"]).replace("<MATCHMAKER_DOMAIN>", "mm.org")
    assert public == "https://mm.org"
    production = {
        "env": "production",
        "signing_secret": "x" * 48,
        "payload_keys": "k:" + "A" * 43 + "=",
    }
    settings = Settings(public_base_url=public, **production)
    assert settings.console_cookie_secure
    for weaker in ("http://mm.org", "https://localhost", "http://127.0.0.1:8000"):
        with pytest.raises(ValueError, match="MATCHMAKER_PUBLIC_BASE_URL must"):
            Settings(public_base_url=weaker, **production)


def test_only_the_tls_proxy_is_published(compose):
    published = {name: s["ports"] for name, s in compose["services"].items() if s.get("ports")}
    assert published == {"proxy": ["80:80", "443:443", "443:443/udp"]}
    proxy = compose["services"]["proxy"]
    assert proxy["image"].startswith("caddy:2")
    assert repository_mounts(proxy)["./deploy/Caddyfile"] == "/etc/caddy/Caddyfile"


def _sites() -> dict[str, str]:
    """The Caddyfile's sites (address → body), with ``import``ed snippets left as imports."""
    text = (ROOT / "deploy/Caddyfile").read_text()
    text = re.sub(r"^\s*#.*$", "", text, flags=re.M)
    sites, depth, address, body = {}, 0, None, []
    for line in text.splitlines():
        stripped = line.strip()
        if depth == 0 and stripped.endswith("{"):
            address, body = stripped[:-1].strip(), []
        elif depth == 1 and stripped == "}":
            sites[address] = "\n".join(body)
        else:
            body.append(stripped)
        depth += stripped.count("{") - stripped.count("}")
    return sites


def test_the_proxy_routes_each_site_and_guards_the_operators_tools(compose):
    sites = _sites()
    routes = {}
    for address, body in sites.items():
        upstream = re.search(r"reverse_proxy (\S+)", body)
        if upstream:
            routes[address] = (upstream.group(1), "import operators" in body)
    domain = "{$DOMAIN}"
    assert routes == {
        domain: ("api:8000", False),
        f"codec.{domain}": ("codec-server:8081", False),  # API keys of its own
        f"temporal.{domain}": ("temporal-ui:8080", True),
        f"mail.{domain}": ("mailpit:8025", True),
        f"jaeger.{domain}": ("jaeger:16686", True),
        f"grafana.{domain}": ("grafana:3000", False),  # Grafana's own sign-in
    }
    assert "basic_auth" in sites["(operators)"]
    services = compose["services"]
    for upstream, _guarded in routes.values():
        host, port = upstream.split(":")
        assert host in services
        assert "edge" in services[host]["networks"], f"{host} is not on the proxy's network"
    # the API trusts the proxy's forwarded address, and only the proxy's
    address = services["proxy"]["networks"]["edge"]["ipv4_address"]
    assert service_env(services["api"])["MATCHMAKER_TRUSTED_PROXIES"] == address
    assert Settings(trusted_proxies=address).trusted_proxies == [address]
    # the UI calls the codec server through the proxy, and the codec server allows that origin
    ui, codec = service_env(services["temporal-ui"]), service_env(services["codec-server"])
    assert _default(ui["TEMPORAL_CODEC_ENDPOINT"]) == "https://codec.<MATCHMAKER_DOMAIN>"
    assert (
        _default(codec["MATCHMAKER_CODEC_CORS_ORIGINS"]) == "https://temporal.<MATCHMAKER_DOMAIN>"
    )
    assert _default(codec["MATCHMAKER_TEMPORAL_UI_URL"]) == "https://temporal.<MATCHMAKER_DOMAIN>"
    assert "MATCHMAKER_PAYLOAD_KEYS" in codec


def test_temporal_runs_from_its_server_image_on_a_schema_job(compose):
    services = compose["services"]
    versions = subprocess.run(
        [str(binary_path("temporal")), "--version"], capture_output=True, text=True, check=True
    ).stdout
    server = re.search(r"Server (\d+\.\d+\.\d+)", versions).group(1)
    ui = re.search(r"UI (\d+\.\d+\.\d+)", versions).group(1)
    # the versions of the dev server this project develops and tests against
    assert services["temporal"]["image"] == f"temporalio/server:{server}"
    assert services["temporal-schema"]["image"] == f"temporalio/admin-tools:{server}"
    assert services["temporal-ui"]["image"] == f"temporalio/ui:{ui}"
    assert "auto-setup" not in (ROOT / "docker-compose.yml").read_text()
    assert services["temporal"]["depends_on"] == {
        "temporal-schema": {"condition": "service_completed_successfully"}
    }
    health = services["temporal"]["healthcheck"]["test"]
    assert health[1:5] == ["temporal", "operator", "cluster", "health"]
    assert "tctl" not in (ROOT / "docker-compose.yml").read_text()
    schema = (ROOT / "deploy/temporal-schema.sh").read_text()
    for database in ("temporal", "temporal_visibility"):
        assert f"{database}:" in schema
    assert "update-schema" in schema and "setup-schema -v 0.0" in schema
    assert subprocess.run(["sh", "-n", str(ROOT / "deploy/temporal-schema.sh")]).returncode == 0


def test_one_image_built_once_runs_every_project_service(compose):
    services = compose["services"]
    commands = {c.name for c in get_command(app).commands.values()}  # type: ignore[attr-defined]
    built = [name for name, service in services.items() if "build" in service]
    assert built == ["setup"]
    image = services["setup"]["image"]
    for name in PROJECT:
        service = services[name]
        assert service["image"] == image, name
        assert service["command"][0] == "matchmaker" and service["command"][1] in commands
        if name != "setup":
            assert service["pull_policy"] == "never", name  # the image the setup job built
    assert services["setup"]["command"] == ["matchmaker", "setup"]
    assert (ROOT / "Dockerfile").is_file()


def test_every_service_has_a_health_check_and_a_restart_policy(compose):
    # the collector's image holds the collector alone: nothing inside it can probe it
    unprobed = {"otel-collector"}
    for name, service in compose["services"].items():
        if name in ONE_SHOT:
            assert service["restart"] in ("no", "on-failure:5"), name
            continue
        assert service["restart"] == "unless-stopped", name
        assert ("healthcheck" in service) != (name in unprobed), name


def test_start_order_waits_on_health(compose):
    services = compose["services"]
    assert services["temporal-schema"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["setup"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "temporal": {"condition": "service_healthy"},  # it registers the search attributes
    }
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["setup"]["condition"] == "service_completed_successfully"
        assert depends["temporal"]["condition"] == "service_healthy"
    assert services["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"
    assert services["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_the_production_worker_runs_the_workflow_outside_the_sandbox(compose):
    # the tests and the replay checks run it in the sandbox (tests/workflows/test_replay.py)
    value = service_env(compose["services"]["worker"])["MATCHMAKER_WORKER_WORKFLOW_SANDBOX"]
    assert Settings(worker_workflow_sandbox=value).worker_workflow_sandbox is False
    assert "MATCHMAKER_WORKER_WORKFLOW_SANDBOX" not in service_env(compose["services"]["api"])


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


# --- alerts reach someone ---------------------------------------------------------------------


def test_alerts_are_emailed_through_alertmanager(compose):
    services = compose["services"]
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus.yml").read_text())
    targets = prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["alertmanager:9093"]
    job = services["alertmanager-config"]
    output = job["command"][job["command"].index("--output") + 1]
    volume, folder = next(v.split(":")[:2] for v in job["volumes"])
    mounted = dict(v.split(":")[:2] for v in services["alertmanager"]["volumes"])
    assert Path(output).parent == Path(folder)
    config_flag = next(a for a in services["alertmanager"]["command"] if "config.file" in a)
    assert Path(config_flag.split("=")[1]) == Path(mounted[volume]) / Path(output).name


def test_the_alertmanager_configuration_follows_the_mail_settings():
    settings = settings_for_tests(
        smtp_host="relay.ssn4psi.org",
        smtp_port=587,
        smtp_tls="starttls",
        smtp_username="alerts",
        smtp_password='pa"ss: {word}',
        alert_email="ops@ssn4psi.org",
    )
    config = alertmanager_config(settings)
    assert config["global"]["smtp_smarthost"] == "relay.ssn4psi.org:587"
    assert config["global"]["smtp_require_tls"] is True
    assert config["global"]["smtp_auth_password"] == 'pa"ss: {word}'
    receiver = config["route"]["receiver"]
    (entry,) = [r for r in config["receivers"] if r["name"] == receiver]
    assert entry["email_configs"][0]["to"] == "ops@ssn4psi.org"
    # the file is YAML (JSON is YAML): what Alertmanager reads back is what was meant
    from workers.alerting import render

    assert yaml.safe_load(render(settings)) == json.loads(render(settings)) == config
    assert alertmanager_config(settings_for_tests())["receivers"][0]["email_configs"][0][
        "to"
    ] == str(settings_for_tests().secretariat_email)


# --- backups, made and restored for real -------------------------------------------------------


def _clientservice_env(server: PostgresServer, **extra: str) -> dict[str, str]:
    """The libpq variables of the test cluster, and its client programs on PATH."""
    pg_bin = str(Path(server.pg_ctl).parent)
    return (
        os.environ
        | {
            "PATH": f"{pg_bin}:{os.environ['PATH']}",
            "PGHOST": "127.0.0.1",
            "PGPORT": str(server.port),
            "PGUSER": "matchmaker",
        }
        | extra
    )


async def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(
        subprocess.run, argv, env=env, capture_output=True, text=True, timeout=120
    )


async def _match_count(url: str) -> int:
    from sqlalchemy import func, select

    from store.engine import make_engine
    from store.tables import MatchRow

    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(select(func.count()).select_from(MatchRow))).scalar()
    finally:
        await engine.dispose()


async def test_backups_are_made_kept_and_restored(postgres, tmp_path):
    from store.engine import make_engine, make_sessionmaker
    from tests.support import record_eoi

    url = await migrated_postgres(postgres)
    database = url.rsplit("/", 1)[1]
    engine = make_engine(url)
    try:
        for _ in range(3):
            await record_eoi(make_sessionmaker(engine), unique_eoi())
    finally:
        await engine.dispose()
    backups = tmp_path / "backups"
    env = _clientservice_env(
        postgres, BACKUP_DIR=str(backups), BACKUP_DATABASES=database, BACKUP_KEEP_DAYS="14"
    )
    # what a crashed run left, and a backup past its keeping
    (backups / "2026-01-01T000000Z.partial").mkdir(parents=True)
    old = backups / "2025-01-01T000000Z"
    old.mkdir()
    month_ago = time.time() - 30 * 86400
    os.utime(old, (month_ago, month_ago))

    made = await _run(["sh", str(ROOT / "deploy/backup.sh"), "--once"], env)
    assert made.returncode == 0, made.stderr
    kept = sorted(p.name for p in backups.iterdir())
    assert len(kept) == 2 and kept[1] == "last-success", kept
    (backup,) = [backups / name for name in kept if name != "last-success"]
    assert (backup / f"{database}.dump").stat().st_size > 0

    # a mistake after the backup, then the database lost altogether
    await _run(["psql", "-d", database, "-c", "DELETE FROM matches"], env)
    assert await _match_count(url) == 0
    restored = await _run(["sh", str(ROOT / "deploy/restore.sh"), str(backup)], env)
    assert restored.returncode == 0, restored.stderr
    assert await _match_count(url) == 3
    dropped = await _run(["psql", "-d", "postgres", "-c", f'DROP DATABASE "{database}"'], env)
    assert dropped.returncode == 0, dropped.stderr
    restored = await _run(["sh", str(ROOT / "deploy/restore.sh"), str(backup)], env)
    assert restored.returncode == 0, restored.stderr
    assert f"restored {database}" in restored.stdout
    assert await _match_count(url) == 3

    missing = await _run(["sh", str(ROOT / "deploy/restore.sh"), str(tmp_path / "none")], env)
    assert missing.returncode == 2 and "no backup folder" in missing.stderr
