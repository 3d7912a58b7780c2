"""HTTP routes that steer a running match: partner answers, Secretariat actions, live state."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.schemas import ErrorResponse
from domain.lifecycle import events as ev
from domain.lifecycle.state import MatchState
from workflows.contracts import UpdateResult
from workflows.match_lifecycle import MatchLifecycle

router = APIRouter(prefix="/api/matches/{match_id}", tags=["lifecycle"])

# action name in the URL → (workflow update, its input model)
ACTIONS: dict[str, tuple[Any, type[BaseModel]]] = {
    "pause": (MatchLifecycle.pause, ev.Pause),
    "resume": (MatchLifecycle.resume, ev.Resume),
    "extend-deadline": (MatchLifecycle.extend_deadline, ev.ExtendDeadline),
    "change-contact": (MatchLifecycle.change_contact, ev.ChangeContact),
    "advance": (MatchLifecycle.advance, ev.Advance),
    "close": (MatchLifecycle.close, ev.Close),
    "note": (MatchLifecycle.add_note, ev.AddNote),
    "resend": (MatchLifecycle.resend, ev.Resend),
    "schedule-visit": (MatchLifecycle.schedule_visit, ev.ScheduleVisit),
    "cancel-visit": (MatchLifecycle.cancel_visit, ev.CancelVisit),
}
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


@contextmanager
def _not_found_as_404(message: str) -> Iterator[None]:
    try:
        yield
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(status.HTTP_404_NOT_FOUND, message) from exc
        raise


async def _update(request: Request, match_id: str, update: Any, event: BaseModel) -> UpdateResult:
    handle = request.app.state.client.get_workflow_handle(match_id)
    # the workflow never existed, or it has completed: a closed match takes no updates
    with _not_found_as_404(f"no open match with id {match_id!r}"):
        try:
            return await handle.execute_update(update, event, result_type=UpdateResult)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            raise HTTPException(
                status.HTTP_409_CONFLICT, getattr(cause, "message", str(cause))
            ) from exc


@router.get("/state", response_model=MatchState, responses=ERRORS)
async def match_state(match_id: str, request: Request) -> MatchState:
    """Return the live state held by the workflow: stage, status, open prompts, policy, history."""
    handle = request.app.state.client.get_workflow_handle(match_id)
    with _not_found_as_404(f"no match with id {match_id!r}"):
        return await handle.query(MatchLifecycle.state)


@router.post("/answers", response_model=UpdateResult, responses=ERRORS)
async def answer(match_id: str, event: ev.Answered, request: Request) -> UpdateResult:
    """Record a partner's answer to an open prompt (refused with 409 and the reason)."""
    return await _update(request, match_id, MatchLifecycle.answer, event)


@router.post("/actions/{action}", response_model=UpdateResult, responses=ERRORS)
async def act(match_id: str, action: str, body: dict[str, Any], request: Request) -> UpdateResult:
    """Apply a Secretariat action: pause, resume, extend-deadline, change-contact, advance,
    close, note, resend, schedule-visit, cancel-visit."""
    if action not in ACTIONS:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"unknown action {action!r}; one of {', '.join(ACTIONS)}"
        )
    update, model = ACTIONS[action]
    try:
        event = model.model_validate(body)
    except ValidationError as exc:
        from fastapi.exceptions import RequestValidationError

        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc
    return await _update(request, match_id, update, event)
