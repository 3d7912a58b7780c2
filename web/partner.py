"""A partner's page at their signed link: GET shows the question, POST answers it.

GET never changes anything (mail scanners open every link). A bad link changes nothing and
says why: tampered 400, expired 410, unknown match 404, already answered or no longer open
409 with what was recorded or where the match stands. The form carries a key derived from the
token (CSRF), a cross-site POST is refused, and answers are rate limited per client address.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from api.deps import BackendDep
from api.throttle import FailureLimiter
from domain.enums import PromptStatus
from infra.signing import LinkExpired, LinkTampered, PartnerLinks
from services import partner
from services.errors import Busy, MatchNotFound, MoveRefused, Unavailable
from web.forms import FORM_ERROR, answer_from_form, field_errors

logger = structlog.get_logger()
router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["today"] = lambda: datetime.now(UTC).date().isoformat()


def get_links(request: Request) -> PartnerLinks:
    return request.app.state.partner_links


def get_limiter(request: Request) -> FailureLimiter:
    return request.app.state.respond_limiter


LinksDep = Annotated[PartnerLinks, Depends(get_links)]
LimiterDep = Annotated[FailureLimiter, Depends(get_limiter)]

TITLES = {
    400: "This link does not work",
    403: "This form cannot be sent from here",
    404: "We cannot find this match",
    409: "This question is closed",
    410: "This link has expired",
    429: "Too many attempts",
    503: "Matchmaker is busy",
}


def _page(
    request: Request,
    template: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    return templates.TemplateResponse(
        request, f"partner/{template}", context, status_code=status, headers=headers
    )


def _problem(request: Request, status: int, message: str, **context: Any) -> HTMLResponse:
    headers = context.pop("headers", None)
    return _page(
        request, "problem.html", status, headers, title=TITLES[status], message=message, **context
    )


def _closed(request: Request, page: partner.PromptPage) -> HTMLResponse:
    """409: the question was answered (show the answer) or the match moved on (show where)."""
    prompt = page.prompt
    if prompt.status == PromptStatus.ANSWERED:
        message = "This question has already been answered. This is what was recorded:"
    elif page.state.closed:
        message = "This match is closed, so the question no longer needs an answer."
    else:
        message = "The match has moved on, so this question no longer needs an answer."
    return _problem(request, 409, message, page=page, answer=prompt.answer)


async def _open(request: Request, backend: Any, links: PartnerLinks, token: str) -> Any:
    """The prompt page of a link, or the error page that says why there is none."""
    try:
        return await partner.open_link(backend, links, token, now=datetime.now(UTC))
    except LinkTampered as exc:
        return _problem(request, 400, str(exc))
    except LinkExpired as exc:
        return _problem(
            request,
            410,
            f"{exc}. Reply to the email it came with, or write to the Network Secretariat, "
            "and they will send you a fresh link.",
        )
    except MatchNotFound:
        return _problem(request, 404, "The match this link is for does not exist any more.")
    except Busy as exc:
        return _problem(request, 429, str(exc), headers={"Retry-After": "5"})
    except Unavailable as exc:
        return _problem(
            request, 503, f"{exc}. Please try again in a minute.", headers={"Retry-After": "30"}
        )


@router.get("/respond/{token}", response_class=HTMLResponse)
async def show(request: Request, token: str, backend: BackendDep, links: LinksDep) -> HTMLResponse:
    """Show the question of a link with its form; changes nothing."""
    page = await _open(request, backend, links, token)
    if isinstance(page, HTMLResponse):
        return page
    if not page.prompt.is_open:
        return _closed(request, page)
    return _form(request, page, token, links)


def _form(
    request: Request,
    page: partner.PromptPage,
    token: str,
    links: PartnerLinks,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    errors = errors or {}
    return _page(
        request,
        "respond.html",
        status,
        page=page,
        prompt=page.prompt,
        eoi=page.state.eoi,
        values=values or {},
        errors=errors,
        form_error=errors.get(FORM_ERROR),
        form_key=links.form_key(token),
    )


def _cross_site(request: Request) -> bool:
    """A POST another site's page made: the browser says so, or its Origin is not ours."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin == "null"
    ours = {f"{request.url.scheme}://{request.url.netloc}"}
    public = urlsplit(request.app.state.settings.public_base_url)
    ours.add(f"{public.scheme}://{public.netloc}")
    return origin not in ours


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/respond/{token}", response_class=HTMLResponse)
async def submit(
    request: Request, token: str, backend: BackendDep, links: LinksDep, limiter: LimiterDep
) -> HTMLResponse:
    """Answer the question of a link; the answer is recorded once however often it is sent."""
    client = _client(request)
    wait = limiter.retry_after(client)
    if wait is not None:
        return _problem(
            request,
            429,
            f"Too many answers were sent from your network just now. Please wait {wait} "
            "seconds and send the form again.",
            headers={"Retry-After": str(wait)},
        )
    limiter.failed(client)  # every answer counts towards the rate
    if _cross_site(request):
        return _problem(request, 403, "This form can only be sent from its own page.")
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not links.form_key_matches(token, form.get("csrf", "")):
        return _problem(
            request, 403, "This form can only be sent from its own page: open the link again."
        )
    page = await _open(request, backend, links, token)
    if isinstance(page, HTMLResponse):
        return page
    if not page.prompt.is_open:
        return _closed(request, page)
    try:
        answer = answer_from_form(page.prompt.kind, form)
    except ValidationError as exc:
        return _form(request, page, token, links, values=form, errors=field_errors(exc), status=422)
    try:
        result = await partner.answer(backend, page, token, answer)
    except partner.PromptNotOpen as exc:
        return _closed(request, exc.page)
    except MoveRefused as exc:
        return _form(
            request, page, token, links, values=form, errors={FORM_ERROR: str(exc)}, status=409
        )
    except Busy as exc:
        return _problem(request, 429, str(exc), headers={"Retry-After": "5"})
    except Unavailable as exc:
        return _problem(
            request,
            503,
            f"{exc}. Your answer was not recorded yet: please send it again in a minute.",
            headers={"Retry-After": "30"},
        )
    logger.info("partner answered", match_id=page.claims.match_id, prompt_id=page.prompt.id)
    return _page(
        request,
        "recorded.html",
        page=page,
        answer=answer.model_dump(mode="json"),
        stage=result.stage,
    )
