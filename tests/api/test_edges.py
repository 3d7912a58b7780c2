"""What the API refuses before a route runs: bodies over the limit (413), unknown hosts (400)."""

from collections.abc import AsyncIterator

import pytest

from infra.settings import Settings
from tests.support import bearer, http
from workers.api import open_backend
from workers.http import create_app

CHUNK = 64 * 1024


class Body:
    """A request body streamed in chunks, counting how many the server took."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.taken = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.taken += 1
            yield b" " * CHUNK


async def test_a_declared_length_over_the_limit_is_413_before_any_byte_is_read(offline_api):
    limit = Settings.model_fields["api_max_body_bytes"].default
    body = Body(chunks=limit // CHUNK + 1)
    response = await offline_api.post(
        "/api/eois",
        content=body,
        headers={"content-type": "application/json", "content-length": str(limit + CHUNK)},
    )
    assert response.status_code == 413, response.text
    assert response.json() == {"detail": f"request body over {limit} bytes", "errors": []}
    assert body.taken == 0


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(offline_api):
    body = Body(chunks=64)  # 4 MiB, no Content-Length
    response = await offline_api.post(
        "/api/eois", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert response.json() == {"detail": "request body over 1048576 bytes", "errors": []}
    assert body.taken == 1_048_576 // CHUNK + 1  # refused at the chunk that passed the limit


async def test_a_body_within_the_limit_is_read(offline_settings):
    settings = offline_settings.model_copy(update={"api_max_body_bytes": 100})
    async with (
        open_backend(settings) as backend,
        http(create_app(settings, backend=backend), headers=await bearer(backend.sessions)) as api,
    ):
        within = await api.post("/api/matches/match-x/actions/resume", json={})
        beyond = await api.post("/api/matches/match-x/actions/note", json={"text": "x" * 100})
    assert within.status_code == 503  # read and sent on to Temporal, which is not there
    assert beyond.status_code == 413


@pytest.mark.parametrize("host", ["evil.example", "matchmaker.test", "127.0.0.2"])
async def test_an_unknown_host_is_refused(offline_api, host):
    response = await offline_api.get("/api/matches", headers={"host": host})
    assert response.status_code == 400
    assert response.text == "Invalid host header"


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1", "[::1]:8000", "mm.example.org"])
async def test_loopback_and_the_public_host_are_answered(offline_settings, host):
    settings = Settings(
        database_url=offline_settings.database_url,
        temporal_target=offline_settings.temporal_target,
        public_base_url="https://mm.example.org",
    )
    async with (
        open_backend(settings) as backend,
        http(create_app(settings, backend=backend), headers=await bearer(backend.sessions)) as api,
    ):
        response = await api.get("/api/matches", headers={"host": host})
    assert response.status_code == 200, response.text
