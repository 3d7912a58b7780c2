"""Schemathesis over the whole OpenAPI of a running API: no 5xx, no answer off its schema.

The API and a worker run as processes (`matchmaker api`, `matchmaker worker`) on the test
Temporal server, a migrated SQLite database and a loopback SMTP server, as in production;
every request carries an admin's key, made in the database before the API starts.
Hypothesis generates valid and invalid requests for every operation; each answer must be
documented (status code, content type, body schema) and none may be a server error.
"""

import itertools
import json
import os
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from domain.model import match_id_for
from infra.settings import Settings
from infra.temporal import binary_path
from store.engine import upgrade_database
from tests.support import api_key_in, example_eoi, smtp_server
from workers.http import create_app
from workers.ports import free_port

# Matches that exist: every other generated request on a match goes to one of them, so the
# workflow's validators and rules see the generated bodies too (not only "no such match").
LIVE = [f"FUZZ-{n}" for n in range(4)]
_requests = itertools.count()
_statuses: Counter[tuple[str, int]] = Counter()  # (live match or not, status) → requests
EXAMPLES = int(os.environ.get("MATCHMAKER_FUZZ_EXAMPLES", "100"))  # generated per operation
ADMIN: dict[str, str] = {}  # the headers of every request: an admin's key


def _start(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(binary_path("matchmaker")), command],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_listening(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            httpx.get(f"{url}/openapi.json", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"the API did not listen within 60 s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def api_url(temporal_env, tmp_path_factory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("fuzz")
    database = f"sqlite+aiosqlite:///{directory / 'matchmaker.db'}"
    upgrade_database(database)
    ADMIN["Authorization"] = f"Bearer {api_key_in(database)}"
    with smtp_server() as (_mail, smtp_port):
        port = free_port()
        env = {
            "MATCHMAKER_DATABASE_URL": database,
            "MATCHMAKER_TEMPORAL_TARGET": temporal_env.client.service_client.config.target_host,
            "MATCHMAKER_TASK_QUEUE": f"fuzz-{uuid.uuid4().hex[:8]}",
            "MATCHMAKER_API_PORT": str(port),
            "MATCHMAKER_SMTP_PORT": str(smtp_port),
            "MATCHMAKER_DATA_DIR": str(directory),
            "MATCHMAKER_LOG_LEVEL": "WARNING",
        }
        processes = [
            _start("worker", env, directory / "worker.log"),
            _start("api", env, directory / "api.log"),
        ]
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_listening(url, processes[1], directory / "api.log")
            for eoi_id in LIVE:
                started = httpx.post(
                    f"{url}/api/eois",
                    json=json.loads(example_eoi(id=eoi_id).model_dump_json()),
                    headers=ADMIN,
                    timeout=30,
                )
                assert started.status_code in (200, 201), started.text
            yield url
            print(
                f"\nschemathesis: {sum(_statuses.values())} requests, by status: "  # noqa: T201
                + ", ".join(f"{k[0]} {k[1]}: {v}" for k, v in sorted(_statuses.items()))
            )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


# The schema the running API serves, built from the same code (no server needed to collect).
schema = schemathesis.openapi.from_dict(create_app(Settings(), backend=None).openapi())  # type: ignore[arg-type]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_server_error_and_no_answer_off_its_schema(case, api_url):
    n = next(_requests)
    if "match_id" in (case.path_parameters or {}) and n % 2:
        case.path_parameters["match_id"] = match_id_for(LIVE[n // 2 % len(LIVE)])
    response = case.call_and_validate(
        base_url=api_url,
        headers=ADMIN,
        timeout=30,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
    live = "match_id" in (case.path_parameters or {}) and bool(n % 2)
    _statuses[("live match" if live else "other", response.status_code)] += 1
