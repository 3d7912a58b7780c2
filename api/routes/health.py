"""Liveness of the API and of what it depends on."""

from fastapi import APIRouter, Response, status

from api.deps import BackendDep
from services import reading

router = APIRouter(tags=["operations"])
RETRY_AFTER_SECONDS = 5


@router.get("/healthz")
async def healthz(response: Response, backend: BackendDep) -> dict[str, str]:
    """Answer 200 only when Temporal and the database are reachable; else 503 saying which is
    not (with ``Retry-After``, as every answer about an outage)."""
    checks = await reading.health(backend)
    healthy = all(v == "ok" for v in checks.values())
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return {"status": "ok" if healthy else "unavailable", **checks}
