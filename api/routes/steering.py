"""Steering a running match: partners' answers and the Secretariat's actions."""

from collections.abc import Awaitable, Callable
from typing import Any, get_args

from fastapi import APIRouter, Depends, HTTPException, status

from api.deps import PROTECTED, BackendDep, CurrentUser, IdempotencyKey, require
from api.schemas import ErrorResponse
from domain.access import Role
from domain.lifecycle import events as ev
from services import steering
from services.views import UpdateResult

# Answers on a partner's behalf and actions are staff's; who made them is the key's user,
# never a name in the body (the services overwrite ``by`` and ``entered_by``).
router = APIRouter(
    prefix="/api/matches/{match_id}",
    tags=["lifecycle"],
    dependencies=[Depends(require(Role.STAFF))],
    responses=PROTECTED,
)
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "no open match with that id"},
    409: {"model": ErrorResponse, "description": "the rules refused it; the detail says why"},
    422: {"model": ErrorResponse, "description": "a malformed body or Idempotency-Key"},
    429: {
        "model": ErrorResponse,
        "description": "the match is busy, or this address failed to authenticate too often: "
        "see Retry-After",
        "headers": PROTECTED[429]["headers"],
    },
    503: {
        "model": ErrorResponse,
        "description": "Temporal or the database is down: see Retry-After",
    },
}
# URL names that differ from the action's kind
URL_NAMES = {"add_note": "note"}


@router.post("/answers", response_model=UpdateResult, responses=ERRORS)
async def answer(
    match_id: str,
    event: ev.Answered,
    backend: BackendDep,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> UpdateResult:
    """Record a partner's answer to an open prompt, entered on the partner's behalf by the
    key's user (refused with 409 and the reason)."""
    return await steering.answer(
        backend,
        match_id=match_id,
        event=event,
        entered_by=user.actor,
        idempotency_key=idempotency_key,
    )


@router.post("/progress", response_model=UpdateResult, responses=ERRORS)
async def report_progress(
    match_id: str,
    event: ev.ReportProgress,
    backend: BackendDep,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> UpdateResult:
    """Record the adopter's progress during adaptation, at any time (on track, blocked with the
    support needed, piloted, abandoned); an open check-in counts as answered."""
    return await steering.report_progress(
        backend,
        match_id=match_id,
        event=event,
        entered_by=user.actor,
        idempotency_key=idempotency_key,
    )


@router.post("/actions", response_model=UpdateResult, responses=ERRORS)
async def act(
    match_id: str,
    action: ev.Action,
    backend: BackendDep,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> UpdateResult:
    """Apply any Secretariat action, told apart by its ``kind``, as the key's user."""
    return await steering.act(
        backend, match_id=match_id, action=action, by=user.actor, idempotency_key=idempotency_key
    )


def _route_for(model: type) -> Callable[..., Awaitable[UpdateResult]]:
    async def route(
        match_id: str,
        action: model,  # type: ignore[valid-type]  # the model given at run time: FastAPI reads it
        backend: BackendDep,
        user: CurrentUser,
        idempotency_key: IdempotencyKey = None,
    ) -> UpdateResult:
        return await steering.act(
            backend,
            match_id=match_id,
            action=action,
            by=user.actor,
            idempotency_key=idempotency_key,
        )

    route.__doc__ = model.__doc__
    return route


ACTION_NAMES: list[str] = []  # URL names, in the order of the Action union
for _model in get_args(get_args(ev.Action)[0]):
    _kind = _model.model_fields["kind"].default
    _name = URL_NAMES.get(_kind, _kind.replace("_", "-"))
    ACTION_NAMES.append(_name)
    router.add_api_route(
        f"/actions/{_name}",
        _route_for(_model),
        methods=["POST"],
        response_model=UpdateResult,
        responses=ERRORS,
        name=f"act_{_kind}",
        summary=f"Secretariat action: {_name}",
    )


@router.post(
    "/actions/{action}", responses={404: {"model": ErrorResponse}}, include_in_schema=False
)
async def unknown_action(match_id: str, action: str) -> None:
    """An action name that does not exist: say which ones do."""
    raise HTTPException(
        status.HTTP_404_NOT_FOUND, f"unknown action {action!r}; one of {', '.join(ACTION_NAMES)}"
    )
