"""Bulk actions: select matches (ticked in a table, or every one that passes a filter), pick
one Secretariat action, see the dry run (would apply / would refuse, with the rules'
sentence), confirm, then see per match applied / refused / failed with the totals.

The same use case, actions and limits as ``POST /api/bulk-actions`` (services/bulk.py): the
confirmation applies the action to the very matches the dry run listed (their ids travel in
one field of the confirmation form: a form is parsed with at most 1,000 fields), under an idempotency key, so a form sent twice applies nothing twice.
The filter travels in the URL (the bulk page) and in hidden ``filter.<name>`` fields (the
forms), so it never mixes with the action's own fields (``text``, ``reason``)."""

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ValidationError

from domain.access import Role
from services import bulk, reading
from services.bulk import MAX_MATCHES, BulkFilter
from services.views import MatchFilter
from web.console.actions import FORM_ERROR, FORMS, ActionForm, action_of, summary_of, values_of
from web.console.auth import Staff, Viewer
from web.console.layout import ConsoleProblem, render
from web.console.matches import CHOICES

logger = structlog.get_logger()
router = APIRouter(include_in_schema=False)

SHOWN = 100  # matches listed (to tick) on the bulk page; "all matching" reaches up to 1000
PREFIX = "filter."
FILTER_FIELDS = list(BulkFilter.model_fields)
BOOLEAN = {"overdue", "needs_attention"}


def filter_of(params: dict[str, str]) -> BaseModel:
    """The bulk filter of a query or of ``filter.*`` form fields (empty: no criterion)."""
    values = {k: v.strip() for k, v in params.items() if k in FILTER_FIELDS and v.strip()}
    return BulkFilter.model_validate(values)


def _filter_errors(exc: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc']) or 'filter'}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    ]


def _query(filters: BaseModel) -> dict[str, str]:
    values = filters.model_dump(exclude_none=True, mode="json")
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in values.items()}


def _form(name: str) -> ActionForm | None:
    return FORMS.get(name) if name else None


async def _page(
    request: Request,
    user: Any,
    *,
    filters: BaseModel | None,
    params: dict[str, str],
    form: ActionForm | None,
    values: dict[str, str] | None = None,
    chosen: list[str] | None = None,
    scope: str = "selected",
    errors: dict[str, str] | None = None,
    filter_errors: list[str] | None = None,
    problem: str | None = None,
    everything: int | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The bulk page: the filter, the matches to tick, the action and its fields."""
    found = None
    if filters is not None:
        listing = MatchFilter(**filters.model_dump(exclude_none=True), limit=SHOWN)
        found = await reading.list_matches(
            request.app.state.backend, filters=listing, now=datetime.now(UTC)
        )
    query = _query(filters) if filters is not None else {}
    return render(
        request,
        "bulk.html",
        user=user,
        status=status,
        title="Bulk actions",
        may_act=user.may(Role.STAFF),
        filter_fields=FILTER_FIELDS,
        boolean=BOOLEAN,
        choices=CHOICES,
        params=params,
        query=query,
        matches_link="/console/matches" + (f"?{urlencode(query)}" if query else ""),
        found=found,
        shown=SHOWN,
        max_matches=MAX_MATCHES,
        forms=FORMS.values(),
        form=form,
        values=values or {},
        chosen=set(chosen or []),
        scope=scope,
        errors=errors or {},
        form_error=(errors or {}).get(FORM_ERROR),
        filter_errors=filter_errors or [],
        problem=problem,
        everything=everything,
        prompts={},
    )


@router.get("/console/bulk", response_class=HTMLResponse)
async def bulk_page(request: Request, user: Viewer) -> HTMLResponse:
    """The matches that pass the filter in the URL, to tick, and (staff) the action to apply."""
    params = {k: v for k, v in request.query_params.items() if k != "action"}
    name = request.query_params.get("action", "")
    form = _form(name)
    try:
        filters = filter_of(params)
    except ValidationError as exc:
        return await _page(
            request, user, filters=None, params=params, form=form,
            filter_errors=_filter_errors(exc), status=422,
        )  # fmt: skip
    if name and form is None:
        return await _page(
            request, user, filters=filters, params=params, form=None, status=422,
            problem=f"There is no action {name!r}; choose one of the list.",
        )  # fmt: skip
    return await _page(request, user, filters=filters, params=params, form=form)


def _sent(data: Any) -> tuple[dict[str, str], dict[str, str]]:
    """A posted form's own fields, and its ``filter.*`` fields without the prefix."""
    own = {k: v for k, v in data.items() if isinstance(v, str) and not k.startswith(PREFIX)}
    carried = {
        k.removeprefix(PREFIX): v
        for k, v in data.items()
        if isinstance(v, str) and k.startswith(PREFIX)
    }
    return own, carried


@router.post("/console/bulk/preview", response_class=HTMLResponse)
async def preview(request: Request, user: Staff) -> HTMLResponse:
    """The dry run: what the rules would say to the action on each selected match now."""
    data = await request.form()
    sent, params = _sent(data)
    try:
        filters = filter_of(params)
    except ValidationError as exc:
        said = "; ".join(_filter_errors(exc))
        raise ConsoleProblem(422, f"The filter is not right: {said}") from None
    form = _form(sent.get("action", ""))
    scope = sent.get("scope", "selected")
    chosen = [v for v in data.getlist("match_id") if isinstance(v, str)]
    again: dict[str, Any] = {"filters": filters, "params": params, "form": form}
    again |= {"chosen": chosen, "scope": scope, "status": 422}
    if form is None:
        return await _page(request, user, **again, problem="Choose an action first.")
    values = values_of(form, sent)
    action, errors = action_of(form, values)
    again["values"] = values
    if action is None:
        return await _page(request, user, **again, errors=errors)
    if scope not in ("selected", "all"):
        return await _page(request, user, **again, problem="Choose ticked matches or all.")
    if scope == "selected" and not chosen:
        return await _page(
            request, user, **again,
            problem="Tick at least one match, or choose “all matching this filter”.",
        )  # fmt: skip
    if len(chosen) > MAX_MATCHES:
        return await _page(
            request, user, **again, problem=f"At most {MAX_MATCHES} matches at once."
        )
    backend = request.app.state.backend
    try:
        if scope == "all":
            selection = await bulk.select(backend, filters=filters)
        else:
            selection = await bulk.select(backend, match_ids=chosen)
    except bulk.TooMany as exc:
        return await _page(request, user, **again, problem=str(exc)[:1].upper() + str(exc)[1:])
    except ValidationError:
        return await _page(request, user, **again, problem="A ticked match id is not valid.")
    if scope == "all" and not _query(filters) and sent.get("everything") != str(len(selection)):
        # every match of the network: only when the user said so, knowing how many
        return await _page(request, user, **again, everything=len(selection))
    if not selection:
        return await _page(request, user, **again, problem="No match passes this filter.")
    result = await bulk.preview(backend, selection=selection, action=action, by=user.actor)
    return render(
        request,
        "bulk_preview.html",
        user=user,
        title="Bulk actions: dry run",
        form=form,
        values=values,
        summary=summary_of(form, values, {}),
        result=result,
        idempotency_key=secrets.token_urlsafe(16),
        back="/console/bulk?" + urlencode({**_query(filters), "action": form.name}),
    )


@router.post("/console/bulk/apply", response_class=HTMLResponse)
async def apply(request: Request, user: Staff) -> HTMLResponse:
    """Apply the confirmed action to each match the dry run listed; say what became of each."""
    data = await request.form()
    sent, _ = _sent(data)
    form = _form(sent.get("action", ""))
    if form is None:
        raise ConsoleProblem(422, "The confirmation names no action: start again from Bulk.")
    action, errors = action_of(form, values_of(form, sent))
    if action is None:
        raise ConsoleProblem(
            422, "The action's fields are not right: " + "; ".join(errors.values())
        )
    ids = sent.get("match_ids", "").split()  # the dry run's ids, space-separated
    if not ids or len(ids) > MAX_MATCHES:
        raise ConsoleProblem(422, f"The confirmation must name 1 to {MAX_MATCHES} matches.")
    backend = request.app.state.backend
    try:
        selection = await bulk.select(backend, match_ids=bulk.BulkActionRequest.model_validate(
            {"match_ids": ids, "action": action.model_dump(mode="json")}
        ).match_ids)  # fmt: skip
    except ValidationError:
        raise ConsoleProblem(422, "A match id of the confirmation is not valid.") from None
    key = sent.get("idempotency_key", "")[:100] or None
    result = await bulk.apply(
        backend, selection=selection, action=action, by=user.actor, idempotency_key=key
    )
    logger.info("console bulk action", action=form.kind, count=result.count, **result.totals)
    return render(
        request, "bulk_done.html", user=user, title="Bulk actions: done", form=form, result=result
    )
