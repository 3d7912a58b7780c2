"""Intake of expressions of interest."""

import structlog
from fastapi import APIRouter, Depends, Response, status

from api.deps import PROTECTED, BackendDep, require
from api.schemas import EoiAccepted, EoiCreate, ErrorResponse
from domain.access import Role
from services import intake

logger = structlog.get_logger()
router = APIRouter(
    prefix="/api/eois",
    tags=["intake"],
    dependencies=[Depends(require(Role.STAFF))],
    responses=PROTECTED,
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EoiAccepted,
    responses={
        200: {"model": EoiAccepted, "description": "this EOI had been submitted before"},
        409: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
    },
)
async def create_eoi(eoi: EoiCreate, response: Response, backend: BackendDep) -> EoiAccepted:
    """Validate an expression of interest and start its match workflow (once)."""
    result = await intake.submit_eoi(backend, eoi=eoi)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    logger.info("eoi submitted", eoi_id=eoi.id, match_id=result.match_id, created=result.created)
    return EoiAccepted(
        match_id=result.match_id,
        workflow_id=result.workflow_id,
        eoi_id=eoi.id,
        created=result.created,
        links={
            "match": f"/api/matches/{result.match_id}",
            "temporal_ui": backend.workflow_url(result.workflow_id),
        },
    )
