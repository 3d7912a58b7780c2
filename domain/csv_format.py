"""The workshop CSV format: one row per expression of interest (docs/import.md)."""

import csv
import io
from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import ValidationError

from domain.enums import Stage
from domain.imports import (
    HINTS,
    ImportRow,
    ParsedImport,
    RowError,
    check_under_way,
    duplicate_ids,
    explain,
)
from domain.lifecycle.imported import MILESTONES, ImportedHistory
from domain.model import ExpressionOfInterest

# Every row must have these.
CSV_COLUMNS: tuple[str, ...] = (
    "eoi_id",
    "workshop_id",
    "workshop_title",
    "workshop_date",
    "solution_id",
    "solution_title",
    "focus_area",
    "provider_institution",
    "provider_country",
    "provider_contact_name",
    "provider_contact_email",
    "adopter_institution",
    "adopter_country",
    "adopter_contact_name",
    "adopter_contact_email",
    "interest_statement",
    "submitted_at",
)
# Each contact's language; ``language`` (the former single column) applies to a contact whose
# own column is absent or empty. Without any of them a contact reads English.
LANGUAGE_COLUMNS: tuple[str, ...] = (
    "adopter_contact_language",
    "provider_contact_language",
    "language",
)
# A match already under way: the stage it is in and the dates it entered each stage.
UNDER_WAY_COLUMNS: tuple[str, ...] = ("current_stage", *MILESTONES.values())
OPTIONAL_COLUMNS = LANGUAGE_COLUMNS + UNDER_WAY_COLUMNS
ALL_COLUMNS = CSV_COLUMNS + OPTIONAL_COLUMNS

# The column of each field of the EOI model (a pydantic error's location).
_COLUMN_OF: dict[tuple[str, ...], str] = {
    ("id",): "eoi_id",
    ("workshop", "id"): "workshop_id",
    ("workshop", "title"): "workshop_title",
    ("workshop", "date"): "workshop_date",
    ("solution", "id"): "solution_id",
    ("solution", "title"): "solution_title",
    ("solution", "focus_area"): "focus_area",
    ("solution", "provider", "name"): "provider_institution",
    ("solution", "provider", "country"): "provider_country",
    ("solution", "contact", "name"): "provider_contact_name",
    ("solution", "contact", "email"): "provider_contact_email",
    ("solution", "contact", "language"): "provider_contact_language",
    ("adopter", "institution", "name"): "adopter_institution",
    ("adopter", "institution", "country"): "adopter_country",
    ("adopter", "contact", "name"): "adopter_contact_name",
    ("adopter", "contact", "email"): "adopter_contact_email",
    ("adopter", "contact", "language"): "adopter_contact_language",
    ("interest_statement",): "interest_statement",
    ("submitted_at",): "submitted_at",
}


def _language(row: Mapping[str, str], party: str) -> str:
    return (
        (row.get(f"{party}_contact_language") or "").strip()
        or (row.get("language") or "").strip()
        or "en"
    )


def eoi_data(row: Mapping[str, str]) -> dict[str, Any]:
    """The EOI model's fields from one CSV row (not validated)."""
    return {
        "id": row["eoi_id"],
        "workshop": {
            "id": row["workshop_id"],
            "title": row["workshop_title"],
            "date": row["workshop_date"],
        },
        "solution": {
            "id": row["solution_id"],
            "title": row["solution_title"],
            "focus_area": row["focus_area"],
            "provider": {"name": row["provider_institution"], "country": row["provider_country"]},
            "contact": {
                "name": row["provider_contact_name"],
                "email": row["provider_contact_email"],
                "language": _language(row, "provider"),
            },
        },
        "adopter": {
            "institution": {"name": row["adopter_institution"], "country": row["adopter_country"]},
            "contact": {
                "name": row["adopter_contact_name"],
                "email": row["adopter_contact_email"],
                "language": _language(row, "adopter"),
            },
        },
        "interest_statement": row["interest_statement"],
        "submitted_at": row["submitted_at"],
    }


def eoi_from_row(row: Mapping[str, str]) -> ExpressionOfInterest:
    """Build an EOI from one CSV row; raises pydantic.ValidationError on bad fields."""
    missing = [c for c in CSV_COLUMNS if c not in row]
    if missing:
        raise KeyError(f"missing columns: {', '.join(missing)}")
    return ExpressionOfInterest.model_validate(eoi_data(row))


def _column(loc: tuple[Any, ...], row: Mapping[str, str], message: str) -> str:
    column = _COLUMN_OF.get(tuple(str(p) for p in loc))
    if column is None:  # a rule across fields: name the column it is about
        return "adopter_institution" if "institution" in message else "adopter_contact_email"
    if column.endswith("_contact_language") and not (row.get(column) or "").strip():
        return "language"  # the value came from the shared column
    return column


def _under_way(row: Mapping[str, str], line: int) -> tuple[ImportedHistory | None, list[RowError]]:
    stage = (row.get("current_stage") or "").strip().lower()
    dates = {name: (row.get(name) or "").strip() for name in MILESTONES.values()}
    if stage in ("", Stage.FOLLOW_UP):
        given = [name for name, value in dates.items() if value]
        if given:
            message = f"a milestone date needs current_stage; accepted: {HINTS['stage']}"
            return None, [RowError(line=line, field=given[0], message=message)]
        return None, []
    try:
        fields = {"stage": stage, **{k: v for k, v in dates.items() if v}}
        return ImportedHistory.model_validate(fields), []
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            loc = [str(p) for p in error["loc"]]
            field = "current_stage" if loc in ([], ["stage"]) else loc[0]
            if not loc:  # the message opens with the column it is about
                first = error["msg"].removeprefix("Value error, ").split(" ", 1)[0]
                field = first if first in UNDER_WAY_COLUMNS else field
            hint_key = "stage" if field == "current_stage" else field
            errors.append(RowError(line=line, field=field, message=explain(error, hint_key)))
        return None, errors


def _row(values: dict[str, str], line: int, today: date) -> tuple[ImportRow | None, list[RowError]]:
    errors: list[RowError] = []
    eoi = None
    try:
        eoi = ExpressionOfInterest.model_validate(eoi_data(values))
    except ValidationError as exc:
        for error in exc.errors():
            message = explain(error, ".".join(str(p) for p in error["loc"]) or "row")
            column = _column(error["loc"], values, message)
            errors.append(RowError(line=line, field=column, message=message))
    errors = list(dict.fromkeys(errors))  # the shared language column fails for both contacts
    imported, problems = _under_way(values, line)
    errors += problems
    if eoi is not None and (problem := check_under_way(imported, eoi, today)):
        errors.append(RowError(line=line, field=problem.split(" ", 1)[0], message=problem))
    if errors or eoi is None:
        return None, errors
    return ImportRow(line=line, eoi=eoi, imported=imported), []


def parse_csv(data: bytes, *, today: date) -> ParsedImport:
    """Read and validate a workshop CSV (UTF-8, with or without BOM; header on line 1)."""
    out = ParsedImport(format="csv")
    header_hint = f"accepted: a header line naming the columns {', '.join(CSV_COLUMNS)}"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        out.errors.append(
            RowError(
                line=line,
                field="file",
                message=f"byte {data[exc.start]:#04x} is not UTF-8; accepted: a file saved "
                "as UTF-8 (with or without BOM)",
            )
        )
        return out
    if not text.strip():
        out.errors.append(
            RowError(line=1, field="file", message=f"the file is empty; {header_hint}")
        )
        return out
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as exc:
        out.errors.append(RowError(line=1, field="file", message=f"{exc}; {header_hint}"))
        return out
    for name in header:
        if name not in ALL_COLUMNS:
            message = f"unknown column; accepted: {', '.join(ALL_COLUMNS)}"
            out.errors.append(RowError(line=1, field=name or "(empty)", message=message))
    for name in {n for n in header if header.count(n) > 1}:
        out.errors.append(
            RowError(line=1, field=name, message="column given twice; accepted: once")
        )
    for name in CSV_COLUMNS:
        if name not in header:
            out.errors.append(
                RowError(line=1, field=name, message=f"missing column; {header_hint}")
            )
    if out.errors:
        return out
    start = reader.line_num + 1
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not any(f.strip() for f in fields):
                continue  # a blank line
            if len(fields) != len(header):
                message = (
                    f"the row has {len(fields)} fields and the header {len(header)}; accepted: "
                    "one value per column (quote values that hold a comma)"
                )
                out.errors.append(RowError(line=line, field="row", message=message))
                continue
            row, errors = _row(dict(zip(header, fields, strict=True)), line, today)
            out.errors += errors
            if row is not None:
                out.rows.append(row)
    except csv.Error as exc:
        message = f"{exc}; accepted: RFC 4180 CSV (quotes doubled inside quoted values)"
        out.errors.append(RowError(line=reader.line_num, field="row", message=message))
    if not out.rows and not out.errors:
        out.errors.append(
            RowError(line=2, field="file", message="no EOI rows; accepted: one row per EOI")
        )
    out.errors += duplicate_ids(out.rows, "eoi_id")
    out.errors.sort(key=lambda e: e.line or 0)
    return out
