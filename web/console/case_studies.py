"""Case studies: the list by status, one case to read and (staff) edit, mark reviewed, publish
and unpublish, and the compiled volume to download (Markdown and HTML).

Over services/case_studies.py with its revision semantics (``If-Match`` of the API): every
form carries the revision the page showed; a change made since is refused, and a stale edit
keeps the text typed, shows the current one beside it and says what happened."""

from datetime import UTC, datetime
from typing import Annotated, Literal, TypeGuard
from urllib.parse import quote, urlencode

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from domain.access import Role
from domain.enums import FocusArea
from services import case_studies
from services.case_studies import CaseStudyEdit, CaseStudyFilter, CaseStudyRead
from services.errors import CaseStudyConflict
from services.volume_html import CONTENT_SECURITY_POLICY, render_html
from web.console.auth import Staff, Viewer
from web.console.layout import ConsoleProblem, render

logger = structlog.get_logger()
router = APIRouter(include_in_schema=False)

STATUSES = ("draft", "reviewed", "published")
PER_PAGE = 50
Step = Literal["review", "publish", "unpublish"]
STEPS: dict[Step, str] = {"review": "Mark reviewed", "publish": "Publish", "unpublish": "Unpublish"}
DONE = {"edit": "Your edit is saved.", "review": "Marked reviewed.", "publish": "Published.",
        "unpublish": "Unpublished: it is reviewed again and can be edited."}  # fmt: skip


@router.get("/console/case-studies", response_class=HTMLResponse)
async def list_page(
    request: Request,
    user: Viewer,
    status: Annotated[str, Query()] = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    """The case studies, newest first, one status or all."""
    if status and status not in STATUSES:
        raise ConsoleProblem(422, f"There is no status {status!r}; one of: {', '.join(STATUSES)}.")
    filters = CaseStudyFilter(status=status or None, limit=PER_PAGE, offset=offset)
    found = await case_studies.list_case_studies(
        request.app.state.backend.sessions, filters=filters
    )
    more = offset + len(found.items) < found.total
    return render(
        request,
        "case_studies.html",
        user=user,
        title="Case studies",
        found=found,
        chosen=status,
        statuses=STATUSES,
        focus=lambda code: FocusArea(code).name.replace("_", " ").title(),
        previous=urlencode({"status": status, "offset": max(0, offset - PER_PAGE)})
        if offset
        else None,
        next=urlencode({"status": status, "offset": offset + PER_PAGE}) if more else None,
    )


@router.get("/console/case-studies/volume.{fmt}")
async def volume(request: Request, fmt: str, user: Viewer) -> Response:
    """The South-South Matchmaker compiled from the published case studies, to download."""
    if fmt not in ("md", "html"):
        raise ConsoleProblem(404, "The volume is there as volume.md (Markdown) or volume.html.")
    text = await case_studies.volume(request.app.state.backend.sessions)
    name = f"south-south-matchmaker-{datetime.now(UTC).date().isoformat()}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if fmt == "html":
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return Response(render_html(text), media_type="text/html; charset=utf-8", headers=headers)
    return Response(text, media_type="text/markdown; charset=utf-8", headers=headers)


def _case_page(
    request: Request,
    user: Viewer,
    case: CaseStudyRead,
    *,
    typed: str | None = None,
    revision: int | None = None,
    conflict: str | None = None,
    error: str | None = None,
    done: str = "",
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "case_study.html",
        user=user,
        status=status,
        title=f"Case study: {case.title}",
        case=case,
        may_act=user.may(Role.STAFF),
        text=case.markdown if typed is None else typed,
        revision=case.revision if revision is None else revision,
        conflict=conflict,
        error=error,
        done=DONE.get(done),
        steps=STEPS,
        moves={k: v[0] for k, v in case_studies.MOVES.items()},
        markdown_max=case_studies.MARKDOWN_MAX,
    )


@router.get("/console/case-studies/{match_id}", response_class=HTMLResponse)
async def show(request: Request, match_id: str, user: Viewer, done: str = "") -> HTMLResponse:
    """One case study: its text, who did what, and (staff) the editor and the next steps."""
    case = await case_studies.get_case_study(request.app.state.backend.sessions, match_id=match_id)
    return _case_page(request, user, case, done=done)


def _here(match_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(
        f"/console/case-studies/{quote(match_id, safe='')}?done={done}", status_code=303
    )


def _revision_of(value: object) -> int | None:
    text = value if isinstance(value, str) else ""
    return int(text) if text.isdigit() and len(text) < 10 else None


@router.post("/console/case-studies/{match_id}/edit", response_class=HTMLResponse)
async def edit(request: Request, match_id: str, user: Staff) -> Response:
    """Keep the edit if the case has not changed since the page was read; else keep the text
    typed and say what changed."""
    sessions = request.app.state.backend.sessions
    form = await request.form()
    typed = form.get("markdown")
    typed = typed.replace("\r\n", "\n") if isinstance(typed, str) else ""
    revision = _revision_of(form.get("revision"))
    try:
        change = CaseStudyEdit(markdown=typed, revision=revision or 0)
    except ValidationError as exc:
        case = await case_studies.get_case_study(sessions, match_id=match_id)
        said = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        return _case_page(
            request, user, case, typed=typed, revision=revision, status=422,
            error=f"This text cannot be kept ({said}); it must be 1 to "
            f"{case_studies.MARKDOWN_MAX:,} characters of printable text.",
        )  # fmt: skip
    try:
        await case_studies.edit(sessions, match_id=match_id, change=change, actor=user.actor)
    except CaseStudyConflict as exc:
        case = await case_studies.get_case_study(sessions, match_id=match_id)
        return _case_page(
            request, user, case, typed=typed, status=409,
            conflict=str(exc)[:1].upper() + str(exc)[1:],
        )  # fmt: skip
    logger.info("console case study edited", match_id=match_id)
    return _here(match_id, "edit")


def _is_step(step: str) -> TypeGuard[Step]:
    return step in STEPS


@router.post("/console/case-studies/{match_id}/{step}", response_class=HTMLResponse)
async def move(request: Request, match_id: str, step: str, user: Staff) -> Response:
    """Mark reviewed, publish or unpublish, at the revision the page showed."""
    if not _is_step(step):
        raise ConsoleProblem(404, f"There is no step {step!r}; one of: {', '.join(STEPS)}.")
    revision = _revision_of((await request.form()).get("revision"))
    if revision is None:
        raise ConsoleProblem(422, "The form names no revision: reload the case study and retry.")
    try:
        await case_studies.move(
            request.app.state.backend.sessions,
            match_id=match_id,
            step=step,
            actor=user.actor,
            revision=revision,
        )
    except CaseStudyConflict as exc:
        raise ConsoleProblem(409, str(exc)[:1].upper() + str(exc)[1:] + ".") from None
    logger.info("console case study moved", match_id=match_id, step=step)
    return _here(match_id, step)
