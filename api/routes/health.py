"""Liveness of the API and of what it depends on."""

from fastapi import APIRouter, Response, status

from api.deps import BackendDep
from services import reading

router = APIRouter(tags=["operations"])
RETRY_AFTER_SECONDS = 5


@router.get("/healthz")
async def healthz(response: Response, backend: BackendDep) -> dict[str, str]:
    """Answer 200 only when Temporal and the database are reachable; else 503 saying which is
    not (with ``Retry-After``, as every answer about an outage). ``outbox`` says whether
    emails drain; an outbox behind makes the status ``degraded`` but stays 200: the API still
    serves, and pulling it out of a load balancer would not send one email more."""
    checks = await reading.health(backend)
    healthy = checks["database"] == "ok" and checks["temporal"] == "ok"
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    verdict = "unavailable" if not healthy else "ok" if checks["outbox"] == "ok" else "degraded"
    return {"status": verdict, **checks}
