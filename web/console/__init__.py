"""The Secretariat's web console (/console): server-rendered pages over services/.

``install(app)`` adds its pages, its sign-in limiter and its error pages to the application.
A page is a module of this package with a ``router``, listed in ``PAGES`` (docs/console.md)."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from api.throttle import SIGN_IN, SharedLimiter
from web.console import (
    auth,
    bulk,
    case_studies,
    imports,
    layout,
    match_detail,
    matches,
    overview,
    placeholders,
    sign_in,
)

# every module of web/console/ that serves pages, each with its ``router``
PAGES = (sign_in, overview, matches, match_detail, placeholders, bulk, imports, case_studies)


def _sign_in_needed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, auth.SignInNeeded)
    target = auth.sign_in_url(exc.next_path)
    if request.headers.get("HX-Request"):
        # htmx would swap the sign-in page into a table: have it load the page instead
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, layout.ConsoleProblem)
    user = getattr(request.state, "console_user", None)
    return layout.problem_page(request, exc.status, str(exc), user=user, title=exc.title)


Handler = Callable[[Request, Any], Awaitable[Response] | Response]


def _html_on_console(json_handler: Handler) -> Handler:
    """The app's handler for an error, answering an HTML page on the console's paths (the
    same status, message and Retry-After as the JSON the API answers)."""

    async def handler(request: Request, exc: Any) -> Response:
        answer = json_handler(request, exc)
        response: Response = await answer if isinstance(answer, Awaitable) else answer
        if not request.url.path.startswith("/console"):
            return response
        message = getattr(exc, "detail", None) or str(exc) or "Something went wrong."
        if response.status_code == 422:
            message = "Something in the address or the form is not right: " + str(exc)[:300]
        headers = {k: v for k, v in response.headers.items() if k.lower() == "retry-after"}
        user = getattr(request.state, "console_user", None)
        return layout.problem_page(
            request, response.status_code, str(message), user=user, headers=headers or None
        )

    return handler


def install(app: FastAPI) -> None:
    """Add the console to the application (after its API's error handlers)."""
    backend = app.state.backend
    app.state.console_sign_in_failures = SharedLimiter(
        backend.sessions if backend is not None else None,
        scope=SIGN_IN,
        limit=app.state.settings.console_sign_in_failures_per_minute,
    )
    for error, json_handler in list(app.exception_handlers.items()):
        app.exception_handlers[error] = _html_on_console(json_handler)
    app.add_exception_handler(auth.SignInNeeded, _sign_in_needed)
    app.add_exception_handler(layout.ConsoleProblem, _problem)
    for module in PAGES:
        app.include_router(module.router, dependencies=[Depends(layout.stack_calendar)])
