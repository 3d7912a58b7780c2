"""Pages of the navigation not built yet: each says so (a page that is built replaces its
entry here by its own module in ``PAGES``)."""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.console.auth import Viewer
from web.console.layout import render

router = APIRouter(include_in_schema=False)

COMING: dict[str, str] = {}


def _placeholder(title: str) -> Callable[[Request, Viewer], Awaitable[HTMLResponse]]:
    async def page(request: Request, user: Viewer) -> HTMLResponse:
        return render(request, "placeholder.html", user=user, title=title)

    return page


for _path, _title in COMING.items():
    router.add_api_route(_path, _placeholder(_title), methods=["GET"], response_class=HTMLResponse)
