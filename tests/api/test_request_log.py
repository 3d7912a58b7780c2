"""Every request has an id, bound to each of its log lines, and exactly one access-log line."""

import re
from collections.abc import Iterator

import pytest
import structlog
from starlette.types import ASGIApp, Receive, Scope, Send
from structlog.testing import LogCapture

from infra.settings import Settings
from services.backend import Backend
from tests.support import as_admin, http
from workers.http import create_app

FRESH_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def logs() -> Iterator[list[dict]]:
    """Every structlog event, with the context variables bound when it was logged."""
    capture = LogCapture()
    processors = structlog.get_config()["processors"]
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture])
    try:
        yield capture.entries
    finally:
        structlog.configure(processors=processors)


def _access(logs: list[dict]) -> list[dict]:
    return [entry for entry in logs if entry["event"] == "request"]


async def test_the_request_id_is_echoed_and_bound_to_every_line(offline_api, logs):
    response = await offline_api.get(
        "/api/matches/match-x/state", headers={"X-Request-ID": "req-42.a"}
    )
    assert response.status_code == 503  # Temporal is not there: the service logs why
    assert response.headers["X-Request-ID"] == "req-42.a"
    assert {entry["event"] for entry in logs} == {"dependency refused the call", "request"}
    assert all(entry["request_id"] == "req-42.a" for entry in logs)
    [line] = _access(logs)
    assert line["method"] == "GET" and line["status"] == 503
    assert line["route"] == "/api/matches/{match_id}/state"  # the template, not the path
    assert line["actor"].startswith("admin-")  # the key's user (conftest makes one per test)
    assert len(line["key_id"]) == 12
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


@pytest.mark.parametrize(
    "incoming", ["", "has space", "ana@example.org", "x" * 129, "<script>", "ü-id".encode()]
)
async def test_an_insane_request_id_is_replaced(offline_api, logs, incoming):
    response = await offline_api.get("/api/matches", headers={"X-Request-ID": incoming})
    request_id = response.headers["X-Request-ID"]
    assert FRESH_ID.fullmatch(request_id)
    assert [line["request_id"] for line in _access(logs)] == [request_id]


async def test_each_request_gets_its_own_id_and_one_line(offline_api, logs):
    first = await offline_api.get("/api/matches")
    second = await offline_api.get("/api/matches?limit=0")
    unrouted = await offline_api.get("/nowhere")
    assert unrouted.json() == {"detail": "Not Found", "errors": []}
    too_big = await offline_api.post(
        "/api/eois", content=b"{}", headers={"content-length": "9" * 9}
    )
    other_host = await offline_api.get("/api/matches", headers={"host": "evil.example"})
    responses = [first, second, unrouted, too_big, other_host]
    assert [(line["status"], line["route"]) for line in _access(logs)] == [
        (200, "/api/matches"),
        (422, "/api/matches"),
        (404, None),
        (413, None),
        (400, None),
    ]
    ids = [r.headers["X-Request-ID"] for r in responses]
    assert [line["request_id"] for line in _access(logs)] == ids and len(set(ids)) == 5


class SetsActor:
    """What authentication will do: name the actor in ``request.state``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})["actor"] = "secretariat:ana"
        await self.app(scope, receive, send)


async def test_the_actor_is_logged_once_something_names_it(offline_app, logs):
    offline_app.add_middleware(SetsActor)
    async with http(offline_app) as api:
        await api.get("/api/matches")
    [line] = _access(logs)
    assert line["actor"] == "secretariat:ana"


class _Broken:
    def get_workflow_handle(self, _workflow_id: str) -> None:
        raise ValueError("a bug")


async def test_an_unexpected_error_is_500_with_the_request_id(logs):
    backend = Backend(client=_Broken(), sessions=None, task_queue="unused")  # type: ignore[arg-type]
    app = as_admin(create_app(Settings(), backend=backend))
    async with http(app, raise_app_exceptions=False) as api:
        response = await api.get("/api/matches/match-x/state", headers={"X-Request-ID": "r-1"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "r-1" and "r-1" in response.json()["detail"]
    [line] = _access(logs)
    assert line["status"] == 500 and line["request_id"] == "r-1"
