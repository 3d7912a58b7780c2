"""A partner's page at the signed link of one question: GET shows it, POST answers it.

GET never changes anything (mail scanners open every link). A bad link changes nothing and
says why: tampered 400, expired 410 (with a button asking for a fresh link), unknown match
404, already answered or no longer open 409 with what was recorded or where the match stands.
"""

from collections.abc import Mapping

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.deps import BackendDep
from domain.enums import PromptStatus
from infra.signing import LinkExpired, LinkTampered, PartnerLinks
from services import partner
from services.backend import Backend
from services.errors import MatchNotFound, MoveRefused
from web import pages
from web.forms import FORM_ERROR, answer_from_form, field_errors
from web.i18n import N_, Said, contact_language
from web.pages import LimiterDep, LinksDep
from web.refusals import refusal, said

logger = structlog.get_logger()
router = APIRouter(include_in_schema=False)


def _closed(request: Request, page: partner.PromptPage, links: PartnerLinks) -> HTMLResponse:
    """409: the question was answered (show the answer) or the match moved on (show where)."""
    prompt = page.prompt
    if prompt.status == PromptStatus.ANSWERED:
        message = N_("This question has already been answered. This is what was recorded:")
    elif page.state.closed:
        message = N_("This match is closed, so the question no longer needs an answer.")
    else:
        message = N_("The match has moved on, so this question no longer needs an answer.")
    match_url = pages.match_link(request, links, match_id=page.match_id, party=page.party)
    return pages.problem(
        request, 409, message, page=page, answer=prompt.answer, match_url=match_url
    )


async def _expired(
    request: Request,
    token: str,
    backend: Backend,
    links: PartnerLinks,
    exc: LinkExpired,
) -> HTMLResponse:
    expired = N_(
        "This link expired on %(date)s. We can email you a fresh link to the same question."
    )
    return pages.problem(
        request,
        410,
        Said(expired, {"date": exc.claims.expires_at}),
        fresh_link=f"/respond/{token}/fresh-link",
        form_key=links.form_key(token),
        language=await partner.language_at(backend, exc.claims),
    )


async def _open(
    request: Request, backend: Backend, links: PartnerLinks, token: str
) -> partner.PromptPage | HTMLResponse:
    try:
        return await partner.open_link(backend, links, token, now=pages.now())
    except LinkExpired as exc:
        return await _expired(request, token, backend, links, exc)
    except Exception as exc:
        return await pages.refusal_or_raise(request, exc, backend=backend, links=links, token=token)


def _form(
    request: Request,
    page: partner.PromptPage,
    token: str,
    links: PartnerLinks,
    *,
    values: dict[str, str] | None = None,
    errors: Mapping[str, str | Said] | None = None,
    status: int = 200,
) -> HTMLResponse:
    errors = errors or {}
    return pages.page(
        request,
        "respond.html",
        status,
        page=page,
        prompt=page.prompt,
        values=values or {},
        errors=errors,
        form_error=errors.get(FORM_ERROR),
        form_key=links.form_key(token),
        match_url=pages.match_link(request, links, match_id=page.match_id, party=page.party),
    )


@router.get("/respond/{token}", response_class=HTMLResponse)
async def show(request: Request, token: str, backend: BackendDep, links: LinksDep) -> HTMLResponse:
    """Show the question of a link with its form; changes nothing."""
    page = await _open(request, backend, links, token)
    if isinstance(page, HTMLResponse):
        return page
    if not page.prompt.is_open:
        return _closed(request, page, links)
    return _form(request, page, token, links)


@router.post("/respond/{token}", response_class=HTMLResponse)
async def submit(
    request: Request, token: str, backend: BackendDep, links: LinksDep, limiter: LimiterDep
) -> HTMLResponse:
    """Answer the question of a link; the answer is recorded once however often it is sent.

    The answer goes to the workflow first, in one round trip: the token names the question
    and its kind, and the rules check the rest. The match is read only to show why an answer
    was not taken (a wrong form, a question answered or closed, a refusal)."""
    form = await pages.checked_form(request, token, links, limiter)
    if isinstance(form, HTMLResponse):
        return form
    language = form.get("lang")  # the question's page said it: the match is not read
    try:
        claims = links.read(token, now=pages.now())
        answer = answer_from_form(partner.kind_of(claims), form)
        result = await partner.answer_at(backend, claims, token, answer)
    except (LinkTampered, LinkExpired, ValueError, MoveRefused, MatchNotFound) as exc:
        return await _not_taken(request, token, backend, links, form, exc)
    except Exception as exc:
        return await pages.refusal_or_raise(
            request, exc, backend=backend, links=links, token=token, sent=True, language=language
        )
    logger.info("partner answered", match_id=claims.match_id, prompt_id=claims.prompt_id)
    return pages.page(
        request,
        "recorded.html",
        answer=answer.model_dump(mode="json"),
        stage=result.stage,
        close_reason=result.close_reason,
        language=language,
        match_url=pages.match_link(request, links, match_id=claims.match_id, party=claims.party),
    )


async def _not_taken(
    request: Request,
    token: str,
    backend: Backend,
    links: PartnerLinks,
    form: dict[str, str],
    exc: Exception,
) -> HTMLResponse:
    """The page that says why an answer was not taken, from the match as it stands."""
    page = await _open(request, backend, links, token)
    if isinstance(page, HTMLResponse):
        return page
    if not page.prompt.is_open:
        return _closed(request, page, links)
    if isinstance(exc, ValidationError):
        errors = field_errors(exc)
        return _form(request, page, token, links, values=form, errors=errors, status=422)
    errors = {FORM_ERROR: refusal(exc) if isinstance(exc, MoveRefused) else said(None, {})}
    return _form(request, page, token, links, values=form, errors=errors, status=409)


@router.post("/respond/{token}/fresh-link", response_class=HTMLResponse)
async def fresh_link(
    request: Request, token: str, backend: BackendDep, links: LinksDep, limiter: LimiterDep
) -> HTMLResponse:
    """Email the question of an expired link again, with a fresh link (at most once a day)."""
    form = await pages.checked_form(request, token, links, limiter)
    if isinstance(form, HTMLResponse):
        return form
    language = form.get("lang")  # the expired link's page said it
    try:
        page = await partner.request_fresh_link(backend, links, token, now=pages.now())
    except partner.PromptNotOpen as exc:
        return _closed(request, exc.page, links)
    except MoveRefused as exc:
        if exc.code != "fresh_link_too_soon":
            why = Said(N_("We cannot send a fresh link: %(why)s"), {"why": refusal(exc)})
            return pages.problem(request, 409, why, language=language)
        return pages.problem(
            request,
            429,
            Said(
                N_("We already sent you a fresh link: please look in your inbox. %(why)s"),
                {"why": refusal(exc)},
            ),
            title=N_("A fresh link is already on its way"),
            headers={"Retry-After": "3600"},
            language=language,
        )
    except Exception as exc:
        return await pages.refusal_or_raise(
            request, exc, backend=backend, links=links, token=token, sent=True, language=language
        )
    logger.info("fresh link requested", match_id=page.match_id, prompt_id=page.prompt.id)
    return pages.page(
        request,
        "sent.html",
        title=N_("A fresh link is on its way"),
        message=N_(
            "We are emailing you the question again with a fresh link. It should reach your inbox within a few minutes."
        ),
        language=contact_language(page),
    )
