"""Forwarded client addresses are believed only from the configured proxies: the failed
authentication limits count per client address, and any loopback client could otherwise
name itself anyone (uvicorn believes 127.0.0.1 by default)."""

import asyncio

import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.deps import client_address
from infra.settings import Settings
from workers.api import uvicorn_options
from workers.ports import free_port
from workers.serving import QuietServer


async def _who(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"{client_address(request)} {request.url.scheme}")


async def _seen(settings: Settings, headers: dict[str, str]) -> str:
    """What the app sees of a loopback client that sends ``headers``, served as the API is."""
    port = free_port()
    options = uvicorn_options(settings) | {"host": "127.0.0.1", "port": port, "lifespan": "off"}
    server = QuietServer(uvicorn.Config(Starlette(routes=[Route("/", _who)]), **options))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient() as client:
            return (await client.get(f"http://127.0.0.1:{port}/", headers=headers)).text
    finally:
        server.should_exit = True
        await task


FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


async def test_no_proxy_is_trusted_by_default_not_even_loopback():
    assert await _seen(Settings(), FORWARDED) == "127.0.0.1 http"


async def test_a_configured_proxy_is_believed():
    settings = Settings(trusted_proxies="127.0.0.0/8")
    assert await _seen(settings, FORWARDED) == "203.0.113.9 https"


async def test_a_proxy_elsewhere_does_not_make_loopback_trusted():
    assert await _seen(Settings(trusted_proxies="10.0.0.5"), FORWARDED) == "127.0.0.1 http"


def test_a_proxy_that_is_no_address_is_refused_with_what_is_expected():
    with pytest.raises(ValidationError, match="not an IP address or network"):
        Settings(trusted_proxies="proxy.internal")
