"""The console's first page: the network at a glance."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.console.auth import Viewer
from web.console.layout import render

router = APIRouter(include_in_schema=False)


@router.get("/console", response_class=HTMLResponse)
async def overview(request: Request, user: Viewer) -> HTMLResponse:
    """The network summary, the funnel per workshop, the matches that need attention."""
    return render(request, "overview.html", user=user, title="Overview")
