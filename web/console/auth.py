"""Who is signed in to the console, and the checks every console request passes.

``require_console(Role.X)`` is the one dependency of every console page: it names the
signed-in user (a request without a live session is sent to sign in, with a ``next`` that
stays on the console), checks the CSRF token and the Origin of every POST, and refuses a user
whose role does not allow ``X`` with a 403 page. The actor of every action is this user."""

import hmac
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote, urlsplit

import structlog
from fastapi import Depends, Request
from fastapi.responses import Response

from api.deps import BackendDep
from domain.access import Role
from infra.settings import Settings
from services import console_auth
from services.console_auth import ConsoleUser, NewSession
from web.console.layout import ConsoleProblem
from web.pages import cross_site

logger = structlog.get_logger()

COOKIE = "mm_console"
SIGN_IN = "/console/sign-in"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


class SignInNeeded(Exception):
    """No live session: the browser is sent to sign in, and back to ``next`` afterwards."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in to use the console")
        self.next_path = next_path


def settings_of(request: Request) -> Settings:
    found: Settings = request.app.state.settings  # the app's state holds Any
    return found


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a console path of this site, never another site."""
    if not value or "\\" in value or any(ord(c) < 32 for c in value):
        return "/console"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/console"):
        return "/console"
    if parts.path.startswith(SIGN_IN):
        return "/console"
    return value


def sign_in_url(next_path: str) -> str:
    return f"{SIGN_IN}?next={quote(safe_next(next_path), safe='/')}"


def here(request: Request) -> str:
    """The path and query of a request (what ``next`` brings the user back to)."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def set_session_cookie(response: Response, settings: Settings, new: NewSession) -> None:
    response.set_cookie(
        COOKIE,
        new.token,
        max_age=settings.console_session_hours * 3600,
        path="/console",
        secure=settings.console_cookie_secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE,
        path="/console",
        secure=settings.console_cookie_secure,
        httponly=True,
        samesite="lax",
    )


async def signed_in(request: Request, backend: BackendDep) -> ConsoleUser | None:
    """The user of the request's session, or None."""
    settings = settings_of(request)
    user = await console_auth.current_user(
        backend.sessions,
        token=request.cookies.get(COOKIE),
        idle=timedelta(minutes=settings.console_idle_minutes),
    )
    if user is not None:
        request.state.actor = user.actor  # the access log names who acted
        request.state.console_user = user
    return user


async def check_post(request: Request, user: ConsoleUser) -> None:
    """Refuse a POST sent from another site's page, or without this session's CSRF token."""
    if cross_site(request):
        logger.warning("console post refused", reason="cross-site", path=request.url.path)
        raise ConsoleProblem(403, "This form can only be sent from the console's own pages.")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()  # parsed once: the route reads the same form
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), user.csrf_token.encode()):
        logger.warning("console post refused", reason="csrf", path=request.url.path)
        raise ConsoleProblem(
            403,
            "This form is out of date or was not sent from the console: reload the page and "
            "send it again.",
        )


def require_console(role: Role) -> Callable[..., Awaitable[ConsoleUser]]:
    """A dependency giving the signed-in user whose role allows ``role`` (POSTs checked)."""

    async def allowed(
        request: Request, user: Annotated[ConsoleUser | None, Depends(signed_in)]
    ) -> ConsoleUser:
        if user is None:
            raise SignInNeeded(here(request) if request.method == "GET" else "/console")
        if request.method not in ("GET", "HEAD"):
            await check_post(request, user)
        if not user.may(role):
            raise ConsoleProblem(
                403,
                f"You are signed in as a {user.role.value}: this needs the {role.value} role. "
                "Ask the Secretariat's administrator if you need it.",
            )
        return user

    allowed.__name__ = f"console_{role.value}"
    return allowed


Viewer = Annotated[ConsoleUser, Depends(require_console(Role.VIEWER))]
Staff = Annotated[ConsoleUser, Depends(require_console(Role.STAFF))]
Admin = Annotated[ConsoleUser, Depends(require_console(Role.ADMIN))]
