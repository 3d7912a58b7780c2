"""The console's first page: the network at a glance, the funnel per workshop, and the
matches that need the Secretariat (attention, or stalled)."""

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services import reading, reports
from services.views import MatchFilter
from web.console.auth import Viewer
from web.console.charts import funnel_chart
from web.console.layout import render

router = APIRouter(include_in_schema=False)

ATTENTION_SHOWN = 20
STALLED_DAYS = 30
STALLED_SHOWN = 20
WORKSHOPS_CHARTED = 24  # the most recent first; the rest are a row of the table below


@router.get("/console", response_class=HTMLResponse)
async def overview(request: Request, user: Viewer) -> HTMLResponse:
    """The network summary, the funnel per workshop, the matches that need attention."""
    backend = request.app.state.backend
    now = datetime.now(UTC)
    summary = await reports.network(backend)
    funnel = await reports.funnel(backend, by="workshop")
    attention = await reading.list_matches(
        backend,
        filters=MatchFilter(needs_attention=True, sort="next_deadline", limit=ATTENTION_SHOWN),
        now=now,
    )
    stalled = await reports.stalled(backend, days=STALLED_DAYS, limit=STALLED_SHOWN, now=now)
    rows = sorted(funnel.rows, key=lambda r: r.key, reverse=True)
    charts = [
        funnel_chart(row, title=f"Funnel of workshop {row.key}") for row in rows[:WORKSHOPS_CHARTED]
    ]
    return render(
        request,
        "overview.html",
        user=user,
        title="Overview",
        summary=summary,
        total_chart=funnel_chart(funnel.total, title="Funnel of every workshop together"),
        charts=charts,
        funnel_rows=rows,
        charted=WORKSHOPS_CHARTED,
        attention=attention,
        stalled=stalled,
        now=now,
    )
