"""A partner's own page of the match: where it stands, what is awaited from whom and by when,
the history partners may see; from it the adopter reports progress during adaptation and
either party asks the Secretariat for help. GET changes nothing."""

from collections.abc import Mapping

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import TypeAdapter, ValidationError

from api.deps import BackendDep
from api.throttle import SharedLimiter
from domain.lifecycle.answers import CheckInAnswer
from domain.text import RequiredText
from infra.signing import LinkExpired, PartnerLinks
from services import partner
from services.backend import Backend
from services.errors import MoveRefused
from web import pages
from web.forms import FORM_ERROR, field_errors
from web.i18n import N_, Said, contact_language
from web.pages import LimiterDep, LinksDep
from web.refusals import refusal

logger = structlog.get_logger()
router = APIRouter(include_in_schema=False)
HELP_MESSAGE: TypeAdapter[str] = TypeAdapter(RequiredText)


async def _open(
    request: Request, backend: Backend, links: PartnerLinks, token: str
) -> partner.PartnerView | HTMLResponse:
    try:
        return await partner.open_match(backend, links, token, now=pages.now())
    except LinkExpired as exc:
        expired = N_(
            "This link expired on %(date)s. Every email about this match carries a fresh link to this page; or reply to one of them to reach the Network Secretariat."
        )
        language = await partner.language_at(backend, exc.claims)
        said = Said(expired, {"date": exc.claims.expires_at})
        return pages.problem(request, 410, said, language=language)
    except Exception as exc:
        return await pages.refusal_or_raise(request, exc, backend=backend, links=links, token=token)


def _show(
    request: Request,
    view: partner.PartnerView,
    token: str,
    links: PartnerLinks,
    *,
    values: dict[str, str] | None = None,
    errors: Mapping[str, str | Said] | None = None,
    form: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    errors = errors or {}
    mine = {
        p.id: pages.prompt_link(
            request,
            links,
            match_id=view.match_id,
            party=view.party,
            prompt_id=p.id,
            deadline=p.lapse_at,
        )
        for p in view.open_prompts()
        if p.party == view.party
    }
    return pages.page(
        request,
        "match.html",
        status,
        page=view,
        answer_urls=mine,
        values=values or {},
        errors=errors,
        form=form,
        form_error=errors.get(FORM_ERROR),
        form_key=links.form_key(token),
        token=token,
        secretariat_email=request.app.state.settings.secretariat_email,
    )


@router.get("/match/{token}", response_class=HTMLResponse)
async def show(request: Request, token: str, backend: BackendDep, links: LinksDep) -> HTMLResponse:
    """A party's page of the match; changes nothing."""
    view = await _open(request, backend, links, token)
    if isinstance(view, HTMLResponse):
        return view
    return _show(request, view, token, links)


async def _refused(
    request: Request,
    exc: Exception,
    backend: Backend,
    links: PartnerLinks,
    token: str,
    view: partner.PartnerView,
) -> HTMLResponse:
    """The page of a form the engine could not take (busy, unreachable), in the view's words."""
    language = contact_language(view)
    return await pages.refusal_or_raise(
        request, exc, backend=backend, links=links, token=token, sent=True, language=language
    )


async def _sent_form(
    request: Request, token: str, backend: Backend, links: PartnerLinks, limiter: SharedLimiter
) -> tuple[dict[str, str], partner.PartnerView] | HTMLResponse:
    """The form sent and the match it is about, or the page that says why not."""
    form = await pages.checked_form(request, token, links, limiter)
    if isinstance(form, HTMLResponse):
        return form
    view = await _open(request, backend, links, token)
    if isinstance(view, HTMLResponse):
        return view
    return form, view


@router.post("/match/{token}/help", response_class=HTMLResponse)
async def ask_for_help(
    request: Request, token: str, backend: BackendDep, links: LinksDep, limiter: LimiterDep
) -> HTMLResponse:
    """Send the Secretariat a request for help."""
    sent = await _sent_form(request, token, backend, links, limiter)
    if isinstance(sent, HTMLResponse):
        return sent
    form, view = sent
    try:
        message = HELP_MESSAGE.validate_python(form.get("message", "").strip())
    except ValidationError as exc:
        errors = {"message": next(iter(field_errors(exc).values()))}
        return _show(
            request, view, token, links, values=form, errors=errors, form="help", status=422
        )
    try:
        await partner.ask_for_help(backend, view, token, message)
    except MoveRefused as exc:
        errors = {FORM_ERROR: refusal(exc)}
        return _show(
            request, view, token, links, values=form, errors=errors, form="help", status=409
        )
    except Exception as exc:
        return await _refused(request, exc, backend, links, token, view)
    logger.info("help requested", match_id=view.match_id, party=view.party)
    return pages.page(
        request,
        "sent.html",
        title=N_("Your message reached the Secretariat"),
        message=N_("The Network Secretariat has your message and will get in touch with you."),
        back=f"/match/{token}",
        language=contact_language(view),
    )


@router.post("/match/{token}/progress", response_class=HTMLResponse)
async def report_progress(
    request: Request, token: str, backend: BackendDep, links: LinksDep, limiter: LimiterDep
) -> HTMLResponse:
    """The adopter reports how the adaptation goes."""
    sent = await _sent_form(request, token, backend, links, limiter)
    if isinstance(sent, HTMLResponse):
        return sent
    form, view = sent
    try:
        report = CheckInAnswer.model_validate(
            {k: v.strip() for k, v in form.items() if k in ("status", "note", "support_needed")}
        )
    except ValidationError as exc:
        errors = field_errors(exc)
        return _show(
            request, view, token, links, values=form, errors=errors, form="progress", status=422
        )
    try:
        result = await partner.report_progress(backend, view, token, report)
    except MoveRefused as exc:
        errors = {FORM_ERROR: refusal(exc)}
        return _show(
            request, view, token, links, values=form, errors=errors, form="progress", status=409
        )
    except Exception as exc:
        return await _refused(request, exc, backend, links, token, view)
    logger.info("progress reported", match_id=view.match_id)
    return pages.page(
        request,
        "recorded.html",
        page=view,
        answer=report.model_dump(mode="json"),
        stage=result.stage,
        match_url=f"/match/{token}",
    )
