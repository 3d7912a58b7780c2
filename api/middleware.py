"""Pure ASGI middleware of the API: a bound on request bodies, and one access-log line per
request under a request id. Pure ASGI (not ``BaseHTTPMiddleware``) so that a body is counted
as it streams and the request's context variables reach the route."""

import re
import time
import uuid

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.metrics import HTTP_LATENCY

access_log = structlog.get_logger("api.access")

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming request id is kept when it is a plain token (what tracing headers and UUIDs
# look like); anything else (spaces, quotes, an address, a novel) is replaced by a fresh one.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+/=-]{0,127}")


class BodyLimit:
    """Refuse a request body over ``max_bytes`` with 413 before it is read: at once when its
    Content-Length says so, else (a chunked body) as soon as the chunks received pass it."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> str:
        return f"request body over {self.max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = JSONResponse({"detail": self._too_large(), "errors": []}, status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI lets an HTTPException raised while reading the body through to
                    # the app's handler, which answers it
                    raise HTTPException(413, self._too_large())
            return message

        await self.app(scope, counted, send)


def request_id_of(scope: Scope) -> str:
    """The caller's ``X-Request-ID`` when it is a sane token, else a fresh one."""
    incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
    return incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def _route_of(scope: Scope) -> str | None:
    """The template of the route that answered (``/api/matches/{match_id}``), which the
    router leaves in the scope; None when no route matched."""
    return getattr(scope.get("route"), "path", None)


class RequestLog:
    """Give each request an id (bound for every log line it causes and echoed in the answer)
    and write exactly one access-log line when it ends: method, route template, status,
    duration, actor and key id (``request.state``, once authentication sets them) and request
    id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        started = time.perf_counter()
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                if status is None:  # nothing answered yet: say 500 with the request id
                    detail = f"internal error; request id {request_id}"
                    response = JSONResponse({"detail": detail, "errors": []}, status_code=500)
                    await response(scope, receive, send_with_id)
                raise
            finally:
                elapsed = time.perf_counter() - started
                HTTP_LATENCY.labels(
                    method=scope["method"],
                    route=_route_of(scope) or "unmatched",
                    status=str(status or 500),
                ).observe(elapsed)
                access_log.info(
                    "request",
                    method=scope["method"],
                    route=_route_of(scope),
                    status=status,
                    duration_ms=round(elapsed * 1000, 1),
                    actor=scope.get("state", {}).get("actor"),
                    key_id=scope.get("state", {}).get("key_id"),
                    request_id=request_id,
                )
