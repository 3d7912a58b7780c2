"""The case-study routes over a migrated SQLite database: roles, revisions, the volume."""

import httpx
import pytest
from fastapi import FastAPI

from domain.access import Role
from tests.services.test_case_studies import DRAFT, drafted
from tests.support import api_key, http

SCRIPT = '# Hacked\n\n## Context\n<script>alert("x")</script> and [a link](javascript:alert(1))\n'


@pytest.fixture
async def roles(offline_app: FastAPI) -> dict[str, dict[str, str]]:
    sessions = offline_app.state.backend.sessions
    return {
        role.value: {"Authorization": f"Bearer {await api_key(sessions, role)}"}
        for role in (Role.VIEWER, Role.STAFF)
    }


@pytest.fixture
async def client(offline_app: FastAPI):  # type: ignore[no-untyped-def]
    async with http(offline_app) as client:
        yield client


async def test_reading_needs_a_key_and_changing_needs_staff(client, offline_app, roles):
    match_id = await drafted(offline_app.state.backend.sessions)
    assert (await client.get("/api/case-studies")).status_code == 401
    assert (await client.get("/api/case-studies/volume")).status_code == 401
    listed = await client.get("/api/case-studies", headers=roles["viewer"])
    assert listed.status_code == 200 and listed.json()["items"][0]["match_id"] == match_id
    one = await client.get(f"/api/case-studies/{match_id}", headers=roles["viewer"])
    assert one.status_code == 200 and one.json()["markdown"] == DRAFT
    assert one.headers["etag"] == '"1"'
    edit = {"markdown": "# New\n", "revision": 1}
    refused = await client.put(f"/api/case-studies/{match_id}", json=edit, headers=roles["viewer"])
    assert refused.status_code == 403 and "needs the staff role" in refused.json()["detail"]
    for step in ("review", "publish", "unpublish"):
        url = f"/api/case-studies/{match_id}/{step}"
        assert (await client.post(url, headers=roles["viewer"])).status_code == 403
        assert (await client.post(url)).status_code == 401
    unchanged = await client.get(f"/api/case-studies/{match_id}", headers=roles["viewer"])
    assert unchanged.json()["revision"] == 1


async def test_an_edit_names_the_keys_user_and_a_stale_one_is_409(client, offline_app, roles):
    match_id = await drafted(offline_app.state.backend.sessions)
    url = f"/api/case-studies/{match_id}"
    done = await client.put(
        url, json={"markdown": "# Mine\n", "revision": 1}, headers=roles["staff"]
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["edited_by"].startswith("staff-") and body["revision"] == 2
    assert done.headers["etag"] == '"2"'
    stale = await client.put(
        url, json={"markdown": "# Theirs\n", "revision": 1}, headers=roles["staff"]
    )
    assert stale.status_code == 409
    assert "changed since revision 1 (now revision 2" in stale.json()["detail"]
    assert (await client.get(url, headers=roles["viewer"])).json()["markdown"] == "# Mine\n"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"markdown": "# x"}, "revision"),
        ({"markdown": "", "revision": 1}, "markdown"),
        ({"markdown": "a\x00b", "revision": 1}, "markdown"),
        ({"markdown": "x", "revision": 0}, "revision"),
        ({"markdown": "x", "revision": 1, "by": "someone else"}, "by"),
    ],
)
async def test_a_bad_edit_is_422_naming_the_field(client, offline_app, roles, body, field):
    match_id = await drafted(offline_app.state.backend.sessions)
    answer = await client.put(f"/api/case-studies/{match_id}", json=body, headers=roles["staff"])
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == [field]


async def test_unknown_404_publishing_a_draft_409_and_if_match(client, offline_app, roles):
    staff = roles["staff"]
    assert (await client.get("/api/case-studies/match-none", headers=staff)).status_code == 404
    assert (
        await client.post("/api/case-studies/match-none/review", headers=staff)
    ).status_code == 404
    match_id = await drafted(offline_app.state.backend.sessions)
    url = f"/api/case-studies/{match_id}"
    draft = await client.post(f"{url}/publish", headers=staff)
    assert draft.status_code == 409
    assert (
        "only a reviewed case study can be published; this one is draft" in draft.json()["detail"]
    )
    stale = await client.post(f"{url}/review", headers={**staff, "If-Match": '"7"'})
    assert stale.status_code == 409
    bad = await client.post(f"{url}/review", headers={**staff, "If-Match": "soon"})
    assert bad.status_code == 422
    reviewed = await client.post(f"{url}/review", headers={**staff, "If-Match": '"1"'})
    assert reviewed.status_code == 200 and reviewed.json()["status"] == "reviewed"
    published = await client.post(f"{url}/publish", headers={**staff, "If-Match": 'W/"2"'})
    assert published.status_code == 200 and published.headers["etag"] == '"3"'
    assert (await client.get("/api/case-studies?status=published", headers=staff)).json()[
        "total"
    ] == 1
    assert (await client.get("/api/case-studies?colour=red", headers=staff)).status_code == 422


async def publish(client: httpx.AsyncClient, match_id: str, headers: dict[str, str]) -> None:
    for step in ("review", "publish"):
        answer = await client.post(f"/api/case-studies/{match_id}/{step}", headers=headers)
        assert answer.status_code == 200, answer.text


async def test_the_volume_has_the_published_only_and_escapes_script(client, offline_app, roles):
    sessions = offline_app.state.backend.sessions
    shown = await drafted(sessions, body=SCRIPT)
    await drafted(sessions, body="# Never published\n")
    await publish(client, shown, roles["staff"])
    viewer = roles["viewer"]
    markdown = await client.get("/api/case-studies/volume", headers=viewer)
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "### 1. Hacked" in markdown.text and "Never published" not in markdown.text
    page = await client.get("/api/case-studies/volume?format=html", headers=viewer)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "<title>The South-South Matchmaker</title>" in html and "<style>" in html
    assert "<script" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    assert '<h3 id="1-hacked">1. Hacked</h3>' in html and 'href="#1-hacked"' in html
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "http://" not in html and "https://" not in html.replace("img-src https:", "")
    negotiated = await client.get(
        "/api/case-studies/volume", headers={**viewer, "Accept": "text/html"}
    )
    assert negotiated.headers["content-type"].startswith("text/html")
    refused = await client.get("/api/case-studies/volume?format=pdf", headers=viewer)
    assert refused.status_code == 422
