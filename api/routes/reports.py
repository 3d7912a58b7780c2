"""Reports: the funnel, the stalled matches and the network summary, as JSON or CSV."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from api.deps import PROTECTED, BackendDep, require
from domain.access import Role
from services import reports
from services.reports import (
    FunnelBy,
    FunnelReport,
    NetworkSummary,
    ReportFilter,
    StalledList,
)
from services.views import MAX_LIMIT, MAX_OFFSET

router = APIRouter(
    prefix="/api/reports",
    tags=["reports"],
    dependencies=[Depends(require(Role.VIEWER))],
    responses=PROTECTED,
)
Format = Literal["json", "csv"]
FORMAT_HELP = "json (the default) or csv; an `Accept: text/csv` header asks for CSV too"
CSV_TOO: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "JSON, or CSV (with a Content-Disposition filename) when asked for",
    }
}


class FunnelQuery(ReportFilter):
    by: FunnelBy = Field(default="workshop", description="one row per this key")
    format: Format | None = Field(default=None, description=FORMAT_HELP)


class StalledQuery(ReportFilter):
    days: int = Field(default=30, ge=1, le=3650, description="no movement for this many days")
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    format: Format | None = Field(default=None, description=FORMAT_HELP)


class NetworkQuery(ReportFilter):
    format: Format | None = Field(default=None, description=FORMAT_HELP)


def _wants_csv(request: Request, format: Format | None) -> bool:
    if format is not None:
        return format == "csv"
    return "text/csv" in request.headers.get("accept", "")


def _csv(text: str, filename: str) -> Response:
    return Response(
        content=text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _filters(query: ReportFilter) -> ReportFilter:
    return ReportFilter(**query.model_dump(include=set(ReportFilter.model_fields)))


@router.get("/funnel", response_model=FunnelReport, responses=CSV_TOO)
async def funnel(
    request: Request, backend: BackendDep, query: Annotated[FunnelQuery, Query()]
) -> Any:
    """The funnel, one row per workshop, focus area, country, solution or year (``by``): how
    many reached each step, the conversion from the step before, the median whole days spent
    in each stage, the closes by reason; and every row together. Unknown parameters are 422."""
    report = await reports.funnel(backend, by=query.by, filters=_filters(query))
    if _wants_csv(request, query.format):
        return _csv(reports.funnel_csv(report), f"funnel-by-{query.by}.csv")
    return report


@router.get("/stalled", response_model=StalledList, responses=CSV_TOO)
async def stalled(
    request: Request, backend: BackendDep, query: Annotated[StalledQuery, Query()]
) -> Any:
    """The open matches that have not moved (a stage change, an answer, a visit, an outcome)
    for ``days`` days, longest still first."""
    report = await reports.stalled(
        backend, days=query.days, filters=_filters(query), limit=query.limit, offset=query.offset
    )
    if _wants_csv(request, query.format):
        return _csv(reports.stalled_csv(report), f"stalled-{query.days}-days.csv")
    return report


@router.get("/network", response_model=NetworkSummary, responses=CSV_TOO)
async def network(
    request: Request, backend: BackendDep, query: Annotated[NetworkQuery, Query()]
) -> Any:
    """The network's figures from the records (workshops, opportunities, countries,
    institutions, field visits, adaptations, outcomes and their impact) and the sentence the
    Network publishes them in."""
    summary = await reports.network(backend, filters=_filters(query))
    if _wants_csv(request, query.format):
        return _csv(reports.network_csv(summary), "network.csv")
    return summary
