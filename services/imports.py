"""Bulk import of a workshop: validate every row first, then start each match once."""

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Literal

import structlog
from pydantic import BaseModel, Field

from domain.csv_format import parse_csv
from domain.imports import ImportRow, ParsedImport, RowError, parse_json
from services.backend import Backend
from services.errors import ConflictingEoi, Unavailable
from services.intake import submit_eoi

logger = structlog.get_logger()

CONCURRENCY = 8  # matches started at once: enough to load a workshop, gentle on Temporal

Outcome = Literal["started", "already_present", "refused", "invalid", "valid"]
Format = Literal["csv", "json"]


class ImportRowResult(BaseModel):
    """What became of one row: started, already present, refused (and why), or invalid."""

    line: int | None = Field(default=None, description="CSV: the line as the file shows it")
    item: int | None = Field(default=None, description="JSON: the EOI's index (from 0)")
    eoi_id: str | None = None
    match_id: str | None = None
    stage: str | None = Field(default=None, description="the stage the match starts at")
    outcome: Outcome = Field(description="'valid': a dry run found nothing wrong")
    reason: str | None = None


class ImportSummary(BaseModel):
    """The result of an import: a count per outcome, each row, and every error found."""

    format: Format
    dry_run: bool
    rows: int = Field(description="rows (or items) read, valid or not")
    started: int = 0
    already_present: int = 0
    refused: int = 0
    invalid: int = 0
    results: list[ImportRowResult] = Field(default_factory=list)
    errors: list[RowError] = Field(default_factory=list)


class ImportInvalid(Exception):
    """Some rows are invalid, so nothing was started; ``errors`` lists every one."""

    def __init__(self, parsed: ParsedImport) -> None:
        self.parsed = parsed
        self.errors = parsed.errors
        super().__init__(
            f"{len(parsed.errors)} error(s) in {parsed.invalid_rows or 1} row(s) of the "
            f"{parsed.format} file: nothing was started (fix them, or import with skip_invalid)"
        )


def sniff(data: bytes) -> Format:
    """A file opening with [ or { (after a BOM and blanks) is JSON; any other is CSV."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if head in (b"[", b"{") else "csv"


def validate(data: bytes, *, fmt: Format | None = None, today: date | None = None) -> ParsedImport:
    """Read and validate a whole file (nothing is started)."""
    today = today or datetime.now(UTC).date()
    kind = fmt or sniff(data)
    return parse_json(data, today=today) if kind == "json" else parse_csv(data, today=today)


def _invalid_results(parsed: ParsedImport) -> list[ImportRowResult]:
    seen: dict[tuple[int | None, int | None], ImportRowResult] = {}
    for error in parsed.errors:
        key = (error.line, error.item)
        result = seen.setdefault(
            key, ImportRowResult(line=error.line, item=error.item, outcome="invalid", reason="")
        )
        text = f"{error.field}: {error.message}"
        result.reason = f"{result.reason}; {text}" if result.reason else text
    return list(seen.values())


async def import_file(
    backend: Backend | None,
    *,
    parsed: ParsedImport,
    skip_invalid: bool = False,
    dry_run: bool = False,
    on_row: Callable[[ImportRowResult], None] | None = None,
) -> ImportSummary:
    """Start a match for each valid row, idempotently, at most CONCURRENCY at once.

    Raise ImportInvalid (starting nothing) when a row is invalid, unless ``skip_invalid`` and
    some row is valid; a dry run starts nothing either way (and needs no backend).
    Re-importing a file starts and sends nothing."""
    if parsed.errors and (not skip_invalid or not parsed.rows):
        raise ImportInvalid(parsed)  # a dry run answers as the import would
    summary = ImportSummary(
        format=parsed.format,
        dry_run=dry_run,
        rows=len(parsed.rows) + parsed.invalid_rows,
        invalid=parsed.invalid_rows,
        errors=parsed.errors,
        results=_invalid_results(parsed),
    )
    if dry_run:
        for row in parsed.rows:
            summary.results.append(_result(row, "valid"))
    else:
        if backend is None:
            raise ValueError("an import that starts matches needs a backend")
        gate = asyncio.Semaphore(CONCURRENCY)

        async def start(row: ImportRow) -> ImportRowResult:
            async with gate:
                result = await _start(backend, row=row, parsed=parsed)
            if on_row is not None:
                on_row(result)
            return result

        summary.results += await asyncio.gather(*(start(row) for row in parsed.rows))
        for result in summary.results:
            if result.outcome in ("started", "already_present", "refused"):
                setattr(summary, result.outcome, getattr(summary, result.outcome) + 1)
    summary.results.sort(key=lambda r: (r.line or 0, r.item or 0))
    logger.info(
        "import done",
        format=parsed.format,
        dry_run=dry_run,
        started=summary.started,
        already_present=summary.already_present,
        refused=summary.refused,
        invalid=summary.invalid,
    )
    return summary


def _result(row: ImportRow, outcome: Outcome, reason: str | None = None) -> ImportRowResult:
    return ImportRowResult(
        line=row.line,
        item=row.item,
        eoi_id=row.eoi.id,
        match_id=row.eoi.match_id,
        stage=row.imported.stage if row.imported else "follow_up",
        outcome=outcome,
        reason=reason,
    )


async def _start(backend: Backend, *, row: ImportRow, parsed: ParsedImport) -> ImportRowResult:
    try:
        started = await submit_eoi(
            backend, eoi=row.eoi, policy=parsed.policy, imported=row.imported
        )
    except (ConflictingEoi, Unavailable) as exc:
        return _result(row, "refused", str(exc))
    return _result(row, "started" if started.created else "already_present")
