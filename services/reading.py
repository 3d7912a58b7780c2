"""The read side: matches as the read model holds them, one match's live state beside its
timeline, and the health of both backends."""

from datetime import UTC, datetime, timedelta

import structlog
from temporalio.service import RPCError, RPCStatusCode

from services.backend import Backend
from services.errors import MatchNotFound
from services.metrics import outbox_verdict, store_figures
from services.outages import engine_down, outages_refused
from services.views import (
    EmailRead,
    HistoryRead,
    LiveState,
    MatchDetail,
    MatchFilter,
    MatchList,
    MatchRead,
)
from store import queries
from workflows.match_lifecycle import MatchLifecycle

logger = structlog.get_logger()
# A detail page does not wait long on Temporal: it shows the read model instead.
LIVE_STATE_TIMEOUT = timedelta(seconds=5)


@outages_refused()
async def list_matches(
    backend: Backend, *, filters: MatchFilter | None = None, now: datetime | None = None
) -> MatchList:
    """One page of the matches that pass the filters, with how many pass them (counted up to
    ``COUNT_CAP`` past the page: beyond, a lower bound)."""
    filters = filters or MatchFilter()
    async with backend.sessions() as session:
        rows, total, capped, following = await queries.list_matches(
            session, filters=filters, now=now or datetime.now(UTC)
        )
        items = [MatchRead.model_validate(r) for r in rows]
    return MatchList(
        items=items,
        total=total,
        total_is_lower_bound=capped,
        limit=filters.limit,
        offset=filters.offset,
        next=following,
    )


@outages_refused()
async def get_match(backend: Backend, *, match_id: str) -> MatchDetail:
    """One match: its live state from the workflow (or a note saying why not), its whole
    timeline and the emails sent for it."""
    async with backend.sessions() as session:
        row = await queries.get_match(session, match_id=match_id)
        if row is None:
            raise MatchNotFound(f"no match with id {match_id!r}")
        history = await queries.list_history(session, match_id=match_id)
        emails = await queries.list_outbox(session, match_id=match_id)
        match = MatchRead.model_validate(row)
    live, note = await _live(backend, workflow_id=match.workflow_id)
    return MatchDetail(
        **match.model_dump(),
        live=live,
        note=note,
        history=[HistoryRead.model_validate(h) for h in history],
        emails=[EmailRead.model_validate(e) for e in emails],
    )


async def _live(backend: Backend, *, workflow_id: str) -> tuple[LiveState | None, str | None]:
    """Ask the workflow where the match stands; on failure, say why in words for the page."""
    handle = backend.client.get_workflow_handle(workflow_id)
    try:
        state = await handle.query(MatchLifecycle.state, rpc_timeout=LIVE_STATE_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None, "Temporal no longer holds this match's workflow: the read model only"
        if engine_down(exc):
            return None, "the workflow service (Temporal) did not answer: the read model only"
        logger.warning("live state unavailable", workflow_id=workflow_id, error=exc.message[:200])
        return None, f"the workflow could not be asked ({exc.message[:200]}): the read model only"
    except Exception as exc:  # noqa: BLE001 - any other failure: the read model still answers
        if not engine_down(exc):
            logger.warning("live state failed", workflow_id=workflow_id, error=repr(exc)[:200])
        return None, "the workflow service (Temporal) did not answer: the read model only"
    return LiveState.of(state), None


async def health(backend: Backend) -> dict[str, str]:
    """Say for the database and Temporal whether each answers ("ok") or why not, and whether
    the outbox drains (``ok``: no email has waited past ``outbox_alert_seconds``)."""
    checks: dict[str, str] = {}
    try:
        async with backend.sessions() as session:
            await queries.ping(session)
        checks["database"] = "ok"
        figures = await store_figures(backend.sessions)
        checks["outbox"] = outbox_verdict(figures, threshold_seconds=backend.outbox_alert_seconds)
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        checks.setdefault("database", f"unreachable: {type(exc).__name__}")
        checks.setdefault("outbox", "unknown: the database did not answer")
    try:
        ok = await backend.client.service_client.check_health()
        checks["temporal"] = "ok" if ok else "not serving"
    except Exception as exc:  # noqa: BLE001
        checks["temporal"] = f"unreachable: {type(exc).__name__}"
    return checks
