"""Sign in (GET shows the form, POST checks the password) and sign out.

The sign-in form has no session yet to carry a CSRF token: it carries a random one that is
also in a short-lived cookie (double submit), and its Origin is checked, so another site cannot
sign a browser in under someone else's account. Failed sign-ins are counted per client address
and per account; past the limit, sign-in answers 429. Logs name neither the password nor the
address (a short hash of it)."""

import hmac
import secrets
from datetime import timedelta

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import BackendDep, client_address
from api.throttle import SharedLimiter
from services import console_auth
from services.console_auth import SignInFailed
from web.console import auth
from web.console.layout import render
from web.pages import cross_site

logger = structlog.get_logger()
router = APIRouter(include_in_schema=False)

PRE_COOKIE = "mm_console_form"
FIELD_MAX = 1024


def limiter_of(request: Request) -> SharedLimiter:
    found: SharedLimiter = request.app.state.console_sign_in_failures  # the app's state holds Any
    return found


def _form_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "sign_in.html",
        user=None,
        status=status,
        headers=headers,
        title="Sign in",
        next_path=next_path,
        email=email,
        error=error,
        form_token=token,
    )
    response.set_cookie(
        PRE_COOKIE,
        token,
        max_age=3600,
        path=auth.SIGN_IN,
        secure=auth.settings_of(request).console_cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response


@router.get(auth.SIGN_IN, response_class=HTMLResponse)
async def sign_in_form(request: Request, backend: BackendDep, next: str = "") -> Response:
    """The sign-in form (or, already signed in, where ``next`` points)."""
    if await auth.signed_in(request, backend) is not None:
        return RedirectResponse(auth.safe_next(next), status_code=303)
    return _form_page(request, next_path=auth.safe_next(next))


@router.post(auth.SIGN_IN, response_class=HTMLResponse)
async def sign_in(request: Request, backend: BackendDep) -> Response:
    """Check the address and password; open a session and go where ``next`` points."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    next_path = auth.safe_next(form.get("next"))
    email = form.get("email", "")[:FIELD_MAX].strip()
    password = form.get("password", "")
    sent, kept = form.get(auth.CSRF_FIELD, ""), request.cookies.get(PRE_COOKIE, "")
    # both must be there: a missing cookie matched by a guessable field is no proof
    if (
        cross_site(request)
        or not sent
        or not kept
        or not hmac.compare_digest(sent.encode(), kept.encode())
    ):
        logger.warning("console sign-in refused", reason="csrf")
        return _form_page(
            request,
            next_path=next_path,
            email=email,
            error="This form is out of date or was not sent from this page: please sign in again.",
            status=403,
        )
    limiter, client = limiter_of(request), client_address(request)
    account = f"account:{console_auth.account_tag(email)}"
    wait = max(await limiter.retry_after(client) or 0, await limiter.retry_after(account) or 0)
    if wait:
        logger.warning("console sign-in refused", reason="rate", client=client)
        return _form_page(
            request,
            next_path=next_path,
            email=email,
            error=f"Too many failed sign-ins just now. Please wait {wait} seconds and try again.",
            status=429,
            headers={"Retry-After": str(wait)},
        )
    if not email or not password or len(password) > FIELD_MAX:
        return _form_page(
            request,
            next_path=next_path,
            email=email,
            error="Enter your email address and your password.",
            status=422,
        )
    settings = auth.settings_of(request)
    try:
        new = await console_auth.sign_in(
            backend.sessions,
            email=email,
            password=password,
            lifetime=timedelta(hours=settings.console_session_hours),
        )
    except SignInFailed as exc:
        await limiter.failed(client)
        await limiter.failed(account)
        logger.warning(
            "console sign-in failed", account=console_auth.account_tag(email), client=client
        )
        return _form_page(
            request, next_path=next_path, email=email, error=f"{exc}.".capitalize(), status=401
        )
    logger.info("console sign-in", account=console_auth.account_tag(email), client=client)
    response = RedirectResponse(next_path, status_code=303)
    auth.set_session_cookie(response, settings, new)
    response.delete_cookie(PRE_COOKIE, path=auth.SIGN_IN)
    return response


@router.post("/console/sign-out", response_class=HTMLResponse)
async def sign_out(request: Request, backend: BackendDep, user: auth.Viewer) -> Response:
    """End the session (for good: the cookie no longer signs anyone in)."""
    await console_auth.sign_out(backend.sessions, token=request.cookies.get(auth.COOKIE))
    response = RedirectResponse(auth.SIGN_IN, status_code=303)
    auth.clear_session_cookie(response, auth.settings_of(request))
    return response
