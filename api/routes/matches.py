"""Reading matches: the list, one match with its history and emails, the live state."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.deps import PROTECTED, BackendDep, require
from api.schemas import ErrorResponse, MatchDetail, MatchList
from domain.access import Role
from domain.enums import FocusArea, MatchStatus, Stage
from domain.lifecycle.state import MatchState
from services import reading, steering

router = APIRouter(
    prefix="/api/matches",
    tags=["matches"],
    dependencies=[Depends(require(Role.VIEWER))],
    responses=PROTECTED,
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse}}
# A page is bounded both ways: a huge offset or limit is a mistake to name (422), not a query
# for the database to choke on.
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000


@router.get("", response_model=MatchList)
async def list_matches(
    backend: BackendDep,
    stage: Stage | None = None,
    status: MatchStatus | None = None,
    focus_area: FocusArea | None = None,
    workshop_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> MatchList:
    """List matches, newest first, filtered by stage, status, focus area or workshop."""
    return await reading.list_matches(
        backend,
        stage=stage,
        status=status,
        focus_area=focus_area,
        workshop_id=workshop_id,
        limit=limit,
        offset=offset,
    )


@router.get("/{match_id}", response_model=MatchDetail, responses=NOT_FOUND)
async def get_match(match_id: str, backend: BackendDep) -> MatchDetail:
    """Return one match with its history and the emails sent for it."""
    return await reading.get_match(backend, match_id=match_id)


@router.get("/{match_id}/state", response_model=MatchState, responses=NOT_FOUND)
async def match_state(match_id: str, backend: BackendDep) -> MatchState:
    """Return the live state held by the workflow: stage, status, open prompts, policy, history."""
    return await steering.live_state(backend, match_id=match_id)
