import json
from dataclasses import replace
from typing import get_args

import httpx
import pytest
from temporalio.service import RPCError

from api.routes.steering import URL_NAMES
from domain.lifecycle import events as ev
from infra.settings import Settings
from tests.support import EXAMPLES, unique_eoi, wait_for
from workers.api import open_backend
from workers.http import create_app
from workers.ports import free_port


def _payload(**changes) -> dict:
    data = json.loads(unique_eoi().model_dump_json())
    data.update(changes)
    return data


async def test_healthz_reports_temporal_and_database(api):
    response = await api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "outbox": "ok",
        "temporal": "ok",
    }


async def test_healthz_is_503_when_the_database_is_unreachable(temporal_env):
    closed = f"postgresql+asyncpg://matchmaker@127.0.0.1:{free_port()}/matchmaker"
    settings = Settings(database_url=closed, allowed_hosts=["t"])
    async with open_backend(settings) as backend:
        app = create_app(settings, backend=replace(backend, client=temporal_env.client))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("unreachable")
    assert response.json()["temporal"] == "ok"


async def test_submit_creates_then_returns_the_existing_match(api, stack):
    body = _payload()
    created = await api.post("/api/eois", json=body)
    assert created.status_code == 201, created.text
    # read your own write: the match is there the moment intake answered
    shown = await api.get(created.json()["links"]["match"])
    assert shown.status_code == 200, shown.text
    assert shown.json()["stage"] == "follow_up" and shown.json()["eoi_id"] == body["id"]
    assert created.json()["match_id"] == f"match-{body['id']}"
    assert created.json()["created"] is True
    await wait_for(lambda: len(stack.mail.messages) == 2)

    again = await api.post("/api/eois", json=body)
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["match_id"] == created.json()["match_id"]
    assert len(stack.mail.messages) == 2

    detail = await api.get(created.json()["links"]["match"])
    assert detail.status_code == 200
    assert detail.json()["stage"] == "follow_up"
    assert [h["kind"] for h in detail.json()["history"]] == [
        "match_recorded",
        "prompt_opened",
        "prompt_opened",
    ]
    assert {e["status"] for e in detail.json()["emails"]} == {"sent"}


async def test_same_id_different_content_is_a_conflict(api, stack):
    body = _payload()
    assert (await api.post("/api/eois", json=body)).status_code == 201
    changed = {**body, "interest_statement": "Something else entirely"}
    response = await api.post("/api/eois", json=changed)
    assert response.status_code == 409
    assert "different content" in response.json()["detail"]


async def test_invalid_eoi_is_422_per_field_and_starts_nothing(api, stack):
    body = _payload()
    body["adopter"]["contact"]["email"] = "nobody"
    body["solution"]["provider"]["country"] = "ZZ"
    del body["workshop"]["title"]
    response = await api.post("/api/eois", json=body)
    assert response.status_code == 422
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(fields) == {"adopter.contact.email", "solution.provider.country", "workshop.title"}
    assert "email" in fields["adopter.contact.email"]
    with pytest.raises(RPCError, match="not found"):
        await stack.client.get_workflow_handle(f"match-{body['id']}").describe()
    assert (await api.get(f"/api/matches/match-{body['id']}")).status_code == 404


async def test_malformed_json_is_422(api):
    response = await api.post(
        "/api/eois", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"]


async def test_example_file_is_accepted(api, stack):
    body = json.loads((EXAMPLES / "eoi.json").read_text())
    response = await api.post("/api/eois", json=body)
    assert response.status_code in (200, 201)  # the example id may already run on the shared server


async def test_list_filters_by_stage_and_rejects_unknown_values(api, stack):
    body = _payload()
    await api.post("/api/eois", json=body)
    await wait_for(lambda: len(stack.mail.messages) == 2)
    listed = await api.get("/api/matches", params={"stage": "follow_up", "limit": 10})
    assert listed.status_code == 200
    assert f"match-{body['id']}" in [m["id"] for m in listed.json()["items"]]
    assert (await api.get("/api/matches", params={"stage": "closed"})).json()["total"] == 0
    bad = await api.get("/api/matches", params={"stage": "nowhere"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.stage"


async def test_unknown_match_is_404(api):
    response = await api.get("/api/matches/match-nope")
    assert response.status_code == 404
    assert "match-nope" in response.json()["detail"]


async def test_partner_answers_and_secretariat_actions_over_http(api, stack):
    body = _payload()
    match_id = (await api.post("/api/eois", json=body)).json()["match_id"]
    await wait_for(lambda: len(stack.mail.messages) == 2)
    live = await api.get(f"/api/matches/{match_id}/state")
    assert live.status_code == 200
    prompts = {p["kind"]: p for p in live.json()["prompts"]}
    adopter_prompt = prompts["introduction_adopter"]["id"]

    wrong = await api.post(
        f"/api/matches/{match_id}/answers",
        json={
            "prompt_id": adopter_prompt,
            "party": "provider",
            "answer": {"kind": "introduction_adopter", "decision": "confirm", "needs": "x"},
        },
    )
    assert (
        wrong.status_code == 409
        and "is for the adopter, not the provider" in wrong.json()["detail"]
    )
    bad = await api.post(
        f"/api/matches/{match_id}/answers",
        json={
            "prompt_id": adopter_prompt,
            "party": "adopter",
            "answer": {"kind": "introduction_adopter", "decision": "confirm"},
        },
    )
    assert bad.status_code == 422 and "describe your needs" in bad.json()["errors"][0]["message"]
    ok = await api.post(
        f"/api/matches/{match_id}/answers",
        json={
            "prompt_id": adopter_prompt,
            "party": "adopter",
            "answer": {
                "kind": "introduction_adopter",
                "decision": "confirm",
                "needs": "rural access",
            },
        },
    )
    assert ok.status_code == 200 and ok.json()["waiting_on"] == ["provider"]

    paused = await api.post(
        f"/api/matches/{match_id}/actions/pause", json={"reason": "elections", "by": "ana"}
    )
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    again = await api.post(f"/api/matches/{match_id}/actions/pause", json={"reason": "elections"})
    assert again.status_code == 409 and "already paused" in again.json()["detail"]
    invalid = await api.post(
        f"/api/matches/{match_id}/actions/extend-deadline", json={"days": 0, "reason": "x"}
    )
    assert invalid.status_code == 422 and {e["field"] for e in invalid.json()["errors"]} == {
        "days",
        "reason",
    }
    unknown = await api.post(f"/api/matches/{match_id}/actions/explode", json={})
    assert unknown.status_code == 404 and "one of pause" in unknown.json()["detail"]
    # the same actions through one route, told apart by kind
    resumed = await api.post(f"/api/matches/{match_id}/actions", json={"kind": "resume"})
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"
    bad_kind = await api.post(f"/api/matches/{match_id}/actions", json={"kind": "explode"})
    assert bad_kind.status_code == 422
    early = await api.post(
        f"/api/matches/{match_id}/progress", json={"report": {"status": "on_track"}}
    )
    assert early.status_code == 409 and "adaptation" in early.json()["detail"], early.text
    closed = await api.post(
        f"/api/matches/{match_id}/actions/close",
        json={"reason": "withdrawn", "note": "adopter withdrew"},
    )
    assert closed.status_code == 200 and closed.json()["stage"] == "closed"
    assert (await api.get("/api/matches/match-nope/state")).status_code == 404


async def test_openapi_documents_every_action_body(api):
    spec = (await api.get("/openapi.json")).json()
    paths = spec["paths"]
    bodies = {}
    for path, item in paths.items():
        if "/actions/" in path and "post" in item:
            schema = item["post"]["requestBody"]["content"]["application/json"]["schema"]
            bodies[path.rsplit("/", 1)[-1]] = schema["$ref"].rsplit("/", 1)[-1]
    members = get_args(get_args(ev.Action)[0])
    kinds = {m.model_fields["kind"].default: m.__name__ for m in members}
    assert bodies == {URL_NAMES.get(k, k.replace("_", "-")): name for k, name in kinds.items()}
    assert {"pause", "extend-deadline", "note", "schedule-visit"} <= set(bodies)
    extend = spec["components"]["schemas"]["ExtendDeadline"]
    assert {"days", "reason"} <= set(extend["required"])
    union = paths["/api/matches/{match_id}/actions"]["post"]["requestBody"]["content"]
    assert set(union["application/json"]["schema"]["discriminator"]["mapping"]) == set(kinds)
