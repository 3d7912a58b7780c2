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

FORMATS = {"text/csv": "csv", "application/json": "json"}


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
        415: {"model": ErrorResponse, "description": "the body is neither text/csv nor JSON"},
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
    if media not in FORMATS:
        return JSONResponse(
            status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            content=ErrorResponse(
                detail=f"content type {media or '(none)'} is not accepted; accepted: "
                "text/csv or application/json"
            ).model_dump(),
        )
    body = await request.body()
    # ~1 ms a row: a file near the body limit would hold every other request up for seconds
    parsed = await asyncio.to_thread(imports.validate, body, fmt=FORMATS[media])  # type: ignore[arg-type]
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
