"""Reading matches: the list, one match with its history and emails, the live state."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.deps import PROTECTED, BackendDep, require
from api.schemas import ErrorResponse, MatchDetail, MatchFilter, MatchList
from domain.access import Role
from domain.lifecycle.state import MatchState
from services import reading, steering
from services.views import MAX_LIMIT, MAX_LIST_OFFSET

# the match list's bounds (deeper than its offset: after=, keyset paging)
MAX_OFFSET = MAX_LIST_OFFSET

__all__ = ["MAX_LIMIT", "MAX_OFFSET", "router"]

router = APIRouter(
    prefix="/api/matches",
    tags=["matches"],
    dependencies=[Depends(require(Role.VIEWER))],
    responses=PROTECTED,
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse}}


@router.get("", response_model=MatchList)
async def list_matches(backend: BackendDep, filters: Annotated[MatchFilter, Query()]) -> MatchList:
    """List matches: every filter given must hold; an unknown parameter is 422, naming it.
    Sorted by ``sort`` (newest first by default), one page of ``limit`` from ``offset`` (at
    most 10,000), or after the cursor ``after``: the ``next`` of the previous page, with the
    same filters and sort (a cursor edited or made for another list is 422, saying so).
    ``total`` counts the matches that pass up to 1,000 past the page's end; beyond that
    ``total_is_lower_bound`` is true and at least ``total`` pass."""
    return await reading.list_matches(backend, filters=filters)


@router.get("/{match_id}", response_model=MatchDetail, responses=NOT_FOUND)
async def get_match(match_id: str, backend: BackendDep) -> MatchDetail:
    """Return one match: its live state from the workflow (null, with a note, when Temporal
    cannot be asked), its whole timeline and the emails sent for it."""
    return await reading.get_match(backend, match_id=match_id)


@router.get("/{match_id}/state", response_model=MatchState, responses=NOT_FOUND)
async def match_state(match_id: str, backend: BackendDep) -> MatchState:
    """Return the live state held by the workflow: stage, status, open prompts, policy, history."""
    return await steering.live_state(backend, match_id=match_id)
