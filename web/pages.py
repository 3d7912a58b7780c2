"""What every partner page shares: templates, error pages, the CSRF and rate checks."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from api.throttle import SharedLimiter
from infra.signing import LinkExpired, LinkTampered, PartnerLinks
from services import partner
from services.backend import Backend
from services.errors import Busy, MatchNotFound, Unavailable
from web.i18n import N_, Said, contact_language, page_language, templates_for

TITLES = {
    400: N_("This link does not work"),
    403: N_("This form cannot be sent from here"),
    404: N_("We cannot find this match"),
    409: N_("This question is closed"),
    410: N_("This link has expired"),
    429: N_("Too many attempts"),
    503: N_("Matchmaker is busy"),
}


def get_links(request: Request) -> PartnerLinks:
    found: PartnerLinks = request.app.state.partner_links  # the app's state holds Any
    return found


def get_limiter(request: Request) -> SharedLimiter:
    found: SharedLimiter = request.app.state.respond_limiter  # the app's state holds Any
    return found


LinksDep = Annotated[PartnerLinks, Depends(get_links)]
LimiterDep = Annotated[SharedLimiter, Depends(get_limiter)]


def now() -> datetime:
    return datetime.now(UTC)


def page(
    request: Request,
    template: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A partner page in the language of the contact whose link opened it, or the one given
    (``language``), else the browser's (its Accept-Language), else English; titles and
    messages marked ``N_`` are translated as it renders."""
    language = page_language(context, request.headers.get("accept-language"))
    if not context.get("language") and contact_language(context.get("page")) is None:
        headers = {**(headers or {}), "Vary": "Accept-Language"}  # the browser's language
    return templates_for(language).TemplateResponse(
        request,
        f"partner/{template}",
        {**context, "language": language},
        status_code=status,
        headers=headers,
    )


def problem(request: Request, status: int, message: "str | Said", **context: Any) -> HTMLResponse:
    headers = context.pop("headers", None)
    title = context.pop("title", None) or TITLES[status]
    return page(request, "problem.html", status, headers, title=title, message=message, **context)


async def link_language(backend: Backend, links: PartnerLinks, token: str) -> str | None:
    """The language of the contact of a link's party when its claims can be believed (a
    genuine link, expired or not, or one a mail client cut short); None when they cannot be,
    or the match cannot be read (the page then follows the browser)."""
    claims = links.trusted_claims(token)
    return await partner.language_at(backend, claims) if claims is not None else None


def refused_for(
    request: Request, exc: Exception, *, sent: bool = False, language: str | None = None
) -> HTMLResponse | None:
    """The page for a link or a backend that refuses (None: not one of those), in
    ``language`` when it is known (else the browser's)."""
    if isinstance(exc, LinkTampered):
        return problem(
            request,
            400,
            N_(
                "This link is not one Matchmaker sent: it may have been cut short or changed when it was copied."
            ),
            language=language,
        )
    if isinstance(exc, LinkExpired):
        return None  # each page says what an expired link can still do
    if isinstance(exc, MatchNotFound):
        gone = N_("The match this link is for does not exist any more.")
        return problem(request, 404, gone, language=language)
    if isinstance(exc, Busy):
        busy = N_("This match is busy with other changes: please try again in a few seconds.")
        return problem(
            request,
            429,
            busy,
            title=N_("This match is busy"),
            headers={"Retry-After": "5"},
            language=language,
        )
    if isinstance(exc, Unavailable):
        down = (
            N_(
                "Matchmaker cannot reach a service it needs just now. Nothing you sent was recorded yet. Please try again in a minute."
            )
            if sent
            else N_(
                "Matchmaker cannot reach a service it needs just now. Please try again in a minute."
            )
        )
        return problem(request, 503, down, headers={"Retry-After": "30"}, language=language)
    return None


async def refusal_or_raise(
    request: Request,
    exc: Exception,
    *,
    backend: Backend,
    links: PartnerLinks,
    token: str,
    sent: bool = False,
    language: str | None = None,
) -> HTMLResponse:
    """The page for a link or a backend that refuses; any other exception goes on up.
    Call it from an ``except`` block (``sent``: the partner had sent a form). A link that
    does not work, or names nothing, is refused in the language of its contact when its
    claims can be believed (``language``: the page's, when known)."""
    if language is None and isinstance(exc, LinkTampered | MatchNotFound):
        language = await link_language(backend, links, token)
    refusal = refused_for(request, exc, sent=sent, language=language)
    if refusal is None:
        raise exc
    return refusal


def cross_site(request: Request) -> bool:
    """A POST another site's page made: the browser says so, or its Origin is not ours."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    public = urlsplit(request.app.state.settings.public_base_url)
    ours = {f"{request.url.scheme}://{request.url.netloc}", f"{public.scheme}://{public.netloc}"}
    return origin not in ours


async def checked_form(
    request: Request, token: str, links: PartnerLinks, limiter: SharedLimiter
) -> dict[str, str] | HTMLResponse:
    """The fields of a form sent from its own page, within the rate (or the page refusing it)."""
    client = request.client.host if request.client else "unknown"
    wait = await limiter.attempt(client)  # every form sent counts towards the rate
    if wait is not None:
        too_many = N_(
            "Too many forms were sent from your network just now. Please wait %(seconds)s seconds and send it again."
        )
        return problem(
            request, 429, Said(too_many, {"seconds": wait}), headers={"Retry-After": str(wait)}
        )
    if cross_site(request):
        return problem(request, 403, N_("This form can only be sent from its own page."))
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not links.form_key_matches(token, form.get("csrf", "")):
        again = N_("This form can only be sent from its own page: open the link again.")
        return problem(request, 403, again, language=form.get("lang"))  # its page's language
    return form


def _lifetime(request: Request) -> timedelta:
    return timedelta(days=request.app.state.settings.link_lifetime_days)


def match_link(request: Request, links: PartnerLinks, *, match_id: str, party: str) -> str:
    """The path of a party's page of the match (a fresh token, valid for the link lifetime)."""
    expires = links.expiry(None, now=now(), lifetime=_lifetime(request))
    return f"/match/{links.mint(match_id=match_id, party=party, expires_at=expires)}"


def prompt_link(
    request: Request,
    links: PartnerLinks,
    *,
    match_id: str,
    party: str,
    prompt_id: str,
    deadline: datetime | None,
) -> str:
    """The path of the page that answers one prompt, as its email would carry it."""
    expires = links.expiry(deadline, now=now(), lifetime=_lifetime(request))
    token = links.mint(match_id=match_id, party=party, prompt_id=prompt_id, expires_at=expires)
    return f"/respond/{token}"
