"""What the API counts: latency by route template, answers and actions by result; and
/healthz saying whether the outbox drains."""

import json
import uuid
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from store.tables import OutboxRow
from tests.support import record_eoi, unique_eoi, wait_for


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_latency_is_counted_by_route_template_never_by_raw_path(api):
    labels = {"method": "GET", "route": "/api/matches/{match_id}", "status": "404"}
    before = _value("matchmaker_http_request_duration_seconds_count", **labels)
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    before_unmatched = _value("matchmaker_http_request_duration_seconds_count", **unmatched)

    await api.get("/api/matches/match-nope-1")
    await api.get("/api/matches/match-nope-2")
    await api.get("/no/such/route")

    assert _value("matchmaker_http_request_duration_seconds_count", **labels) == before + 2
    assert (
        _value("matchmaker_http_request_duration_seconds_count", **unmatched)
        == before_unmatched + 1
    )
    raw = "/api/matches/match-nope-1"
    assert (
        REGISTRY.get_sample_value(
            "matchmaker_http_request_duration_seconds_count",
            {"method": "GET", "route": raw, "status": "404"},
        )
        is None
    )


async def test_answers_and_actions_are_counted_by_result(api, stack):
    body = json.loads(unique_eoi().model_dump_json())
    match_id = (await api.post("/api/eois", json=body)).json()["match_id"]
    await wait_for(lambda: len(stack.mail.messages) == 2)
    prompt = next(
        p["id"]
        for p in (await api.get(f"/api/matches/{match_id}/state")).json()["prompts"]
        if p["kind"] == "introduction_adopter"
    )
    answer = {"kind": "introduction_adopter", "decision": "confirm", "needs": "rural access"}
    refused = {"operation": "answer", "result": "refused"}
    applied = {"operation": "answer", "result": "applied"}
    counts = {
        k: _value("matchmaker_answers_total", **v) for k, v in (("r", refused), ("a", applied))
    }
    paused = {"action": "pause", "result": "applied"}
    pauses = _value("matchmaker_actions_total", **paused)
    missing = {"action": "pause", "result": "not_found"}
    missed = _value("matchmaker_actions_total", **missing)

    wrong = await api.post(
        f"/api/matches/{match_id}/answers",
        json={"prompt_id": prompt, "party": "provider", "answer": answer},
    )
    ok = await api.post(
        f"/api/matches/{match_id}/answers",
        json={"prompt_id": prompt, "party": "adopter", "answer": answer},
    )
    pause = await api.post(f"/api/matches/{match_id}/actions/pause", json={"reason": "elections"})
    nowhere = await api.post(
        f"/api/matches/{unique_eoi().match_id}/actions/pause", json={"reason": "elections"}
    )

    assert (wrong.status_code, ok.status_code, pause.status_code) == (409, 200, 200)
    assert nowhere.status_code == 404
    assert _value("matchmaker_answers_total", **refused) == counts["r"] + 1
    assert _value("matchmaker_answers_total", **applied) == counts["a"] + 1
    assert _value("matchmaker_actions_total", **paused) == pauses + 1
    assert _value("matchmaker_actions_total", **missing) == missed + 1


async def test_healthz_says_degraded_while_an_email_waits_too_long(api, stack):
    health = await api.get("/healthz")
    assert health.json()["outbox"] == "ok" and health.json()["status"] == "ok"
    eoi = await record_eoi(stack.resources.sessions)
    key = uuid.uuid4().hex
    async with stack.resources.sessions() as session:
        session.add(
            OutboxRow(
                business_key=key,
                message_id=f"<{key}@ssn4psi.org>",
                match_id=eoi.match_id,
                kind="introduction_adopter",
                recipient="someone@example.org",
                subject="s",
                status="pending",
                created_at=datetime.now(UTC) - timedelta(hours=1),
            )
        )
        await session.commit()

    health = await api.get("/healthz")

    assert health.status_code == 200  # the API serves: only the outbox is behind
    assert health.json()["status"] == "degraded"
    assert health.json()["outbox"].startswith("behind: the oldest of 1 waiting emails")
    assert health.json()["database"] == "ok" and health.json()["temporal"] == "ok"
