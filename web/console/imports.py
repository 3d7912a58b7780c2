"""Import a workshop: upload the file (CSV or JSON, as ``POST /api/imports`` takes it), see
every row validated (errors by line and field) before anything starts, confirm, watch the
matches start (the page polls with htmx), then the summary: started, already present,
refused, invalid.

Between the check and the confirmation the upload is held in this process's memory under a
random id bound to the session that uploaded it (the SHA-256 of its CSRF secret), for at most
``HOLD_MINUTES`` and at most ``HELD_MAX`` uploads at once (the oldest goes first); another
session, or an id that expired, gets a 404 asking to upload again. The file's SHA-256 is shown
on both steps, so what is confirmed is what was checked."""

import asyncio
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from domain.access import Role
from domain.imports import ParsedImport
from services import imports
from services.backend import Backend
from services.console_auth import ConsoleUser
from services.imports import ImportRowResult, ImportSummary
from web.console.auth import Staff, Viewer
from web.console.layout import ConsoleProblem, render

logger = structlog.get_logger()
router = APIRouter(include_in_schema=False)

HELD_MAX = 20  # uploads held at once in this process
HOLD_MINUTES = 30
EXTENSIONS: dict[str, imports.Format] = {"csv": "csv", "json": "json"}
MEDIA: dict[str, imports.Format] = {"text/csv": "csv", "application/json": "json"}


@dataclass
class Held:
    """An upload between its check and its import, and then the import's progress."""

    owner: str
    name: str
    digest: str
    size: int
    parsed: ParsedImport
    held_at: datetime
    done: list[ImportRowResult] = field(default_factory=list)
    summary: ImportSummary | None = None
    failure: str | None = None
    task: asyncio.Task[None] | None = None

    @property
    def to_start(self) -> int:
        return len(self.parsed.rows)


def _owner(user: ConsoleUser) -> str:
    return hashlib.sha256(user.csrf_token.encode()).hexdigest()


def _held(request: Request) -> dict[str, Held]:
    state = request.app.state
    if not hasattr(state, "console_imports"):
        state.console_imports = {}
    held: dict[str, Held] = state.console_imports
    now = datetime.now(UTC)
    for key in [k for k, h in held.items() if now - h.held_at > timedelta(minutes=HOLD_MINUTES)]:
        task = held[key].task
        if task is None or task.done():
            del held[key]
    return held


def _find(request: Request, user: ConsoleUser, upload_id: str) -> Held:
    found = _held(request).get(upload_id)
    if found is None or not secrets.compare_digest(found.owner, _owner(user)):
        raise ConsoleProblem(
            404,
            "This upload is not held any more (it is kept for "
            f"{HOLD_MINUTES} minutes, for the session that sent it): upload the file again.",
        )
    return found


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
    parsed = await asyncio.to_thread(imports.validate, data, fmt=fmt)
    held = _held(request)
    while len(held) >= HELD_MAX:
        del held[min(held, key=lambda k: held[k].held_at)]
    upload_id = secrets.token_urlsafe(16)
    held[upload_id] = Held(
        owner=_owner(user),
        name=upload.filename[:200],
        digest=hashlib.sha256(data).hexdigest(),
        size=len(data),
        parsed=parsed,
        held_at=datetime.now(UTC),
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
        upload_id=upload_id,
        held=held[upload_id],
        parsed=parsed,
    )


async def _run(held: Held, backend: Backend, skip_invalid: bool) -> None:
    try:
        held.summary = await imports.import_file(
            backend,
            parsed=held.parsed,
            skip_invalid=skip_invalid,
            on_row=held.done.append,
        )
    except imports.ImportInvalid as exc:
        held.failure = str(exc)
    except Exception as exc:  # noqa: BLE001 - the page says it; the log has the kind
        logger.warning("console import failed", error=type(exc).__name__)
        held.failure = f"The import stopped: {exc}"


@router.post("/console/import/{upload_id}/start")
async def start(request: Request, upload_id: str, user: Staff) -> Response:
    """Start the import of a checked upload (once); show its progress."""
    held = _find(request, user, upload_id)
    skip_invalid = (await request.form()).get("skip_invalid") == "yes"
    if held.parsed.errors and not (skip_invalid and held.parsed.rows):
        raise ConsoleProblem(
            422,
            "This file has invalid rows and nothing would start: fix them and upload it "
            "again, or tick “start the valid rows”.",
        )
    if held.task is None:
        held.task = asyncio.create_task(_run(held, request.app.state.backend, skip_invalid))
        logger.info("console import started", rows=held.to_start)
    return RedirectResponse(f"/console/import/{upload_id}", status_code=303)


@router.get("/console/import/{upload_id}", response_class=HTMLResponse)
async def progress(request: Request, upload_id: str, user: Staff) -> HTMLResponse:
    """The import's progress while rows start (htmx polls the part), then its summary."""
    held = _find(request, user, upload_id)
    partial = request.headers.get("HX-Request") and request.headers.get("HX-Target") == "progress"
    return render(
        request,
        "_import_progress.html" if partial else "import_progress.html",
        user=user,
        title="Import a workshop: progress",
        upload_id=upload_id,
        held=held,
        finished=held.summary is not None or held.failure is not None,
    )
