"""`matchmaker api` as it runs in production: a process that starts without Temporal, writes
one access-log line per request, and stops within its bound even while a request waits."""

import asyncio
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from infra.temporal import binary_path
from tests.support import api_key_in, migrated_sqlite, unique_eoi
from workers.ports import free_port

GRACE_SECONDS = 1
MARGIN_SECONDS = 10  # starting the shutdown, closing the database and the interpreter


class ApiProcess:
    """``matchmaker api`` on a free port, its JSON log in a file."""

    def __init__(
        self, directory: Path, temporal_target: str, extra_env: dict[str, str] | None = None
    ) -> None:
        url = migrated_sqlite(directory / "matchmaker.db")
        self.headers = {"Authorization": f"Bearer {api_key_in(url)}"}  # an admin's
        self.log_file = directory / "api.log"
        self.port = free_port()
        env = {
            **os.environ,
            "MATCHMAKER_DATABASE_URL": url,
            "MATCHMAKER_TEMPORAL_TARGET": temporal_target,
            "MATCHMAKER_TASK_QUEUE": f"no-worker-{uuid.uuid4().hex[:8]}",
            "MATCHMAKER_API_PORT": str(self.port),
            "MATCHMAKER_API_GRACEFUL_SHUTDOWN_SECONDS": str(GRACE_SECONDS),
            "MATCHMAKER_LOG_JSON": "true",
            **(extra_env or {}),
        }
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                [str(binary_path("matchmaker")), "api"],
                cwd=directory,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_until_listening(self) -> None:
        # a wait, not a bound: on 2 busy cores the process may take long to import
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_text()
            try:
                httpx.get(f"{self.url}/openapi.json", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"the API did not listen within 120 s:\n{self.log_text()}")

    def stop(self) -> float:
        """Send SIGTERM; return the seconds until the process was gone."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=GRACE_SECONDS + MARGIN_SECONDS + 20)
        return time.monotonic() - started

    def log_text(self) -> str:
        return self.log_file.read_text(errors="replace")

    def log_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log_text().splitlines() if line.startswith("{")]


@pytest.fixture
def start_api(tmp_path: Path) -> Iterator[Callable[..., Awaitable[ApiProcess]]]:
    """Start ``matchmaker api`` against a Temporal target; kill what is left at the end."""
    started: list[ApiProcess] = []

    async def start(temporal_target: str, **extra_env: str) -> ApiProcess:
        process = await asyncio.to_thread(ApiProcess, tmp_path, temporal_target, extra_env)
        started.append(process)
        await asyncio.to_thread(process.wait_until_listening)
        return process

    yield start
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait()


async def test_the_api_starts_and_answers_while_temporal_is_down(start_api):
    api_process = await start_api(f"127.0.0.1:{free_port()}")
    async with httpx.AsyncClient(
        base_url=api_process.url, timeout=10, headers=api_process.headers
    ) as http:
        health = await http.get("/healthz", headers={"X-Request-ID": "health-1"})
        listed = await http.get("/api/matches", headers={"X-Request-ID": "list-1"})
        submitted = await http.post(
            "/api/eois",
            json=unique_eoi().model_dump(mode="json"),
            headers={"X-Request-ID": "submit-1"},
        )
    assert health.status_code == 503 and health.headers["Retry-After"] == "5"
    assert health.json()["temporal"].startswith("unreachable")
    assert health.json()["database"] == "ok"
    assert listed.status_code == 200
    assert submitted.status_code == 503 and submitted.headers["Retry-After"] == "5"
    assert "workflow service" in submitted.json()["detail"]
    assert await asyncio.to_thread(api_process.stop) < GRACE_SECONDS + MARGIN_SECONDS

    lines = api_process.log_lines()
    assert not [line for line in lines if line.get("logger") == "uvicorn.access"]
    ours = {"health-1", "list-1", "submit-1"}  # not the probes of wait_until_listening
    access = [line for line in lines if line["event"] == "request"]
    assert [
        (line["request_id"], line["route"], line["status"])
        for line in access
        if line["request_id"] in ours
    ] == [
        ("health-1", "/healthz", 503),
        ("list-1", "/api/matches", 200),
        ("submit-1", "/api/eois", 503),
    ]
    # the service's line about the outage carries the request id too
    assert any(
        line["event"] == "dependency refused the call" and line.get("request_id") == "submit-1"
        for line in lines
    )


async def test_sigterm_stops_the_api_within_its_bound_while_a_request_waits(
    start_api, temporal_env
):
    # the API's task queue has no worker: the match starts, an answer to it waits for ever
    api_process = await start_api(temporal_env.client.service_client.config.target_host)
    async with httpx.AsyncClient(
        base_url=api_process.url, timeout=60, headers=api_process.headers
    ) as http:
        created = await http.post("/api/eois", json=unique_eoi().model_dump(mode="json"))
        assert created.status_code == 201, created.text
        answer = {
            "prompt_id": "introduction_adopter-1",
            "party": "adopter",
            "answer": {"kind": "introduction_adopter", "decision": "confirm", "needs": "x"},
        }
        waiting = asyncio.create_task(
            http.post(f"/api/matches/{created.json()['match_id']}/answers", json=answer)
        )
        await asyncio.sleep(1.5)
        assert not waiting.done()
        took = await asyncio.to_thread(api_process.stop)
        outcome = await asyncio.gather(waiting, return_exceptions=True)
    assert took < GRACE_SECONDS + MARGIN_SECONDS, api_process.log_text()
    # uvicorn ends by raising the signal it caught again, as a process killed by it
    assert api_process.process.returncode in (0, -signal.SIGTERM), api_process.log_text()
    # the request was under way when the signal came, and was cut when the bound passed
    assert "timeout graceful shutdown exceeded" in api_process.log_text()
    [cut] = outcome
    assert not isinstance(cut, httpx.ConnectError)
    if isinstance(cut, httpx.Response):  # answered as cut before the connection closed
        assert cut.status_code == 503 and cut.headers["Retry-After"] == "5"


async def test_the_api_serves_its_metrics_on_a_port_of_its_own(start_api):
    metrics_port = free_port()
    api = await start_api(f"127.0.0.1:{free_port()}", MATCHMAKER_API_METRICS_PORT=str(metrics_port))
    async with httpx.AsyncClient(base_url=api.url, headers=api.headers, timeout=10) as http:
        assert (await http.get("/api/matches")).status_code == 200
        public = await http.get("/metrics")
    async with httpx.AsyncClient(timeout=10) as http:
        scraped = await http.get(f"http://127.0.0.1:{metrics_port}/metrics")
    api.stop()
    assert public.status_code == 404  # never on the public port, whatever the key
    assert scraped.status_code == 200
    text = scraped.text
    assert "matchmaker_store_up 1.0" in text
    assert 'matchmaker_outbox_emails{status="pending"} 0.0' in text
    assert (
        'matchmaker_http_request_duration_seconds_count{method="GET",route="/api/matches",'
        'status="200"} 1.0'
    ) in text
