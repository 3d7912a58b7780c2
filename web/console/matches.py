"""The matches: a table with every filter of ``GET /api/matches`` (the same ``MatchFilter``
and use case), sortable and paginated, the filter in the URL so a view can be bookmarked.
An htmx request (the filter form, a sort or page link) gets the table alone, swapped in place,
and the browser's address follows (``hx-push-url``)."""

from datetime import UTC, datetime
from typing import Any, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from domain.access import Role
from domain.enums import CloseReason, FocusArea, MatchStatus, Party, Stage
from services import reading
from services.views import MatchFilter, MatchList, MatchSort
from web.console.auth import Viewer
from web.console.layout import render

router = APIRouter(include_in_schema=False)

PAGE_SIZES = (25, 50, 100, 200)
# column → (ascending, descending) sort; the first click sorts the way people expect
SORTABLE = {
    "stage": ("stage", "stage"),
    "next_deadline": ("next_deadline", "-next_deadline"),
    "created_at": ("created_at", "-created_at"),
    "updated_at": ("updated_at", "-updated_at"),
}
CHOICES: dict[str, list[str]] = {
    "stage": [s.value for s in Stage],
    "status": [s.value for s in MatchStatus],
    "close_reason": [r.value for r in CloseReason],
    "focus_area": [f.value for f in FocusArea],
    "waiting_on": [p.value for p in Party],
    "sort": list(get_args(MatchSort)),
}
PAGING = ("limit", "offset")


def filter_from(params: dict[str, str]) -> MatchFilter:
    """The filter of a query string: empty fields are no criterion; the rest as the API reads
    them (ValidationError names a wrong or unknown one)."""
    return MatchFilter.model_validate({k: v.strip() for k, v in params.items() if v.strip()})


def query_of(filters: MatchFilter, **changes: Any) -> str:
    """The URL query of a filter (only what differs from the defaults), with ``changes``."""
    values = filters.model_dump(exclude_defaults=True, mode="json") | changes
    defaults = MatchFilter().model_dump(mode="json")
    kept = {k: v for k, v in values.items() if v is not None and v != defaults.get(k)}
    return urlencode({k: str(v).lower() if isinstance(v, bool) else v for k, v in kept.items()})


def sort_link(filters: MatchFilter, column: str) -> tuple[str, str | None]:
    """The link of a column's header (the other direction when sorted by it) and its
    ``aria-sort`` (None: not sorted by it)."""
    ascending, descending = SORTABLE[column]
    if filters.sort == ascending:
        return f"?{query_of(filters, sort=descending, offset=0)}", "ascending"
    if filters.sort == descending:
        return f"?{query_of(filters, sort=ascending, offset=0)}", "descending"
    first = descending if column in ("created_at", "updated_at") else ascending
    return f"?{query_of(filters, sort=first, offset=0)}", None


def pages(filters: MatchFilter, found: MatchList) -> dict[str, Any]:
    """Where the previous and next pages are, and which matches this page shows."""
    limit, offset = filters.limit, filters.offset
    more = offset + len(found.items) < found.total
    return {
        "first": offset + 1 if found.items else 0,
        "last": offset + len(found.items),
        "previous": f"?{query_of(filters, offset=max(0, offset - limit))}" if offset else None,
        "next": f"?{query_of(filters, offset=offset + limit)}" if more else None,
    }


def _errors(exc: ValidationError) -> list[str]:
    said = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "filter"
        if error["type"] == "extra_forbidden":
            said.append(f"{field}: not a filter of this list")
        else:
            said.append(f"{field}: {error['msg']}")
    return said


@router.get("/console/matches", response_class=HTMLResponse)
async def list_matches(request: Request, user: Viewer) -> HTMLResponse:
    """The matches that pass the filter in the URL, one page of them."""
    params = dict(request.query_params)
    partial = request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results"
    try:
        filters = filter_from(params)
    except ValidationError as exc:
        # htmx swaps only a 2xx answer: the table's place says what is wrong instead
        return render(
            request,
            "_filter_errors.html" if partial else "matches.html",
            user=user,
            status=200 if partial else 422,
            title="Matches",
            filters=MatchFilter(),
            values=params,
            errors=_errors(exc),
            found=None,
            **_helpers(),
        )
    now = datetime.now(UTC)
    found = await reading.list_matches(request.app.state.backend, filters=filters, now=now)
    return render(
        request,
        "_match_results.html" if partial else "matches.html",
        user=user,
        title="Matches",
        filters=filters,
        values=filters.model_dump(mode="json"),
        errors=[],
        found=found,
        paging=pages(filters, found),
        bulk_query=query_of(filters, offset=0),
        now=now,
        **_helpers(),
    )


def _helpers() -> dict[str, Any]:
    return {
        "choices": CHOICES,
        "ROLE_STAFF": Role.STAFF,
        "page_sizes": PAGE_SIZES,
        "sort_link": sort_link,
        "label": lambda v: str(v).replace("_", " "),
    }
