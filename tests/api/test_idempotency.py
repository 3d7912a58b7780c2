"""Idempotency-Key: a retried request answers the first one's result and changes nothing more."""

import pytest
from temporalio.api.enums.v1 import EventType

from api.deps import IDEMPOTENCY_KEY_MAX
from services.steering import update_id_for
from tests.support import unique_eoi, wait_for


async def _open_match(api, stack) -> str:
    created = await api.post("/api/eois", json=unique_eoi().model_dump(mode="json"))
    assert created.status_code == 201, created.text
    await wait_for(lambda: len(stack.mail.messages) == 2)
    return created.json()["match_id"]


async def _update_ids(stack, match_id: str) -> list[str]:
    """The ids of the Updates the workflow accepted, from its history."""
    handle = stack.client.get_workflow_handle(match_id)
    return [
        event.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]


async def test_an_action_sent_again_with_its_key_is_applied_once(api, stack):
    match_id = await _open_match(api, stack)
    url = f"/api/matches/{match_id}/actions"
    key = {"Idempotency-Key": "note-2026-11-23-ana"}
    note = {"text": "called the adopter", "by": "ana"}
    first = await api.post(f"{url}/note", json=note, headers=key)
    again = await api.post(f"{url}/note", json=note, headers=key)
    # the same action through the route that takes any action, under the same key
    by_kind = await api.post(url, json={"kind": "add_note", **note}, headers=key)
    other = await api.post(f"{url}/note", json=note, headers={"Idempotency-Key": "another"})
    unnamed = await api.post(f"{url}/note", json=note)
    assert first.status_code == 200, first.text
    assert again.json() == by_kind.json() == first.json()
    assert other.status_code == unnamed.status_code == 200

    state = (await api.get(f"/api/matches/{match_id}/state")).json()
    assert [h["kind"] for h in state["history"]].count("note") == 3  # first, other, unnamed
    ids = await _update_ids(stack, match_id)
    assert update_id_for(match_id, "act:add_note", key["Idempotency-Key"]) in ids
    assert not any("note-2026" in update_id for update_id in ids)  # the key stays out


async def test_an_answer_sent_again_with_its_key_answers_as_the_first_time(api, stack):
    match_id = await _open_match(api, stack)
    state = (await api.get(f"/api/matches/{match_id}/state")).json()
    [prompt] = [p["id"] for p in state["prompts"] if p["kind"] == "introduction_adopter"]
    answer = {
        "prompt_id": prompt,
        "party": "adopter",
        "answer": {"kind": "introduction_adopter", "decision": "confirm", "needs": "rural access"},
    }
    url, key = f"/api/matches/{match_id}/answers", {"Idempotency-Key": "answer-1"}
    first = await api.post(url, json=answer, headers=key)
    again = await api.post(url, json=answer, headers=key)
    unnamed = await api.post(url, json=answer)  # a new request: the prompt is answered
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json() and first.json()["waiting_on"] == ["provider"]
    assert unnamed.status_code == 409


@pytest.mark.parametrize(
    "key",
    [b"", b"x" * (IDEMPOTENCY_KEY_MAX + 1), "clé".encode(), b"tab\there"],
    ids=["empty", "too-long", "not-ascii", "control"],
)
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("answers", {}),
        ("progress", {}),
        ("actions", {"kind": "resume"}),
        ("actions/resume", {}),
    ],
)
async def test_a_malformed_key_is_422_naming_the_header(offline_api, key, path, body):
    response = await offline_api.post(
        f"/api/matches/match-x/{path}", json=body, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 422, response.text
    assert "header.Idempotency-Key" in [e["field"] for e in response.json()["errors"]]


def test_the_update_id_names_match_operation_and_key():
    first = update_id_for("match-A", "answer", "k")
    assert first == update_id_for("match-A", "answer", "k")
    assert first is not None and first.startswith("idem-") and len(first) == 37
    assert len({first, update_id_for("match-B", "answer", "k")}) == 2
    assert len({first, update_id_for("match-A", "act:pause", "k")}) == 2
    assert update_id_for("match-A", "answer", None) is None
