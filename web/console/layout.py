"""What every console page shares: the templates, the navigation, the error pages."""

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context

from api.deps import BackendDep
from services.calendar import known_calendar
from services.console_auth import ConsoleUser
from web.assets import static_url

TEMPLATES_DIR = Path(__file__).parent.parent / "templates"

# The navigation, in order: (label, path). A page of the console adds its entry here.
NAV: list[tuple[str, str]] = [
    ("Overview", "/console"),
    ("Matches", "/console/matches"),
    ("Bulk", "/console/bulk"),
    ("Import", "/console/import"),
    ("Case studies", "/console/case-studies"),
]

TITLES = {
    400: "This request cannot be understood",
    401: "Please sign in",
    403: "You may not do this",
    404: "Not found",
    405: "Not allowed here",
    409: "Refused",
    413: "Too large",
    422: "Something in the request is not right",
    429: "Too many attempts",
    503: "Matchmaker is busy",
}


async def stack_calendar(request: Request, backend: BackendDep) -> None:
    """Every console page shows dates on the stack's calendar: a training stack's compressed
    one (MATCHMAKER_DAY_SECONDS), when it has one; a page still renders without it."""
    request.state.calendar = None
    if backend.compressed_days:
        with contextlib.suppress(Exception):  # the database may be down: real time then
            request.state.calendar = await known_calendar(backend)


@pass_context
def _when(context: Context, moment: datetime | None) -> str:
    if moment is None:
        return "—"
    calendar = context.get("calendar")
    if calendar is not None:  # the training stack's own time, which its emails speak
        shown: str = calendar.time_at(moment).strftime("%Y-%m-%d %H:%M")
        return shown
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@pass_context
def _day(context: Context, moment: datetime | None) -> str:
    if moment is None:
        return "—"
    calendar = context.get("calendar")
    day = calendar.today(moment) if calendar is not None else moment.astimezone(UTC).date()
    return day.strftime("%Y-%m-%d")


def _environment() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    env.filters["when"] = _when
    env.filters["day"] = _day
    env.globals["static_url"] = static_url
    env.globals["clock_now"] = lambda: datetime.now(UTC)
    return Jinja2Templates(env=env)


templates = _environment()


class ConsoleProblem(Exception):
    """A console request refused with a status and a sentence saying why (an error page)."""

    def __init__(self, status: int, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.title = title or TITLES.get(status, "Something went wrong")


def current_section(path: str) -> str:
    """The navigation entry a path is under (the longest that prefixes it)."""
    matches = [href for _, href in NAV if path == href or path.startswith(href + "/")]
    return max(matches, key=len) if matches else ""


def render(
    request: Request,
    template: str,
    *,
    user: ConsoleUser | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A console page (``console/<template>``) for the signed-in ``user`` (None: signed out)."""
    response = templates.TemplateResponse(
        request,
        f"console/{template}",
        {
            **context,
            "calendar": getattr(request.state, "calendar", None),
            "user": user,
            "nav": NAV,
            "section": current_section(request.url.path),
        },
        status_code=status,
        headers=headers,
    )
    # pages show personal data and a CSRF token: never cached, never framed
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def problem_page(
    request: Request,
    status: int,
    message: str,
    *,
    user: ConsoleUser | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """An error page: the status, a title and a sentence saying what is wrong."""
    return render(
        request,
        "problem.html",
        user=user,
        status=status,
        headers=headers,
        title=title or TITLES.get(status, "Something went wrong"),
        message=message,
        code=status,
    )
