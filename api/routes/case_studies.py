"""Case studies for The South-South Matchmaker: read (viewer), edit, review, publish and
unpublish (staff), and the compiled volume of the published ones in Markdown or HTML."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from api.deps import PROTECTED, BackendDep, CurrentUser, require
from api.schemas import ErrorResponse
from domain.access import Role
from services import case_studies
from services.case_studies import CaseStudyEdit, CaseStudyFilter, CaseStudyList, CaseStudyRead
from services.volume_html import CONTENT_SECURITY_POLICY, render_html

router = APIRouter(prefix="/api/case-studies", tags=["case studies"], responses=PROTECTED)
VIEWER = [Depends(require(Role.VIEWER))]
STAFF = [Depends(require(Role.STAFF))]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {
        "model": ErrorResponse,
        "description": "no case study for that match (none is drafted without an outcome and "
        "the partners' consent to publish)",
    }
}
CHANGE: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {
        "model": ErrorResponse,
        "description": "the case study changed since the revision given (read it again), or "
        "its status does not allow this (publish needs reviewed; a published one is frozen "
        "until unpublished)",
    },
}
ETAG = {"ETag": {"description": "the case study's revision, quoted", "schema": {"type": "string"}}}
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        pattern=r'^(W/)?"?[1-9][0-9]{0,8}"?$',
        description='The revision the change is meant for (the ETag, e.g. "3"); 409 if the '
        "case study changed since. Without it the change applies to the current revision.",
    ),
]
MARKDOWN = "text/markdown; charset=utf-8"


def _tagged(response: Response, case: CaseStudyRead) -> CaseStudyRead:
    response.headers["ETag"] = f'"{case.revision}"'
    return case


def _revision(if_match: str | None) -> int | None:
    return None if if_match is None else int(if_match.removeprefix("W/").strip('"'))


@router.get("", response_model=CaseStudyList, dependencies=VIEWER)
async def list_case_studies(
    backend: BackendDep, filters: Annotated[CaseStudyFilter, Query()]
) -> CaseStudyList:
    """List case studies (newest first), filtered by status, focus area and workshop; an
    unknown parameter is 422."""
    return await case_studies.list_case_studies(backend.sessions, filters=filters)


@router.get(
    "/volume",
    dependencies=VIEWER,
    response_class=Response,
    responses={
        200: {
            "description": "The South-South Matchmaker: the published case studies by focus "
            "area, with a contents list (Markdown, or a self-contained HTML page)",
            "content": {
                "text/markdown": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
            },
        }
    },
)
async def compile_volume(
    request: Request,
    backend: BackendDep,
    format: Annotated[  # noqa: A002 - the query parameter's name
        Literal["md", "html"] | None,
        Query(description="md or html; without it, html if the Accept header prefers it"),
    ] = None,
) -> Response:
    """Compile The South-South Matchmaker from the published case studies: by focus area,
    each case with its context, solution, adaptation, results, lessons and contacts."""
    text = await case_studies.volume(backend.sessions)
    if format is None:
        accept = request.headers.get("accept", "")
        format = "html" if "text/html" in accept and "text/markdown" not in accept else "md"
    if format == "html":
        return Response(
            render_html(text),
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
        )
    return Response(text, media_type=MARKDOWN)


@router.get(
    "/{match_id}",
    response_model=CaseStudyRead,
    dependencies=VIEWER,
    responses={**NOT_FOUND, 200: {"headers": ETAG, "description": "the case study"}},
)
async def get_case_study(match_id: str, backend: BackendDep, response: Response) -> CaseStudyRead:
    """One case study: its Markdown (the edit, or the generated draft), the draft, its status
    and who edited, reviewed and published it."""
    case = await case_studies.get_case_study(backend.sessions, match_id=match_id)
    return _tagged(response, case)


@router.put(
    "/{match_id}",
    response_model=CaseStudyRead,
    dependencies=STAFF,
    responses={**CHANGE, 200: {"headers": ETAG, "description": "the edited case study"}},
)
async def edit_case_study(
    match_id: str, change: CaseStudyEdit, backend: BackendDep, user: CurrentUser, response: Response
) -> CaseStudyRead:
    """Replace the case study's Markdown, made from ``revision`` (409 if it changed since); a
    reviewed case goes back to draft, a published one must be unpublished first."""
    case = await case_studies.edit(
        backend.sessions, match_id=match_id, change=change, actor=user.actor
    )
    return _tagged(response, case)


def _move_route(step: Literal["review", "publish", "unpublish"], summary: str) -> None:
    async def move(
        match_id: str,
        backend: BackendDep,
        user: CurrentUser,
        response: Response,
        if_match: IfMatch = None,
    ) -> CaseStudyRead:
        case = await case_studies.move(
            backend.sessions,
            match_id=match_id,
            step=step,
            actor=user.actor,
            revision=_revision(if_match),
        )
        return _tagged(response, case)

    move.__name__ = f"{step}_case_study"
    move.__doc__ = summary
    router.post(
        f"/{{match_id}}/{step}",
        response_model=CaseStudyRead,
        dependencies=STAFF,
        responses={**CHANGE, 200: {"headers": ETAG, "description": "the case study"}},
    )(move)


_move_route("review", "Mark a draft reviewed (409 for any other status).")
_move_route("publish", "Publish a reviewed case study into the volume (409 for a draft).")
_move_route("unpublish", "Take a published case study out of the volume; it stays reviewed.")
