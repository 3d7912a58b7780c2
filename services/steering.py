"""Steering a running match: a partner's answer or a Secretariat action, and the live state."""

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from temporalio.client import (
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from domain.lifecycle import events as ev
from domain.lifecycle.state import MatchState
from domain.model import is_match_id
from infra.metrics import ACTIONS, ANSWERS
from services.backend import Backend
from services.errors import EngineUnavailable, MatchNotFound, MoveRefused
from services.outages import outages_refused
from workflows.contracts import UpdateResult
from workflows.match_lifecycle import MatchLifecycle


@contextmanager
def _missing_as(match_id: str, message: str) -> Iterator[None]:
    """Say ``MatchNotFound`` when Temporal has no such workflow, and for an id that no EOI can
    produce without asking (Temporal refuses an overlong id as a bad request, not as missing)."""
    if not is_match_id(match_id):
        raise MatchNotFound(message)
    try:
        yield
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise MatchNotFound(message) from exc
        raise


def update_id_for(match_id: str, operation: str, idempotency_key: str | None) -> str | None:
    """The Temporal Update id of a request the caller named with an idempotency key.

    Temporal answers an Update whose id it has seen in this run with the first one's outcome
    and applies it once, so a retried request changes nothing more. The id is a digest of the
    match, the operation and the key, never the key itself: what a caller sends stays out of
    the workflow history, and one key on two operations names two requests."""
    if idempotency_key is None:
        return None  # Temporal gives the Update a fresh id
    named = "\0".join((match_id, operation, idempotency_key)).encode()
    return f"idem-{hashlib.sha256(named).hexdigest()[:32]}"


def _result_of(exc: BaseException | None) -> str:
    """The ``result`` label of an answer or action: applied, refused, not_found or failed."""
    if exc is None:
        return "applied"
    if isinstance(exc, MoveRefused):
        return "refused"
    return "not_found" if isinstance(exc, MatchNotFound) else "failed"


async def _update(
    backend: Backend,
    match_id: str,
    update: Any,
    event: Any,
    *,
    update_id: str | None,
    counted: Callable[[str], None],
) -> UpdateResult:
    """Run the Update and count its result (``counted`` is given the label)."""
    try:
        result = await _run_update(backend, match_id, update, event, update_id=update_id)
    except BaseException as exc:
        counted(_result_of(exc))
        raise
    counted(_result_of(None))
    return result


def _answer_counter(operation: str) -> Callable[[str], None]:
    return lambda result: ANSWERS.labels(operation=operation, result=result).inc()


async def _run_update(
    backend: Backend, match_id: str, update: Any, event: Any, *, update_id: str | None
) -> UpdateResult:
    handle = backend.client.get_workflow_handle(match_id)
    # the workflow never existed, or it has completed: a closed match takes no change
    with _missing_as(match_id, f"no open match with id {match_id!r}"):
        try:
            result: UpdateResult = await handle.execute_update(
                update, event, id=update_id, result_type=UpdateResult
            )
            return result
        except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
            raise EngineUnavailable(
                f"match {match_id} did not answer in time; nothing was changed unless its "
                "state now shows it: try again"
            ) from exc
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            code, params = _refusal_details(cause)
            message = getattr(cause, "message", None) or str(cause)
            raise MoveRefused(message, code=code, params=params) from exc


def _refusal_details(cause: BaseException | None) -> tuple[str | None, dict[str, str]]:
    """The code and parameters of the rules' refusal (none from a workflow that sent none)."""
    details = getattr(cause, "details", None) or ()
    first = details[0] if details else None
    if not isinstance(first, dict) or not isinstance(first.get("code"), str):
        return None, {}
    params = first.get("params")
    return first["code"], {str(k): str(v) for k, v in (params or {}).items()}


@outages_refused()
async def answer(
    backend: Backend,
    *,
    match_id: str,
    event: ev.Answered,
    entered_by: str | None,
    idempotency_key: str | None = None,
) -> UpdateResult:
    """Give a partner's answer, entered on their behalf by ``entered_by`` (whatever the event
    said; None: the partner answered themself, through their signed link), to the match;
    MoveRefused says why the rules refused it."""
    event = event.model_copy(update={"entered_by": entered_by})
    update_id = update_id_for(match_id, "answer", idempotency_key)
    return await _update(
        backend,
        match_id,
        MatchLifecycle.answer,
        event,
        update_id=update_id,
        counted=_answer_counter("answer"),
    )


@outages_refused()
async def report_progress(
    backend: Backend,
    *,
    match_id: str,
    event: ev.ReportProgress,
    entered_by: str | None,
    idempotency_key: str | None = None,
) -> UpdateResult:
    """Give the adopter's progress report during adaptation (asked by a check-in or not),
    entered on their behalf by ``entered_by`` (None: the adopter, at their own page)."""
    event = event.model_copy(update={"entered_by": entered_by})
    update_id = update_id_for(match_id, "report_progress", idempotency_key)
    return await _update(
        backend,
        match_id,
        MatchLifecycle.report_progress,
        event,
        update_id=update_id,
        counted=_answer_counter("report_progress"),
    )


@outages_refused()
async def partner_request(
    backend: Backend,
    *,
    match_id: str,
    event: ev.LinkRequested | ev.HelpRequested,
    idempotency_key: str | None = None,
) -> UpdateResult:
    """A partner's request from their own pages: a fresh link, or the Secretariat's help."""
    update_id = update_id_for(match_id, f"partner:{event.kind}", idempotency_key)
    return await _update(
        backend,
        match_id,
        MatchLifecycle.partner_request,
        event,
        update_id=update_id,
        counted=_answer_counter(f"request:{event.kind}"),
    )


@outages_refused()
async def act(
    backend: Backend,
    *,
    match_id: str,
    action: ev.Action,
    by: str,
    idempotency_key: str | None = None,
) -> UpdateResult:
    """Apply a Secretariat action to the match as ``by`` (whatever the action said);
    MoveRefused says why the rules refused it."""
    action = action.model_copy(update={"by": by})
    update_id = update_id_for(match_id, f"act:{action.kind}", idempotency_key)
    return await _update(
        backend,
        match_id,
        MatchLifecycle.act,
        action,
        update_id=update_id,
        counted=lambda result: ACTIONS.labels(action=action.kind, result=result).inc(),
    )


@outages_refused()
async def live_state(backend: Backend, *, match_id: str) -> MatchState:
    """The state the workflow holds now: stage, status, open prompts, policy, history."""
    handle = backend.client.get_workflow_handle(match_id)
    with _missing_as(match_id, f"no match with id {match_id!r}"):
        return await handle.query(MatchLifecycle.state)
