"""Steering a running match: partners' answers and the Secretariat's actions."""

from collections.abc import Awaitable, Callable
from typing import Any, get_args

from fastapi import APIRouter, HTTPException, status

from api.deps import BackendDep
from api.schemas import ErrorResponse
from domain.lifecycle import events as ev
from services import steering
from services.views import UpdateResult

router = APIRouter(prefix="/api/matches/{match_id}", tags=["lifecycle"])
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "no open match with that id"},
    409: {"model": ErrorResponse, "description": "the rules refused it; the detail says why"},
    422: {"model": ErrorResponse},
}
# URL names that differ from the action's kind
URL_NAMES = {"add_note": "note"}


@router.post("/answers", response_model=UpdateResult, responses=ERRORS)
async def answer(match_id: str, event: ev.Answered, backend: BackendDep) -> UpdateResult:
    """Record a partner's answer to an open prompt (refused with 409 and the reason)."""
    return await steering.answer(backend, match_id=match_id, event=event)


@router.post("/progress", response_model=UpdateResult, responses=ERRORS)
async def report_progress(
    match_id: str, event: ev.ReportProgress, backend: BackendDep
) -> UpdateResult:
    """Record the adopter's progress during adaptation, at any time (on track, blocked with the
    support needed, piloted, abandoned); an open check-in counts as answered."""
    return await steering.report_progress(backend, match_id=match_id, event=event)


@router.post("/actions", response_model=UpdateResult, responses=ERRORS)
async def act(match_id: str, action: ev.Action, backend: BackendDep) -> UpdateResult:
    """Apply any Secretariat action, told apart by its ``kind``."""
    return await steering.act(backend, match_id=match_id, action=action)


def _route_for(model: type) -> Callable[..., Awaitable[UpdateResult]]:
    async def route(match_id: str, action: model, backend: BackendDep) -> UpdateResult:  # type: ignore[valid-type]
        return await steering.act(backend, match_id=match_id, action=action)

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
