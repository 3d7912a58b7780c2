"""The API refuses what storage or email headers cannot hold, naming the field."""

import json

import httpx
import pytest

from infra.settings import Settings
from tests.support import as_admin, unique_eoi
from workers.api import open_backend
from workers.http import create_app
from workers.ports import free_port


@pytest.fixture
async def client(tmp_path):
    # validation answers before any dependency is used: neither Temporal nor the database runs
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        temporal_target=f"127.0.0.1:{free_port()}",
    )
    async with open_backend(settings) as backend:
        app = as_admin(create_app(settings, backend=backend))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as http:
            yield http


async def test_a_line_break_in_a_name_is_a_422_naming_the_field(client):
    body = json.loads(unique_eoi().model_dump_json())
    body["adopter"]["contact"]["name"] = "Ana\r\nBcc: everyone@example.org"
    response = await client.post("/api/eois", json=body)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "adopter.contact.name"
    assert "single line" in error["message"]


async def test_a_nul_byte_in_a_close_note_is_a_422(client):
    response = await client.post(
        "/api/matches/match-x/actions",
        json={"kind": "close", "reason": "declined", "note": "thanks\u0000"},
    )
    assert response.status_code == 422
    assert "NUL" in response.text


async def test_an_address_longer_than_smtp_carries_is_a_422(client):
    body = json.loads(unique_eoi().model_dump_json())
    body["solution"]["contact"]["email"] = "a" * 65 + "@example.org"
    response = await client.post("/api/eois", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "solution.contact.email"
