"""What every console page shares: the templates, the navigation, the error pages."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

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


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _environment() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    env.filters["when"] = _when
    env.filters["day"] = lambda m: "—" if m is None else m.astimezone(UTC).strftime("%Y-%m-%d")
    env.globals["static_url"] = static_url
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
