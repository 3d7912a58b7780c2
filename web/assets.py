"""Where the pages' stylesheets and scripts are served (vendored: no page reaches the internet)."""

from pathlib import Path
from typing import Any

from jinja2 import pass_context

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/static"


@pass_context
def static_url(context: Any, path: str) -> str:
    """The path of a static file, under the app's root path: a plain string, where Starlette's
    ``url_for`` would search every route of the app for each asset of each page."""
    root = context["request"].scope.get("root_path", "")
    return f"{root}{STATIC_PATH}/{path}"
