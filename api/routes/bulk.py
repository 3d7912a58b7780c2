"""Bulk actions: one Secretariat action on a filtered set of matches, previewed first."""

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status

from api.deps import PROTECTED, BackendDep, CurrentUser, IdempotencyKey, require
from api.schemas import BulkActionRequest, BulkResult, ErrorResponse
from domain.access import Role
from services import bulk

router = APIRouter(
    prefix="/api/bulk-actions",
    tags=["lifecycle"],
    dependencies=[Depends(require(Role.STAFF))],
    responses=PROTECTED,
)
ERRORS: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ErrorResponse,
        "description": "a malformed body or Idempotency-Key, an unknown action or filter, "
        f"neither or both of filter and match_ids, or more than {bulk.MAX_MATCHES} matches "
        "selected (narrow the filter)",
    },
    503: {"model": ErrorResponse, "description": "the database is down: see Retry-After"},
}


@router.post(
    "",
    response_model=BulkResult,
    responses=ERRORS,
    summary="Apply one Secretariat action to many matches (or preview it)",
)
async def bulk_action(
    request: BulkActionRequest,
    backend: BackendDep,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> BulkResult:
    """Apply one Secretariat action to every selected match, as the key's user.

    With ``dry_run`` nothing changes: the answer counts and lists the matches, each with
    whether the rules would accept the action now (``would_apply``) or why not. Otherwise each
    match is tried (a few at a time; a refusal or failure stops no other) and the answer says
    per match ``applied``, ``refused`` with the rules' reason, or ``failed`` (not tried: the
    workflow service did not answer, …), with totals. The same Idempotency-Key again applies
    nothing twice; without one, the answer names the key it generated. The matches a filter
    selects are read from the records, which follow the workflows within moments."""
    try:
        return await bulk.run(backend, request, by=user.actor, idempotency_key=idempotency_key)
    except bulk.TooMany as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
