"""POST /api/imports over the test stack: a workshop's file validated whole, then started once;
a re-import starts and sends nothing; matches under way start at their stage, past dated."""

import asyncio
import json
import uuid

from sqlalchemy import func, select

from store.tables import OutboxRow
from tests.support import EXAMPLES, wait_for

CSV = {"Content-Type": "text/csv"}


def _workshop(prefix: str) -> str:
    """The example workshop with fresh EOI ids (the Temporal server outlives each test)."""
    return (EXAMPLES / "workshop-2024.csv").read_text().replace("BK24-", f"{prefix}-")


def _prefix() -> str:
    return f"I{uuid.uuid4().hex[:8]}"


async def _outbox(stack) -> int:
    async with stack.resources.sessions() as session:
        return (await session.scalar(select(func.count()).select_from(OutboxRow))) or 0


async def test_a_workshop_is_started_once_and_a_reimport_starts_and_sends_nothing(api, stack):
    prefix = _prefix()
    body = _workshop(prefix).encode()
    first = await api.post("/api/imports", content=body, headers=CSV)
    assert first.status_code == 201, first.text
    summary = first.json()
    assert (summary["started"], summary["already_present"], summary["refused"]) == (4, 0, 0)
    assert [r["outcome"] for r in summary["results"]] == ["started"] * 4
    assert [r["line"] for r in summary["results"]] == [2, 3, 4, 5]
    # a new match asks both partners; each match under way asks its stage's prompt
    await wait_for(lambda: len(stack.mail.messages) == 5)
    sent = await _outbox(stack)

    again = await api.post("/api/imports", content=body, headers=CSV)
    assert again.status_code == 200, again.text
    assert (again.json()["started"], again.json()["already_present"]) == (0, 4)
    await asyncio.sleep(1.0)  # time for an email that should not exist
    assert len(stack.mail.messages) == 5 and await _outbox(stack) == sent

    listed = await api.get("/api/matches", params={"workshop_id": "ws-2024-bangkok"})
    assert listed.json()["total"] == 4  # each database is fresh


async def test_a_match_under_way_starts_at_its_stage_with_its_dated_history(api, stack):
    prefix = _prefix()
    response = await api.post("/api/imports", content=_workshop(prefix).encode(), headers=CSV)
    assert response.status_code == 201, response.text
    match_id = f"match-{prefix}-003"

    async def recorded():
        detail = (await api.get(f"/api/matches/{match_id}")).json()
        return detail if any(h["kind"] == "prompt_opened" for h in detail["history"]) else None

    detail = await wait_for(recorded)
    assert detail["stage"] == "adaptation"
    entered = [
        (h["stage"], h["occurred_at"][:10], h["data"].get("imported"))
        for h in detail["history"]
        if h["kind"] == "stage_entered"
    ]
    assert entered == [("field_visit", "2024-06-20", True), ("adaptation", "2024-09-01", True)]
    assert detail["history"][0]["occurred_at"].startswith("2024-05-15")  # submitted_at
    assert detail["live"]["open_prompts"][0]["kind"] == "adaptation_plan"


async def test_an_invalid_file_is_422_listing_every_error_and_starts_nothing(api, stack):
    prefix = _prefix()
    lines = _workshop(prefix).splitlines()
    lines[2] = lines[2].replace("a.diop@justice.gouv.sn", "not-an-email")
    lines[4] = lines[4].replace(",MW,", ",ZZ,")
    body = "\n".join(lines).encode()
    response = await api.post("/api/imports", content=body, headers=CSV)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [
        (3, "adopter_contact_email"),
        (5, "adopter_country"),
    ]
    assert all("accepted:" in e["message"] for e in errors)
    assert "nothing was started" in response.json()["detail"]
    dry = await api.post("/api/imports", content=body, headers=CSV, params={"dry_run": "true"})
    assert dry.status_code == 422
    listed = await api.get("/api/matches", params={"workshop_id": "ws-2024-bangkok"})
    assert listed.json()["total"] == 0
    assert len(stack.mail.messages) == 0

    skipped = await api.post(
        "/api/imports", content=body, headers=CSV, params={"skip_invalid": "true"}
    )
    assert skipped.status_code == 201, skipped.text
    result = skipped.json()
    assert (result["started"], result["invalid"]) == (2, 2)
    outcomes = {r["line"]: r["outcome"] for r in result["results"]}
    assert outcomes == {2: "started", 3: "invalid", 4: "started", 5: "invalid"}


async def test_a_dry_run_validates_and_starts_nothing(api, stack):
    prefix = _prefix()
    response = await api.post(
        "/api/imports",
        content=_workshop(prefix).encode(),
        headers=CSV,
        params={"dry_run": "true"},
    )
    assert response.status_code == 200, response.text
    assert [r["outcome"] for r in response.json()["results"]] == ["valid"] * 4
    assert response.json()["started"] == 0
    missing = await api.get(f"/api/matches/match-{prefix}-001")
    assert missing.status_code == 404


async def test_json_with_a_workshop_policy_and_a_conflicting_eoi_refused(api, stack):
    eoi = json.loads((EXAMPLES / "eoi.json").read_text())
    prefix = _prefix()
    first = {**eoi, "id": f"{prefix}-1"}
    document = {"workshop_policy": {"lapse_day": 45}, "eois": [first]}
    created = await api.post("/api/imports", json=document)
    assert created.status_code == 201, created.text
    live = (await api.get(f"/api/matches/match-{prefix}-1")).json()["live"]
    assert live["policy"]["lapse_day"] == 45

    changed = {**first, "interest_statement": "something else"}
    second = {**eoi, "id": f"{prefix}-2"}
    response = await api.post("/api/imports", json=[changed, second])
    assert response.status_code == 201, response.text
    results = {r["item"]: r for r in response.json()["results"]}
    assert results[0]["outcome"] == "refused" and "different content" in results[0]["reason"]
    assert results[1]["outcome"] == "started"
    assert response.json()["refused"] == 1


async def test_an_unknown_content_type_is_415(offline_api):
    response = await offline_api.post(
        "/api/imports", content=b"eoi_id\n", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert "text/csv, application/json" in response.json()["detail"]


async def test_an_uploaded_file_is_read_by_its_name_or_type(offline_api):
    csv = _workshop(_prefix()).encode()
    by_name = await offline_api.post(
        "/api/imports",
        files={"file": ("bangkok.csv", csv, "application/octet-stream")},
        params={"dry_run": "true"},
    )
    assert by_name.status_code == 200, by_name.text
    assert [r["outcome"] for r in by_name.json()["results"]] == ["valid"] * 4
    by_type = await offline_api.post(
        "/api/imports", files={"file": ("upload", csv, "text/csv")}, params={"dry_run": "true"}
    )
    assert by_type.status_code == 200, by_type.text
    unknown = await offline_api.post(
        "/api/imports", files={"file": ("notes.txt", b"hello", "text/plain")}
    )
    assert unknown.status_code == 415 and "notes.txt" in unknown.json()["detail"]
    missing = await offline_api.post("/api/imports", files={"other": ("a.csv", csv, "text/csv")})
    assert missing.status_code == 422 and "part named file" in missing.json()["detail"]
