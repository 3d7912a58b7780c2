"""POST /api/bulk-actions: the dry run changes nothing (workflow history and records read before
and after), the real run answers per match, roles, and the 422s that name what is wrong."""

import json
import uuid

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

from domain.access import Role
from services import bulk
from tests.support import add_match, bearer, example_eoi, http, record_eoi, unique_eoi, wait_for

URL = "/api/bulk-actions"
PAUSE = {"kind": "pause", "reason": "elections in the adopter country", "by": "mallory"}


async def _workshop(api, size: int) -> tuple[str, list[str]]:
    workshop = f"ws-{uuid.uuid4().hex[:8]}"
    ids = []
    for _ in range(size):
        data = json.loads(unique_eoi().model_dump_json())
        data["workshop"]["id"] = workshop
        created = await api.post("/api/eois", json=data)
        assert created.status_code == 201, created.text
        ids.append(created.json()["match_id"])
    return workshop, ids


async def _events(stack, match_id: str) -> int:
    """How many events the match's workflow history holds."""
    handle = stack.client.get_workflow_handle(match_id)
    return len([e async for e in handle.fetch_history_events()])


async def _idle(stack, match_id: str) -> bool:
    """Whether the match's workflow has nothing under way: no workflow task, no activity (the
    intake's emails and records), so its history holds still unless something acts."""
    # the raw call: the test server's datetime search attributes do not decode in describe()
    raw = await stack.client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=stack.client.namespace, execution=WorkflowExecution(workflow_id=match_id)
        )
    )
    return not raw.HasField("pending_workflow_task") and not raw.pending_activities


async def _records(api, match_id: str) -> tuple:
    detail = (await api.get(f"/api/matches/{match_id}")).json()
    return detail["status"], detail["history"], detail["live"]


async def test_a_dry_run_changes_nothing_and_the_run_answers_per_match(api, stack):
    workshop, (first, second) = await _workshop(api, 2)
    paused = await api.post(f"/api/matches/{second}/actions/pause", json=PAUSE)
    assert paused.status_code == 200, paused.text
    await wait_for(lambda: _has_status(api, second, "paused"))
    body = {"filter": {"workshop_id": workshop}, "action": PAUSE, "dry_run": True}
    # what the intake and the pause set off is done: the snapshot below holds still
    for match_id in (first, second):
        await wait_for(lambda m=match_id: _idle(stack, m))

    before = {m: (await _events(stack, m), await _records(api, m)) for m in (first, second)}
    preview = await api.post(URL, json=body)
    assert preview.status_code == 200, preview.text
    answer = preview.json()
    assert answer["dry_run"] is True and answer["count"] == 2 and answer["action"] == "pause"
    assert answer["totals"] == {"would_apply": 1, "would_refuse": 1, "failed": 0}
    items = {i["match_id"]: i for i in answer["items"]}
    assert items[first]["outcome"] == "would_apply" and items[first]["summary"]
    assert items[second]["outcome"] == "would_refuse"
    assert items[second]["reason"].startswith("reminders are already paused")
    after = {m: (await _events(stack, m), await _records(api, m)) for m in (first, second)}
    assert after == before

    key = {"Idempotency-Key": f"elections-{workshop}"}
    done = await api.post(URL, json={**body, "dry_run": False}, headers=key)
    assert done.status_code == 200, done.text
    answer = done.json()
    assert answer["totals"] == {"applied": 1, "refused": 1, "failed": 0}
    assert answer["idempotency_key"] == key["Idempotency-Key"]
    items = {i["match_id"]: i for i in answer["items"]}
    assert items[first]["outcome"] == "applied" and items[first]["result"]["status"] == "paused"
    assert items[second]["outcome"] == "refused" and "already paused" in items[second]["reason"]
    state = (await api.get(f"/api/matches/{first}/state")).json()
    assert state["history"][-1]["actor"].startswith("secretariat:admin-")  # the key's user
    again = await api.post(URL, json={**body, "dry_run": False}, headers=key)
    assert again.json()["totals"] == answer["totals"]
    state = (await api.get(f"/api/matches/{first}/state")).json()
    assert [h["kind"] for h in state["history"]].count("paused") == 1


async def _has_status(api, match_id: str, status: str) -> bool:
    return (await api.get(f"/api/matches/{match_id}")).json()["status"] == status


@pytest.mark.parametrize(
    ("role", "expected"), [(Role.VIEWER, 403), (Role.STAFF, 200), (Role.ADMIN, 200)]
)
async def test_bulk_actions_are_staffs(offline_app, role, expected):
    headers = await bearer(offline_app.state.backend.sessions, role)
    body = {"match_ids": ["match-none-1"], "action": PAUSE, "dry_run": True}
    async with http(offline_app, headers=headers) as client:
        response = await client.post(URL, json=body)
    assert response.status_code == expected, response.text
    if expected == 200:
        [item] = response.json()["items"]
        assert item["outcome"] == "would_refuse" and item["reason"].startswith("no match")


@pytest.mark.parametrize("dry_run", [True, False])
async def test_a_match_temporal_cannot_be_asked_about_is_failed_and_the_others_go_on(
    offline_app, offline_api, dry_run
):
    eoi = await record_eoi(offline_app.state.backend.sessions)
    body = {"match_ids": ["match-none-1", eoi.match_id], "action": PAUSE, "dry_run": dry_run}
    response = await offline_api.post(URL, json=body)
    assert response.status_code == 200, response.text
    missing, recorded = response.json()["items"]
    assert missing["outcome"] == ("would_refuse" if dry_run else "refused")
    assert recorded["outcome"] == "failed" and "Temporal" in recorded["reason"]
    assert recorded["stage"] == "follow_up" and recorded["summary"]


async def test_bulk_actions_need_a_key(offline_app):
    async with http(offline_app) as client:
        response = await client.post(URL, json={"filter": {}, "action": PAUSE})
    assert response.status_code == 401


async def test_an_empty_filter_selecting_too_many_is_422_saying_how_to_narrow(
    offline_app, offline_api
):
    async with offline_app.state.backend.sessions() as session:
        for n in range(bulk.MAX_MATCHES + 1):
            eoi = example_eoi(id=f"BULK-{n}")
            await add_match(session, eoi)
        await session.commit()
    response = await offline_api.post(URL, json={"filter": {}, "action": PAUSE, "dry_run": True})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert f"{bulk.MAX_MATCHES + 1} matches pass this filter" in detail
    assert f"at most {bulk.MAX_MATCHES}: narrow the filter" in detail
    narrowed = {"filter": {"text": "BULK-7"}, "action": PAUSE, "dry_run": True}
    assert (await offline_api.post(URL, json=narrowed)).status_code != 422


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"filter": {}, "action": {"kind": "explode"}}, "action", "does not match any of the"),
        ({"filter": {}, "action": {"kind": "pause"}}, "action.pause.reason", "required"),
        ({"filter": {"colour": "red"}, "action": PAUSE}, "filter.colour", "Extra inputs"),
        ({"filter": {"limit": 5}, "action": PAUSE}, "filter.limit", "Extra inputs"),
        ({"action": PAUSE}, "body", "either filter or match_ids"),
        ({"filter": {}, "match_ids": ["match-a"], "action": PAUSE}, "body", "either filter"),
        ({"match_ids": [], "action": PAUSE}, "match_ids", "at least 1"),
        ({"match_ids": ["not a match"], "action": PAUSE}, "match_ids.0", "is not a match id"),
        (
            {"match_ids": ["match-a"] * (bulk.MAX_MATCHES + 1), "action": PAUSE},
            "match_ids",
            f"at most {bulk.MAX_MATCHES}",
        ),
    ],
)
async def test_a_bad_request_is_422_naming_the_field(offline_api, body, field, words):
    response = await offline_api.post(URL, json=body)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(e["field"] == field and words in e["message"] for e in errors), errors


def test_the_route_is_documented(offline_app):
    operation = offline_app.openapi()["paths"][URL]["post"]
    assert {"200", "401", "403", "422", "503"} <= set(operation["responses"])
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BulkResult"
    }
    assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}
