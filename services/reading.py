"""The read side: matches as the read model holds them, and the health of both backends."""

from domain.enums import FocusArea, MatchStatus, Stage
from services.backend import Backend
from services.errors import MatchNotFound
from services.outages import outages_refused
from services.views import EmailRead, HistoryRead, MatchDetail, MatchList, MatchRead
from store import queries


@outages_refused()
async def list_matches(
    backend: Backend,
    *,
    stage: Stage | None = None,
    status: MatchStatus | None = None,
    focus_area: FocusArea | None = None,
    workshop_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> MatchList:
    """One page of matches, newest first, with the total that match the filters."""
    async with backend.sessions() as session:
        rows, total = await queries.list_matches(
            session,
            stage=stage,
            status=status,
            focus_area=focus_area,
            workshop_id=workshop_id,
            limit=limit,
            offset=offset,
        )
        items = [MatchRead.model_validate(r) for r in rows]
    return MatchList(items=items, total=total, limit=limit, offset=offset)


@outages_refused()
async def get_match(backend: Backend, *, match_id: str) -> MatchDetail:
    """One match with its history and the emails sent for it."""
    async with backend.sessions() as session:
        row = await queries.get_match(session, match_id=match_id)
        if row is None:
            raise MatchNotFound(f"no match with id {match_id!r}")
        history = await queries.list_history(session, match_id=match_id)
        emails = await queries.list_outbox(session, match_id=match_id)
        return MatchDetail(
            **MatchRead.model_validate(row).model_dump(),
            history=[HistoryRead.model_validate(h) for h in history],
            emails=[EmailRead.model_validate(e) for e in emails],
        )


async def health(backend: Backend) -> dict[str, str]:
    """Say for the database and Temporal whether each answers ("ok") or why not."""
    checks: dict[str, str] = {}
    try:
        async with backend.sessions() as session:
            await queries.ping(session)
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        ok = await backend.client.service_client.check_health()
        checks["temporal"] = "ok" if ok else "not serving"
    except Exception as exc:  # noqa: BLE001
        checks["temporal"] = f"unreachable: {type(exc).__name__}"
    return checks
