"""The JSON API: thin routes over services/, which hold the use cases. The pages for people
(web/) are added to it by the composition root (workers/http.py): neither edge imports the
other's routes."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from api.middleware import BodyLimit, RequestLog
from api.routes import bulk, case_studies, eois, health, imports, matches, reports, steering
from api.schemas import ErrorResponse
from api.throttle import API_KEYS, SharedLimiter
from infra.settings import Settings
from services.backend import Backend
from services.errors import (
    Busy,
    CaseStudyConflict,
    CaseStudyNotFound,
    ConflictingEoi,
    DatabaseUnavailable,
    EngineUnavailable,
    MatchNotFound,
    MoveRefused,
)


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        message = error.get("msg", "invalid")
        if error.get("type") == "extra_forbidden" and loc[:1] == ["query"]:
            message = "unknown query parameter (the parameters this route takes: /docs)"
        out.append({"field": ".".join(loc) or "body", "message": message})
    return out


def _error(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        status_code=status_code, content=ErrorResponse(detail=detail).model_dump(), headers=headers
    )


@dataclass(frozen=True)
class Refusal:
    """The HTTP status of a refusal and, for a passing one, when to come back (seconds)."""

    status: int
    retry_after: int | None = None


# What a use case refuses, and the HTTP status that says so; the message is the service's own.
# A dependency that is down (503) or a match busy with other changes (429) passes: the answer
# says when to try again.
REFUSALS: dict[type[Exception], Refusal] = {
    MatchNotFound: Refusal(404),
    MoveRefused: Refusal(409),
    ConflictingEoi: Refusal(409),
    CaseStudyNotFound: Refusal(404),
    CaseStudyConflict: Refusal(409),
    Busy: Refusal(429, retry_after=1),
    DatabaseUnavailable: Refusal(503, retry_after=5),
    EngineUnavailable: Refusal(503, retry_after=5),
}


def _answer_with(refusal: Refusal) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    headers = None if refusal.retry_after is None else {"Retry-After": str(refusal.retry_after)}

    async def handler(_request: Request, exc: Exception) -> JSONResponse:
        return _error(refusal.status, str(exc), headers)

    return handler


def _documented(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


# What any operation may answer besides its own outcomes (documented in the OpenAPI, so a
# client knows every status it can meet; the fuzz test holds the API to it).
EVERY_ROUTE: dict[int | str, dict[str, Any]] = {
    400: _documented("the body is not JSON, or the Host header is not one this API serves"),
    413: _documented("the body is larger than the API accepts"),
    422: _documented("a field, query parameter or header is invalid; `errors` names each"),
    503: _documented("the database or the workflow service is down: see Retry-After"),
}


# every module of api/routes/, each with its ``router``
ROUTERS = (health, eois, imports, matches, steering, bulk, case_studies, reports)


async def close_form(request: Request) -> AsyncIterator[None]:
    """A parsed form's files are temporary files: closed once the route is done, whichever
    part of it parsed the form (a route, or the console's CSRF check before it refused)."""
    try:
        yield
    finally:
        await request.close()


def create_api(settings: Settings, *, backend: Backend) -> FastAPI:
    """The JSON API over a backend the caller built (and will close), with the state, error
    answers and middleware every route of the application shares."""
    app = FastAPI(
        title="Matchmaker",
        version="0.1.0",
        description="Match lifecycle engine of the South-South Network for Public Service Innovation",
        responses=EVERY_ROUTE,
        dependencies=[Depends(close_form)],
    )
    app.state.settings = settings
    app.state.backend = backend
    # counted in the database: as strict with any number of API replicas as with one
    sessions = backend.sessions if backend is not None else None
    app.state.auth_failures = SharedLimiter(
        sessions, scope=API_KEYS, limit=settings.api_auth_failures_per_minute
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        body = ErrorResponse(detail="invalid request", errors=_field_errors(list(exc.errors())))
        return JSONResponse(status_code=422, content=body.model_dump())

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # the same body as every other error (FastAPI's own has no ``errors``)
        return _error(exc.status_code, str(exc.detail), dict(exc.headers or {}) or None)

    for error, refusal in REFUSALS.items():
        app.add_exception_handler(error, _answer_with(refusal))

    for module in ROUTERS:
        app.include_router(module.router)
    # the last added runs first: every request is logged, even one refused for its host
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(RequestLog)
    return app
