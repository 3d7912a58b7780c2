"""One match: where it stands, what is awaited from whom and by when, the timeline, the emails
and their status, a link to its workflow in the Temporal UI; and, for staff, every Secretariat
action as a form, then a confirmation step, then the rules' answer (applied, or refused with
the rules' sentence)."""

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.access import Role
from services import reading, steering
from services.errors import MoveRefused
from services.views import MatchDetail
from web.console.actions import FORM_ERROR, FORMS, ActionForm, action_of, summary_of, values_of
from web.console.auth import Staff, Viewer
from web.console.layout import ConsoleProblem, render

logger = structlog.get_logger()
router = APIRouter(include_in_schema=False)
KEY_FIELD = "idempotency_key"


def temporal_link(request: Request, workflow_id: str) -> str:
    settings = request.app.state.settings
    namespace = quote(settings.temporal_namespace, safe="")
    return (
        f"{settings.resolved_temporal_ui_url}/namespaces/{namespace}/workflows/"
        f"{quote(workflow_id, safe='')}"
    )


def prompt_names(match: MatchDetail) -> dict[str, str]:
    """The open questions by id, as a person reads them."""
    if match.live is None:
        return {}
    return {
        p.id: f"{p.kind.replace('_', ' ')} (to the {p.party.value}"
        + (f", answer by {p.answer_by})" if p.answer_by else ")")
        for p in match.live.open_prompts
    }


def _form(name: str) -> ActionForm:
    form = FORMS.get(name)
    if form is None:
        raise ConsoleProblem(404, f"There is no action {name!r}; one of: {', '.join(FORMS)}.")
    return form


async def _match(request: Request, match_id: str) -> MatchDetail:
    return await reading.get_match(request.app.state.backend, match_id=match_id)


@router.get("/console/matches/{match_id}", response_class=HTMLResponse)
async def show(request: Request, match_id: str, user: Viewer, done: str = "") -> HTMLResponse:
    """The match page (changes nothing)."""
    match = await _match(request, match_id)
    return render(
        request,
        "match.html",
        user=user,
        title=f"Match {match.id}",
        match=match,
        now=datetime.now(UTC),
        temporal_url=temporal_link(request, match.workflow_id),
        forms=FORMS.values(),
        may_act=user.may(Role.STAFF),
        done=FORMS[done].title if done in FORMS else None,
    )


def _action_page(
    request: Request,
    user: Any,
    match: MatchDetail,
    form: ActionForm,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refused: str | None = None,
    confirm: bool = False,
    status: int = 200,
) -> HTMLResponse:
    prompts = prompt_names(match)
    values = values or {}
    return render(
        request,
        "action.html",
        user=user,
        status=status,
        title=f"{form.title}: match {match.id}",
        match=match,
        form=form,
        values=values,
        errors=errors or {},
        form_error=(errors or {}).get(FORM_ERROR),
        refused=refused,
        confirm=confirm,
        prompts=prompts,
        summary=summary_of(form, values, prompts) if confirm else [],
        idempotency_key=secrets.token_urlsafe(16) if confirm else "",
    )


@router.get("/console/matches/{match_id}/act/{name}", response_class=HTMLResponse)
async def action_form(request: Request, match_id: str, name: str, user: Staff) -> HTMLResponse:
    """The form of one action on the match."""
    form = _form(name)
    return _action_page(request, user, await _match(request, match_id), form)


@router.post("/console/matches/{match_id}/act/{name}", response_class=HTMLResponse)
async def act(request: Request, match_id: str, name: str, user: Staff) -> Response:
    """First the confirmation step (nothing changes), then, confirmed, the action itself."""
    form = _form(name)
    sent = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    values = values_of(form, sent)
    action, errors = action_of(form, values)
    match = await _match(request, match_id)
    if action is None:
        return _action_page(request, user, match, form, values=values, errors=errors, status=422)
    if sent.get("confirmed") != "yes":
        return _action_page(request, user, match, form, values=values, confirm=True)
    key = sent.get(KEY_FIELD, "")[:100] or None
    try:
        await steering.act(
            request.app.state.backend,
            match_id=match_id,
            action=action,
            by=user.actor,
            idempotency_key=key,
        )
    except MoveRefused as exc:
        return _action_page(request, user, match, form, values=values, refused=str(exc), status=409)
    logger.info("console action applied", match_id=match_id, action=form.kind)
    return RedirectResponse(
        f"/console/matches/{quote(match_id, safe='')}?done={form.name}", status_code=303
    )
