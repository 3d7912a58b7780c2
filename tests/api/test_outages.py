"""A dependency that is down is 503 with Retry-After, a busy match 429: never a 500."""

from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from temporalio.service import RPCError, RPCStatusCode

from infra.keys import mint_key
from infra.settings import Settings
from services.backend import Backend
from services.outages import UPDATE_LIMIT_MESSAGE
from tests.support import as_admin, http, unique_eoi
from workers.api import open_backend
from workers.http import create_app
from workers.ports import free_port

ANSWER = {
    "prompt_id": "introduction_adopter-1",
    "party": "adopter",
    "answer": {"kind": "introduction_adopter", "decision": "confirm", "needs": "rural access"},
}


def _assert_unavailable(response: httpx.Response, dependency: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert dependency in response.json()["detail"]


@pytest.fixture(params=["postgresql", "sqlite"])
def dead_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that cannot be opened: nobody listens on the port (the driver raises
    OSError), or the SQLite file is a directory (SQLAlchemy's OperationalError)."""
    if request.param == "postgresql":
        return f"postgresql+asyncpg://matchmaker@127.0.0.1:{free_port()}/matchmaker"
    return f"sqlite+aiosqlite:///{tmp_path}"


async def test_a_database_outage_is_503_naming_the_database(temporal_env, dead_database_url):
    settings = Settings(database_url=dead_database_url)
    async with open_backend(settings) as backend:
        app = create_app(settings, backend=replace(backend, client=temporal_env.client))
        # a key must be looked up in the database: that is where the outage shows
        key = {"Authorization": f"Bearer {mint_key().token}"}
        async with http(app, headers=key) as client:
            _assert_unavailable(await client.get("/api/matches"), "database")
            _assert_unavailable(await client.get("/api/matches/match-anything"), "database")
            health = await client.get("/healthz")
    assert health.status_code == 503 and health.headers["Retry-After"] == "5"
    assert health.json()["database"].startswith("unreachable")


async def test_the_api_answers_while_temporal_is_down(offline_api):
    # open_backend connects lazily: the app is built and answers without Temporal
    health = await offline_api.get("/healthz")
    listed = await offline_api.get("/api/matches")
    submitted = await offline_api.post("/api/eois", json=unique_eoi().model_dump(mode="json"))
    state = await offline_api.get("/api/matches/match-anything/state")
    answered = await offline_api.post("/api/matches/match-anything/answers", json=ANSWER)
    paused = await offline_api.post(
        "/api/matches/match-anything/actions/pause", json={"reason": "elections"}
    )
    assert health.status_code == 503 and health.headers["Retry-After"] == "5"
    assert health.json()["database"] == "ok"
    assert health.json()["temporal"].startswith("unreachable")
    assert listed.status_code == 200  # what needs only the database still answers
    for response in (submitted, state, answered, paused):
        _assert_unavailable(response, "workflow service")


class _Handle:
    """A workflow handle whose workflow already has Temporal's maximum of updates in flight."""

    async def execute_update(self, *_args: object, **_kwargs: object) -> None:
        message = f"{UPDATE_LIMIT_MESSAGE} has been reached (10)"
        raise RPCError(message, RPCStatusCode.RESOURCE_EXHAUSTED, b"")


class _Client:
    def get_workflow_handle(self, _workflow_id: str) -> _Handle:
        return _Handle()


async def test_a_match_beyond_the_update_limit_is_429_with_retry_after():
    backend = Backend(client=_Client(), sessions=None, task_queue="unused")  # type: ignore[arg-type]
    async with http(as_admin(create_app(Settings(), backend=backend))) as client:
        response = await client.post("/api/matches/match-busy/answers", json=ANSWER)
    assert response.status_code == 429, response.text
    assert response.headers["Retry-After"] == "1"
    assert "busy" in response.json()["detail"]
