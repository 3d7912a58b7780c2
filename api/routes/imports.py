"""Bulk import of a workshop's file (CSV or JSON): every row validated, then started once."""

import asyncio
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import PROTECTED, BackendDep, require
from api.schemas import ErrorResponse
from domain.access import Role
from domain.imports import RowError
from services import imports
from services.imports import ImportSummary

logger = structlog.get_logger()
router = APIRouter(
    prefix="/api/imports",
    tags=["intake"],
    dependencies=[Depends(require(Role.STAFF))],
    responses=PROTECTED,
)

FORMATS: dict[str, imports.Format] = {"text/csv": "csv", "application/json": "json"}
UPLOAD = "multipart/form-data"  # a browser's file upload
EXTENSIONS = {".csv": "text/csv", ".json": "application/json"}


def _refused(code: int, detail: str) -> JSONResponse:
    return JSONResponse(status_code=code, content=ErrorResponse(detail=detail).model_dump())


async def _uploaded(request: Request) -> tuple[str, bytes] | JSONResponse:
    """The media type and bytes of an uploaded file (its part's type, else its name's
    extension), or the answer that says what is wrong with the upload."""
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception as exc:  # the multipart parser's errors have no common type
        return _refused(422, f"the upload could not be read: {exc}")
    try:  # the form's file is a temporary file: closed however this ends
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return _refused(422, "send the workshop file in a form part named file")
        media = (upload.content_type or "").split(";", 1)[0].strip().lower()
        if media not in FORMATS:
            suffix = "." + (upload.filename or "").rsplit(".", 1)[-1].lower()
            media = EXTENSIONS.get(suffix, "")
        if not media:
            return _refused(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                f"the uploaded file {upload.filename or '(unnamed)'} is neither CSV nor JSON; "
                "accepted: a file named *.csv or *.json, or typed text/csv or application/json",
            )
        return media, await upload.read()
    finally:
        await form.close()


class ImportOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = Field(default=False, description="validate only: start nothing")
    skip_invalid: bool = Field(
        default=False, description="start the valid rows even when others are invalid"
    )


class ImportRejected(BaseModel):
    """The file was refused: nothing was started. ``errors`` lists every problem found."""

    detail: str
    errors: list[RowError] = Field(default_factory=list)


_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A workshop file: the CSV format or JSON (docs/import.md)",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "the file, named *.csv or *.json (or typed so)",
                        }
                    },
                    "required": ["file"],
                }
            },
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "array", "items": {"type": "object"}},
                        {
                            "type": "object",
                            "properties": {
                                "workshop_policy": {"type": "object"},
                                "eois": {"type": "array", "items": {"type": "object"}},
                            },
                            "required": ["eois"],
                        },
                    ]
                }
            },
        },
    }
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportSummary,
    openapi_extra=_BODY,
    responses={
        200: {
            "model": ImportSummary,
            "description": "a dry run, or an import that started no new match",
        },
        201: {"model": ImportSummary, "description": "at least one match was started"},
        415: {
            "model": ErrorResponse,
            "description": "the body (or the uploaded file) is neither CSV nor JSON",
        },
        422: {
            "model": ImportRejected,
            "description": "invalid rows (each with its line or item, field and what would be "
            "accepted), or an invalid query parameter; nothing was started",
        },
    },
)
async def import_file(
    request: Request,
    response: Response,
    backend: BackendDep,
    options: Annotated[ImportOptions, Query()],
) -> ImportSummary | JSONResponse:
    """Import a workshop: validate every row, then start one match per EOI (once ever)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == UPLOAD:
        uploaded = await _uploaded(request)
        if isinstance(uploaded, JSONResponse):
            return uploaded
        media, body = uploaded
    elif media in FORMATS:
        body = await request.body()
    else:
        return _refused(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"content type {media or '(none)'} is not accepted; accepted: text/csv, "
            "application/json, or multipart/form-data with the file in a part named file",
        )
    # ~1 ms a row: a file near the body limit would hold every other request up for seconds
    parsed = await asyncio.to_thread(imports.validate, body, fmt=FORMATS[media])
    try:
        summary = await imports.import_file(
            backend, parsed=parsed, skip_invalid=options.skip_invalid, dry_run=options.dry_run
        )
    except imports.ImportInvalid as exc:
        logger.info("import refused", format=parsed.format, errors=len(exc.errors))
        return JSONResponse(
            status_code=422,
            content=ImportRejected(detail=str(exc), errors=exc.errors).model_dump(mode="json"),
        )
    if summary.started == 0:
        response.status_code = status.HTTP_200_OK
    return summary
