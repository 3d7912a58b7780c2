"""The HTTP API: thin routes over services/, which hold the use cases."""

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from temporalio.service import RPCError

from api.routes import eois, health, matches, steering
from api.schemas import ErrorResponse
from infra.settings import Settings
from services.backend import Backend
from services.errors import ConflictingEoi, EngineUnavailable, MatchNotFound, MoveRefused

logger = structlog.get_logger()


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        out.append({"field": ".".join(loc) or "body", "message": error.get("msg", "invalid")})
    return out


def _error(status_code: int, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status_code, content=ErrorResponse(detail=detail).model_dump())


# What a use case refuses, and the HTTP status that says so; the message is the service's own.
REFUSALS: dict[type[Exception], int] = {
    MatchNotFound: 404,
    MoveRefused: 409,
    ConflictingEoi: 409,
    EngineUnavailable: 503,
}


def _answer_with(status_code: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handler(_request: Request, exc: Exception) -> JSONResponse:
        return _error(status_code, str(exc))

    return handler


def create_app(settings: Settings, *, backend: Backend) -> FastAPI:
    """Build the FastAPI application over a backend the caller built (and will close)."""
    app = FastAPI(
        title="Matchmaker",
        version="0.1.0",
        description="Match lifecycle engine of the South-South Network for Public Service Innovation",
    )
    app.state.settings = settings
    app.state.backend = backend

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        body = ErrorResponse(detail="invalid request", errors=_field_errors(list(exc.errors())))
        return JSONResponse(status_code=422, content=body.model_dump())

    for refusal, status_code in REFUSALS.items():
        app.add_exception_handler(refusal, _answer_with(status_code))

    @app.exception_handler(RPCError)
    async def _temporal_down(_request: Request, exc: RPCError) -> JSONResponse:
        logger.warning("temporal call failed", error=str(exc), status=str(exc.status))
        return _error(503, f"workflow service unavailable: {exc.message}")

    for module in (health, eois, matches, steering):
        app.include_router(module.router)
    return app
