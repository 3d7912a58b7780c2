"""`matchmaker codec-server`: the Temporal Web UI's remote codec, for the operators allowed it.

``POST /encode`` and ``POST /decode`` take and return Temporal's codec-server JSON
(``{"payloads": [{"metadata": {...}, "data": "<base64>"}]}``). A caller shows an API key of
a staff member or an admin (``Authorization: Bearer KEY``), or calls under
``/ui/<codec_ui_token>/``, the endpoint the UI is configured with when it cannot send a key
(the dev stack). Only the UI's origins may call it from a browser; bodies are bounded.
"""

import contextlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import structlog
import typer
import uvicorn
from fastapi import FastAPI, HTTPException, Request, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from google.protobuf import json_format
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import Payloads

from api.deps import not_refused
from api.throttle import API_KEYS, SharedLimiter
from domain.access import Role
from infra.payload_codec import (
    EncryptionCodec,
    PayloadDecryptionError,
    PayloadKeyError,
    new_key_text,
    parse_key,
)
from infra.settings import Settings
from infra.temporal import payload_codec
from services import access
from services.access import AuthenticationFailed
from store.engine import make_engine, make_sessionmaker

logger = structlog.get_logger()

JSON = "application/json"
Transform = Callable[[Payloads], Awaitable[None]]


def _error(code: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=code, headers=headers or None)


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it is longer than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is over {limit} bytes; send fewer payloads at once")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"the body is over {limit} bytes; send fewer payloads at once")
    return bytes(body)


def create_codec_app(
    settings: Settings, *, codec: EncryptionCodec, sessions: async_sessionmaker[AsyncSession] | None
) -> FastAPI:
    """The codec server's app; ``sessions`` verify API keys (None: only the UI token)."""
    app = FastAPI(
        title="Matchmaker codec server",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    ui_token = settings.codec_ui_token.get_secret_value() if settings.codec_ui_token else None
    # guessing a key or the UI's token: refused per address past the API's own bound
    # (counted with the API's: a guess here or there is one guess of the same keys)
    failures = SharedLimiter(sessions, scope=API_KEYS, limit=settings.api_auth_failures_per_minute)

    async def authorised(request: Request) -> None:
        client = await not_refused(request, failures)
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or sessions is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "send 'Authorization: Bearer KEY' with the API key of a staff member or admin",
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            principal = await access.authenticate(sessions, token=token.strip())
        except AuthenticationFailed as exc:
            await failures.failed(client)
            logger.warning("codec authentication failed", reason=exc.reason, key_id=exc.key_id)
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, str(exc), headers={"WWW-Authenticate": "Bearer"}
            ) from None
        if not principal.role.allows(Role.STAFF):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "decoding payloads needs the staff or admin role; this key is a viewer's",
            )

    async def answer(request: Request, transform: Transform) -> Response:
        body = await _bounded_body(request, settings.codec_max_body_bytes)
        payloads = Payloads()
        try:
            json_format.Parse(body, payloads, ignore_unknown_fields=True)
        except (json_format.ParseError, UnicodeDecodeError) as exc:
            raise HTTPException(
                400,
                'the body must be JSON {"payloads": [{"metadata": {...}, "data": "<base64>"}]}: '
                + str(exc)[:200],
            ) from None
        try:
            await transform(payloads)
        except PayloadDecryptionError as exc:
            raise HTTPException(422, str(exc)) from None
        return Response(json_format.MessageToJson(payloads), media_type=JSON)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), **(exc.headers or {}))

    @app.post("/encode")
    async def encode(request: Request) -> Response:
        await authorised(request)
        return await answer(request, codec.encode_wrapper)

    @app.post("/decode")
    async def decode(request: Request) -> Response:
        await authorised(request)
        return await answer(request, codec.decode_wrapper)

    @app.post("/ui/{token}/{operation}")
    async def through_ui(token: str, operation: str, request: Request) -> Response:
        client = await not_refused(request, failures)
        if ui_token is None or not hmac.compare_digest(token.encode(), ui_token.encode()):
            await failures.failed(client)
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown codec endpoint token")
        if operation not in ("encode", "decode"):
            raise HTTPException(404, "the codec server answers /encode and /decode")
        transform = codec.encode_wrapper if operation == "encode" else codec.decode_wrapper
        return await answer(request, transform)

    @app.get("/healthz")
    async def healthz() -> dict[str, object]:
        return {"status": "ok", "keys": len(codec.key_ids)}

    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.codec_cors_origins,
        allow_methods=["POST"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace"],
        allow_credentials=True,
        max_age=600,
    )
    return app


@contextlib.asynccontextmanager
async def codec_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with its database sessions for key checks, disposed of on exit."""
    engine = make_engine(settings.resolved_database_url)
    try:
        yield create_codec_app(
            settings, codec=payload_codec(settings), sessions=make_sessionmaker(engine)
        )
    finally:
        await engine.dispose()


async def serve_codec(settings: Settings) -> None:
    """Serve the codec server until told to stop (SIGINT/SIGTERM)."""
    async with codec_app(settings) as app:
        config = uvicorn.Config(
            app,
            host=settings.codec_host,
            port=settings.codec_port,
            log_config=None,
            access_log=False,
            **settings.proxy_options(),
        )
        await uvicorn.Server(config).serve()


def codec_server_command() -> None:
    """Serve the Temporal UI's remote codec (POST /encode, /decode) on codec_host:codec_port."""
    import asyncio

    from workers.cli import _settings

    settings = _settings(discover=False)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_codec(settings))


def payload_key_command(
    key_id: Annotated[str, typer.Argument(help="the new key's id, e.g. the year: 2026")],
) -> None:
    """Print a new random payload key as 'id:base64key' for MATCHMAKER_PAYLOAD_KEYS."""
    text = new_key_text(key_id)
    try:
        parse_key(text)
    except PayloadKeyError as exc:
        typer.secho(f"matchmaker: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    typer.echo(text)


def register(app: typer.Typer) -> None:
    """Add `codec-server` and `payload-key` to the CLI."""
    app.command("codec-server")(codec_server_command)
    app.command("payload-key")(payload_key_command)
