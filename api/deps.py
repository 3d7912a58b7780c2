"""Dependencies of the routes, as ``Annotated`` aliases."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import structlog
from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.schemas import ErrorResponse
from api.throttle import SharedLimiter
from domain.access import Role
from infra.settings import Settings
from services import access
from services.access import AuthenticationFailed, Principal
from services.backend import Backend

logger = structlog.get_logger()

IDEMPOTENCY_KEY_MAX = 200


def get_backend(request: Request) -> Backend:
    found: Backend = request.app.state.backend  # the app's state holds Any
    return found


def get_settings(request: Request) -> Settings:
    found: Settings = request.app.state.settings  # the app's state holds Any
    return found


BackendDep = Annotated[Backend, Depends(get_backend)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX,
        pattern=r"^[\x20-\x7e]+$",
        description=(
            "Names this request (printable ASCII, at most 200 characters): sent again with "
            "the same key, the request answers the first one's result and changes nothing "
            "more. A fresh UUID per intended change is a good key."
        ),
    ),
]


# Both ways of presenting a key, documented in the OpenAPI as security schemes; neither
# refuses by itself (``auto_error=False``), so that every refusal has this API's body.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key (`mmk_…`, from `matchmaker keys create`): "
    "`Authorization: Bearer <key>`",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="apiKey",
    description="The same API key in an `X-API-Key` header, for clients that cannot set "
    "`Authorization`",
)


def get_failure_limiter(request: Request) -> SharedLimiter:
    found: SharedLimiter = request.app.state.auth_failures  # the app's state holds Any
    return found


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def not_refused(request: Request, limiter: SharedLimiter) -> str:
    """The caller's address, once it has not failed too often (else 429 with Retry-After)."""
    client = client_address(request)
    wait = await limiter.retry_after(client)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed authentications from this address; try again later",
            headers={"Retry-After": str(wait)},
        )
    return client


async def authenticate(
    request: Request,
    backend: BackendDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    header_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The caller named by the request's API key; 401 without a valid one, 429 for an address
    that failed too often. Names the caller in ``request.state`` for the access log."""
    limiter = get_failure_limiter(request)
    client = await not_refused(request, limiter)
    token = credentials.credentials if credentials is not None else header_key
    try:
        principal = await access.authenticate(backend.sessions, token=token)
    except AuthenticationFailed as exc:
        if exc.reason != "missing":  # a guess, not a client that forgot its key
            await limiter.failed(client)
        # never the key: its public id at most; a forgotten key is no alarm
        log = logger.info if exc.reason == "missing" else logger.warning
        log("authentication failed", reason=exc.reason, key_id=exc.key_id, client=client)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, str(exc), headers={"WWW-Authenticate": "Bearer"}
        ) from None
    request.state.actor = principal.actor
    request.state.key_id = principal.key_id
    return principal


CurrentUser = Annotated[Principal, Depends(authenticate)]


def require(role: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through callers whose role allows ``role`` (403 for others)."""

    async def allowed(principal: CurrentUser) -> Principal:
        if not principal.role.allows(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"a {principal.role.value} key may not do this: it needs the {role.value} role",
            )
        return principal

    allowed.__name__ = f"require_{role.value}"
    return allowed


def _documented(description: str, **headers: str) -> dict[str, Any]:
    response: dict[str, Any] = {"model": ErrorResponse, "description": description}
    if headers:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return response


# What every route behind a key may answer besides its own outcomes.
PROTECTED: dict[int | str, dict[str, Any]] = {
    401: _documented(
        "no API key, or one that is invalid, expired or revoked; the detail says which",
        **{"WWW-Authenticate": "Bearer"},
    ),
    403: _documented("the key's role may not do this (viewer: reads; staff: also changes)"),
    429: _documented(
        "too many failed authentications from this address (or, on a match, too many "
        "changes at once): see Retry-After",
        **{"Retry-After": "seconds to wait"},
    ),
}
