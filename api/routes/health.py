"""Liveness of the API and of what it depends on."""

from fastapi import APIRouter, Response, status

from api.deps import BackendDep
from services import reading

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz(response: Response, backend: BackendDep) -> dict[str, str]:
    """Answer 200 only when Temporal and the database are reachable."""
    checks = await reading.health(backend)
    healthy = all(v == "ok" for v in checks.values())
    response.status_code = status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "ok" if healthy else "unavailable", **checks}
