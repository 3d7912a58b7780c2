"""The Secretariat's monitor over HTTP: filters the workflow's records keep true, the 422 for
an unknown parameter, one match's live state beside its timeline (or a note without Temporal)."""

import json

from store.engine import make_engine, make_sessionmaker
from tests.support import record_eoi, unique_eoi, wait_for


def _payload(**workshop) -> dict:
    data = json.loads(unique_eoi().model_dump_json())
    data["workshop"].update(workshop)
    return data


async def _ids(api, **params) -> list[str]:
    response = await api.get("/api/matches", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["items"]]


async def test_the_records_keep_whom_a_match_waits_on(api, stack):
    workshop = f"ws-{unique_eoi().id.lower()}"
    first = (await api.post("/api/eois", json=_payload(id=workshop))).json()["match_id"]
    second = (await api.post("/api/eois", json=_payload(id=workshop))).json()["match_id"]
    mine = {"workshop_id": workshop}

    async def waiting(party: str) -> set[str]:
        return set(await _ids(api, waiting_on=party, **mine))

    # both partners are asked: the workflow's first record says so
    assert await wait_for(lambda: _equal(waiting("provider"), {first, second}))
    assert await waiting("adopter") == {first, second} and await waiting("secretariat") == set()
    live = (await api.get(f"/api/matches/{first}")).json()["live"]
    adopter_prompt = next(p["id"] for p in live["open_prompts"] if p["party"] == "adopter")
    answered = await api.post(
        f"/api/matches/{first}/answers",
        json={
            "prompt_id": adopter_prompt,
            "party": "adopter",
            "answer": {"kind": "introduction_adopter", "decision": "confirm", "needs": "x"},
        },
    )
    assert answered.status_code == 200, answered.text
    assert await wait_for(lambda: _equal(waiting("adopter"), {second}))
    paused = await api.post(f"/api/matches/{second}/actions/pause", json={"reason": "elections"})
    assert paused.status_code == 200, paused.text
    assert await wait_for(lambda: _equal(waiting("secretariat"), {second}))
    assert set(await _ids(api, status="paused", **mine)) == {second}
    assert set(await _ids(api, needs_attention=False, **mine)) == {first, second}
    assert await _ids(api, sort="created_at", **mine) == [first, second]
    assert await _ids(api, sort="-created_at", **mine) == [second, first]
    text = await _ids(api, text="UNION DIGITAL", solution_id="sol-bd-digital-centres", **mine)
    assert set(text) == {first, second}

    detail = (await api.get(f"/api/matches/{second}")).json()
    assert detail["waiting_on"] == ["adopter", "provider", "secretariat"]
    assert detail["solution_id"] == "sol-bd-digital-centres" and detail["note"] is None
    live = detail["live"]
    assert live["status"] == "paused" and live["paused_at"]
    assert live["waiting_on"] == ["adopter", "provider", "secretariat"]
    assert live["policy"]["lapse_day"] == 30 and live["rules_version"] >= 1
    assert {p["kind"] for p in live["open_prompts"]} == {
        "introduction_adopter",
        "introduction_provider",
    }
    assert [h["kind"] for h in detail["history"]][:3] == [
        "match_recorded",
        "prompt_opened",
        "prompt_opened",
    ]
    assert detail["history"][-1]["kind"] == "paused"


async def _equal(found, expected) -> bool:
    return await found == expected


async def test_an_unknown_parameter_is_422_naming_it(offline_api):
    response = await offline_api.get(
        "/api/matches", params={"stage": "follow_up", "colour": "red", "workshop": "ws-1"}
    )
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(errors) == {"query.colour", "query.workshop"}
    assert "unknown query parameter" in errors["query.colour"]
    bad = await offline_api.get("/api/matches", params={"waiting_on": "minister", "sort": "x"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"query.waiting_on", "query.sort"}


async def test_every_filter_is_documented(offline_api):
    spec = (await offline_api.get("/openapi.json")).json()
    params = {p["name"] for p in spec["paths"]["/api/matches"]["get"]["parameters"]}
    assert params == {
        "stage",
        "status",
        "close_reason",
        "focus_area",
        "adopter_country",
        "provider_country",
        "solution_id",
        "workshop_id",
        "overdue",
        "waiting_on",
        "needs_attention",
        "text",
        "sort",
        "limit",
        "offset",
        "after",
    }


async def test_the_total_says_when_it_is_a_lower_bound(offline_api):
    spec = (await offline_api.get("/openapi.json")).json()
    fields = spec["components"]["schemas"]["MatchList"]["properties"]
    assert "total_is_lower_bound" in fields and "1,000" in fields["total"]["description"]
    listed = await offline_api.get("/api/matches", params={"stage": "closed"})
    assert listed.status_code == 200
    assert (listed.json()["total"], listed.json()["total_is_lower_bound"]) == (0, False)


async def test_without_temporal_a_match_is_its_read_model_with_a_note(
    offline_api, offline_settings
):
    eoi = unique_eoi()
    engine = make_engine(offline_settings.resolved_database_url)
    try:
        await record_eoi(make_sessionmaker(engine), eoi)
    finally:
        await engine.dispose()
    response = await offline_api.get(f"/api/matches/{eoi.match_id}")
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["live"] is None and "Temporal" in detail["note"]
    assert detail["stage"] == "follow_up" and detail["waiting_on"] is None
    listed = await offline_api.get("/api/matches", params={"text": eoi.adopter.institution.name})
    assert [m["id"] for m in listed.json()["items"]] == [eoi.match_id]
