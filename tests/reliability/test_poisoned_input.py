"""Poisoned input sent to the API process: refused with 422 naming the field, and the match
stays steerable; long values the storage holds are accepted and recorded, never wedged."""

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.reliability.harness import eoi_for
from tests.support import wait_for

pytestmark = pytest.mark.reliability


@pytest.fixture
async def http(stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=stack.api.url, headers=stack.api.headers, timeout=30
    ) as client:
        yield client


def _eoi_body(tag: str, **contacts: str) -> dict:
    return eoi_for(tag, **contacts).model_dump(mode="json")


async def _new_match(http: httpx.AsyncClient, tag: str, **contacts: str) -> str:
    response = await http.post("/api/eois", json=_eoi_body(tag, **contacts))
    assert response.status_code == 201, response.text
    return response.json()["match_id"]


def _refused_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["errors"]]


async def _steerable(http: httpx.AsyncClient, match_id: str) -> bool:
    """A later valid action is accepted (and answers within the client's timeout)."""
    response = await http.post(
        f"/api/matches/{match_id}/actions/note",
        json={"text": "Called both partners: the match goes on", "by": "ana"},
    )
    return response.status_code == 200


async def _open_prompt(http: httpx.AsyncClient, match_id: str, party: str) -> str:
    state = (await http.get(f"/api/matches/{match_id}/state")).json()
    [prompt] = [p for p in state["prompts"] if p["party"] == party and p["status"] == "open"]
    return prompt["id"]


async def test_a_line_break_in_a_contact_name_of_an_eoi_is_422_naming_the_field(
    stack, http, figures
):
    body = _eoi_body("P-eoi")
    body["adopter"]["contact"]["name"] = "Aigerim\nBcc: everyone@example.org"
    response = await http.post("/api/eois", json=body)
    fields = _refused_fields(response)
    missing = await http.get(f"/api/matches/match-{body['id']}")
    # the same EOI, corrected, starts a match that takes actions
    body["adopter"]["contact"]["name"] = "Aigerim Sadykova"
    accepted = await http.post("/api/eois", json=body)
    figures.update(
        status=response.status_code,
        fields=fields,
        stored=missing.status_code != 404,
        corrected=accepted.status_code,
    )
    assert fields == ["adopter.contact.name"]
    assert "single line" in response.json()["errors"][0]["message"]
    assert missing.status_code == 404
    assert accepted.status_code == 201, accepted.text
    assert await _steerable(http, accepted.json()["match_id"])


async def test_a_line_break_in_a_changed_contact_name_is_422_and_the_match_stays_steerable(
    stack, http, figures
):
    match_id = await _new_match(http, "P-contact")
    response = await http.post(
        f"/api/matches/{match_id}/actions/change-contact",
        json={
            "party": "adopter",
            "contact": {"name": "Ana\r\nBcc: everyone@example.org", "email": "ana@kz.example.org"},
            "reason": "the focal point changed",
            "by": "ana",
        },
    )
    fields = _refused_fields(response)
    steerable = await _steerable(http, match_id)
    figures.update(status=response.status_code, fields=fields, steerable_after=steerable)
    assert fields == ["contact.name"]
    assert steerable


async def test_a_close_note_of_470_characters_with_a_nul_byte_is_422_and_the_match_stays_steerable(
    stack, http, figures
):
    match_id = await _new_match(http, "P-nul")
    note = "n" * 235 + "\x00" + "o" * 234
    assert len(note) == 470
    response = await http.post(
        f"/api/matches/{match_id}/actions/close",
        json={"reason": "declined", "note": note, "by": "ana"},
    )
    fields = _refused_fields(response)
    steerable = await _steerable(http, match_id)
    shown = (await http.get(f"/api/matches/{match_id}/state")).json()
    figures.update(
        status=response.status_code, fields=fields, steerable_after=steerable, stage=shown["stage"]
    )
    assert fields == ["note"]
    assert "NUL" in response.json()["errors"][0]["message"]
    assert steerable and shown["stage"] == "follow_up"


async def test_a_decline_reason_of_1000_characters_is_accepted_and_recorded(stack, http, figures):
    match_id = await _new_match(http, "P-decline")
    reason = ("We cannot take this on before the next budget cycle. " * 20)[:1000]
    assert len(reason) == 1000
    prompt_id = await _open_prompt(http, match_id, "adopter")
    started = time.monotonic()
    response = await http.post(
        f"/api/matches/{match_id}/answers",
        json={
            "prompt_id": prompt_id,
            "party": "adopter",
            "answer": {"kind": "introduction_adopter", "decision": "decline", "reason": reason},
        },
    )
    assert response.status_code == 200, response.text

    async def recorded():
        detail = (await http.get(f"/api/matches/{match_id}")).json()
        return [h for h in detail.get("history", []) if reason.strip() in h["summary"]] or None

    [entry] = await wait_for(recorded, timeout=60)
    detail = (await http.get(f"/api/matches/{match_id}")).json()
    figures.update(
        status=response.status_code,
        stage=response.json()["stage"],
        recorded_as=entry["kind"],
        recorded_after_s=round(time.monotonic() - started, 1),
        read_model_stage=detail["stage"],
    )
    assert response.json()["stage"] == "closed"
    assert entry["kind"] == "closed"


def _address_of_length(length: int, local: str = "focal.point") -> str:
    """A valid address of exactly ``length`` characters: labels of at most 63 characters."""
    domain_length = length - len(local) - 1
    labels, left = [], domain_length - len(".example.org")
    while left > 0:
        size = min(63, left - 1 if left > 64 else left)  # keep room for the next dot
        labels.append("d" * size)
        left -= size + 1
    address = f"{local}@{'.'.join(labels)}.example.org"
    assert len(address) == length, (len(address), address)
    return address


async def test_a_250_character_address_is_accepted_and_its_email_sent_or_bounced_never_wedged(
    stack, http, figures
):
    address = _address_of_length(250)
    response = await http.post("/api/eois", json=_eoi_body("P-long", adopter=address))
    figures.update(address_length=len(address), status=response.status_code)
    assert response.status_code == 201, response.text
    match_id = response.json()["match_id"]
    started = time.monotonic()

    async def settled():
        detail = (await http.get(f"/api/matches/{match_id}")).json()
        rows = [e for e in detail.get("emails", []) if e["recipient"] == address]
        return rows if rows and rows[0]["status"] in ("sent", "bounced", "failed") else None

    [row] = await wait_for(settled, timeout=60)
    steerable = await _steerable(http, match_id)
    figures.update(
        outcome=row["status"],
        attempts=row["attempts"],
        settled_after_s=round(time.monotonic() - started, 1),
        received=len(stack.mail.handler.to(address)),
        steerable_after=steerable,
    )
    assert row["status"] in ("sent", "bounced")
    assert steerable
