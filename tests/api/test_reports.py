"""The reports over HTTP on both databases: JSON, CSV (by parameter or Accept header), 422 for
an unknown parameter, a key for every route and every role allowed to read."""

import csv
import io
from collections.abc import AsyncIterator

import httpx
import pytest

from domain.access import Role
from infra.settings import Settings
from tests.store.test_reports import COMPLETED, START, VISITED, _match
from tests.support import bearer, http
from workers.api import open_backend
from workers.http import create_app
from workers.ports import free_port

ROUTES = ["/api/reports/funnel", "/api/reports/stalled", "/api/reports/network"]


@pytest.fixture
async def app(database_url: str):
    settings = Settings(database_url=database_url, temporal_target=f"127.0.0.1:{free_port()}")
    async with open_backend(settings) as backend:
        application = create_app(settings, backend=backend)
        sessions = backend.sessions
        await _match(sessions, "ws-r", COMPLETED)
        await _match(sessions, "ws-r", VISITED)
        await _match(sessions, "ws-q", [*START, ("closed", "follow_up", 3, {"reason": "lapsed"})])
        yield application


@pytest.fixture
async def viewer(app) -> AsyncIterator[httpx.AsyncClient]:
    headers = await bearer(app.state.backend.sessions, Role.VIEWER)
    async with http(app, headers=headers) as client:
        yield client


async def test_the_funnel_as_json_and_csv(viewer):
    response = await viewer.get("/api/reports/funnel", params={"by": "workshop"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["key"] for r in body["rows"]] == ["ws-q", "ws-r"]
    r = body["rows"][1]
    assert [s["reached"] for s in r["steps"]] == [2, 2, 1, 1, 1]
    assert body["total"]["matches"] == 3 and body["total"]["close_reasons"] == {
        "completed": 1,
        "lapsed": 1,
    }
    as_csv = await viewer.get(
        "/api/reports/funnel", params={"workshop_id": "ws-r", "format": "csv"}
    )
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert 'filename="funnel-by-workshop.csv"' in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [row["workshop"] for row in rows] == ["ws-r", "all"]
    assert rows[0]["field_visit_reached"] == "2" and rows[0]["adaptation_conversion"] == "0.5"
    by_header = await viewer.get(
        "/api/reports/funnel", params={"by": "year"}, headers={"Accept": "text/csv"}
    )
    assert by_header.text.splitlines()[0].startswith("year,matches,open,")
    assert by_header.text.splitlines()[1].startswith("2025,3,1,")


async def test_stalled_and_network(viewer):
    stalled = await viewer.get("/api/reports/stalled", params={"days": 30})
    assert stalled.status_code == 200, stalled.text
    assert stalled.json()["total"] == 1 and stalled.json()["items"][0]["days_still"] > 30
    network = await viewer.get("/api/reports/network")
    assert network.status_code == 200, network.text
    assert network.json()["sentence"].startswith(
        "3 partnership opportunities across 2 countries from 2 workshops"
    )
    as_csv = await viewer.get("/api/reports/network", params={"format": "csv"})
    assert "opportunities,3" in as_csv.text.splitlines()
    assert 'filename="network.csv"' in as_csv.headers["content-disposition"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/reports/funnel", {"workshop": "ws-r"}),  # the filter is workshop_id
        ("/api/reports/funnel", {"by": "country"}),
        ("/api/reports/stalled", {"days": 0}),
        ("/api/reports/network", {"format": "xml"}),
    ],
)
async def test_an_unknown_or_invalid_parameter_is_422(viewer, path, params):
    response = await viewer.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"].startswith("query.")


@pytest.mark.parametrize("route", ROUTES)
async def test_every_report_needs_a_key_and_every_role_may_read_it(app, route):
    async with http(app) as anonymous:
        assert (await anonymous.get(route)).status_code == 401
    for role in Role:
        headers = await bearer(app.state.backend.sessions, role)
        async with http(app, headers=headers) as client:
            assert (await client.get(route)).status_code == 200, role


async def test_a_funnel_kept_from_before_is_not_answered_after_a_change(app, viewer):
    async def matches() -> int:
        response = await viewer.get("/api/reports/funnel", params={"workshop_id": "ws-r"})
        return response.json()["total"]["matches"]

    assert await matches() == 2
    assert await matches() == 2  # kept
    await _match(app.state.backend.sessions, "ws-r", START)
    assert await matches() == 3
