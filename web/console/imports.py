"""Import a workshop: upload the file (CSV or JSON, as ``POST /api/imports`` takes it), see
every row validated (errors by line and field) before anything starts, confirm, watch the
matches start (the page polls with htmx), then the summary: started, already present,
refused, invalid.

Between the check and the confirmation the upload is held in the database (services/uploads.py)
under a random id bound to the session that uploaded it (the SHA-256 of its CSRF secret), for
``HOLD`` and at most ``HELD_MAX`` uploads at once (the oldest goes first); another session, or
an id that expired, gets a 404 asking to upload again. The file's SHA-256 is shown on both
steps, so what is confirmed is what was checked. The import runs in the API replica that took
the confirmation and writes its progress to the database, so any replica shows the progress
page; if that replica dies mid-import, the page says so.
"""

import asyncio

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from domain.access import Role
from services import imports, uploads
from services.console_auth import ConsoleUser
from services.uploads import HOLD, HeldUpload
from web.console.auth import Staff, Viewer
from web.console.layout import ConsoleProblem, render

logger = structlog.get_logger()
router = APIRouter(include_in_schema=False)

EXTENSIONS: dict[str, imports.Format] = {"csv": "csv", "json": "json"}
MEDIA: dict[str, imports.Format] = {"text/csv": "csv", "application/json": "json"}


def _owner(user: ConsoleUser) -> str:
    return uploads.owner_of(user.csrf_token)


async def _find(
    request: Request, user: ConsoleUser, upload_id: str, *, with_rows: bool = False
) -> HeldUpload:
    found = await uploads.held(
        request.app.state.backend.sessions,
        upload_id=upload_id,
        owner=_owner(user),
        with_rows=with_rows,
    )
    if found is None:
        minutes = int(HOLD.total_seconds() // 60)
        raise ConsoleProblem(
            404,
            "This upload is not held any more (it is kept for "
            f"{minutes} minutes, for the session that sent it): upload the file again.",
        )
    return found


def _tasks(request: Request) -> set[asyncio.Task[None]]:
    """The imports this replica runs (kept referenced until they end)."""
    state = request.app.state
    if not hasattr(state, "console_import_tasks"):
        state.console_import_tasks = set()
    return state.console_import_tasks  # type: ignore[no-any-return]


def _format(upload: UploadFile) -> imports.Format | None:
    media = (upload.content_type or "").split(";", 1)[0].strip().lower()
    if media in MEDIA:
        return MEDIA[media]
    return EXTENSIONS.get((upload.filename or "").rsplit(".", 1)[-1].lower())


@router.get("/console/import", response_class=HTMLResponse)
async def import_page(request: Request, user: Viewer) -> HTMLResponse:
    """The upload form (staff)."""
    return render(
        request,
        "import.html",
        user=user,
        title="Import a workshop",
        may_act=user.may(Role.STAFF),
        max_bytes=request.app.state.settings.api_max_body_bytes,
    )


@router.post("/console/import/check", response_class=HTMLResponse)
async def check(request: Request, user: Staff) -> HTMLResponse:
    """Read and validate the whole file; start nothing; hold it for the confirmation."""
    limit = request.app.state.settings.api_max_body_bytes
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception as exc:  # noqa: BLE001 - the multipart parser's errors have no common type
        said = f"The upload could not be read ({exc}); send the file again."
        raise ConsoleProblem(422, said) from None
    try:  # the form's file is a temporary file: closed however the check ends
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ConsoleProblem(422, "Choose the workshop file (CSV or JSON) to upload.")
        fmt = _format(upload)
        if fmt is None:
            raise ConsoleProblem(
                415,
                f"The file {upload.filename} is neither CSV nor JSON: upload a file named *.csv "
                "or *.json (docs/import.md describes both).",
            )
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise ConsoleProblem(413, f"The file is over {limit:,} bytes: split the workshop.")
        if not data.strip():
            raise ConsoleProblem(422, f"The file {upload.filename} is empty.")
    finally:
        await form.close()
    parsed = await asyncio.to_thread(imports.validate, data, fmt=fmt)
    held = await uploads.hold(
        request.app.state.backend.sessions,
        owner=_owner(user),
        name=upload.filename,
        fmt=fmt,
        data=data,
        parsed=parsed,
    )
    logger.info(
        "console import checked", format=fmt, rows=len(parsed.rows), errors=len(parsed.errors)
    )
    return render(
        request,
        "import_check.html",
        user=user,
        status=200 if not parsed.errors else 422,
        title="Import a workshop: check",
        upload_id=held.id,
        held=held,
        parsed=parsed,
    )


@router.post("/console/import/{upload_id}/start")
async def start(request: Request, upload_id: str, user: Staff) -> Response:
    """Start the import of a checked upload (once, whichever replica is asked); show its
    progress."""
    held = await _find(request, user, upload_id, with_rows=True)
    parsed = held.parsed
    assert parsed is not None
    async with request.form() as form:
        skip_invalid = form.get("skip_invalid") == "yes"
    if parsed.errors and not (skip_invalid and parsed.rows):
        raise ConsoleProblem(
            422,
            "This file has invalid rows and nothing would start: fix them and upload it "
            "again, or tick “start the valid rows”.",
        )
    backend = request.app.state.backend
    if await uploads.claim(backend.sessions, upload_id=upload_id, owner=_owner(user)):
        task = asyncio.create_task(
            uploads.run_import(
                backend, upload_id=upload_id, parsed=parsed, skip_invalid=skip_invalid
            )
        )
        running = _tasks(request)
        running.add(task)
        task.add_done_callback(running.discard)
        logger.info("console import started", rows=held.to_start)
    return RedirectResponse(f"/console/import/{upload_id}", status_code=303)


@router.get("/console/import/{upload_id}", response_class=HTMLResponse)
async def progress(request: Request, upload_id: str, user: Staff) -> HTMLResponse:
    """The import's progress while rows start (htmx polls the part), then its summary; an
    import whose replica stopped says so."""
    held = await _find(request, user, upload_id)
    partial = request.headers.get("HX-Request") and request.headers.get("HX-Target") == "progress"
    stalled = held.stalled()
    return render(
        request,
        "_import_progress.html" if partial else "import_progress.html",
        user=user,
        title="Import a workshop: progress",
        upload_id=upload_id,
        held=held,
        stalled=stalled,
        finished=held.finished or stalled,
    )
