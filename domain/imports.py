"""Bulk import of a workshop: what a file holds once validated, and every error it has.

Validation is pure: bytes in, rows and errors out. Each error names where it is (the line as
the file shows it for CSV, the item's index for JSON), the field (the CSV column, or the JSON
path) and a message that says what would be accepted. The CSV reading is in csv_format.py."""

import json
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.enums import FocusArea
from domain.lifecycle.imported import ImportedHistory
from domain.model import ExpressionOfInterest
from domain.policy import TimingPolicy
from domain.text import ID_MAX, NAME_MAX, TEXT_MAX

UNDER_WAY = "under_way"  # the JSON field of a match under way (an ImportedHistory)

_IDENTIFIER = (
    f"letters, digits, '.', '_' or '-', starting with a letter or digit, at most {ID_MAX} "
    "characters (e.g. NS21-001)"
)
_NAME = f"one line of text, 1 to {NAME_MAX} characters"
_DAY = "a date as YYYY-MM-DD (e.g. 2021-10-27)"
# What would be accepted, by the last part of a field's path.
HINTS: dict[str, str] = {
    "id": _IDENTIFIER,
    "title": _NAME,
    "name": _NAME,
    "date": _DAY,
    "focus_area": "one of "
    + ", ".join(f"'{a.label}'" for a in FocusArea)
    + " (or the code, e.g. future_of_work)",
    "country": "an ISO 3166-1 alpha-2 country code (e.g. BD, KZ)",
    "email": "an email address (e.g. name@ministry.gov.bd)",
    "language": "an ISO 639-1 language code (e.g. en, fr, es, ru, ar, pt); empty means en",
    "interest_statement": f"text of at most {TEXT_MAX} characters (may be empty)",
    "submitted_at": "a date and time with a timezone (e.g. 2021-10-28T09:00:00Z)",
    "stage": "field_visit, adaptation or outcome (empty or follow_up: a new match)",
    "field_visit_on": _DAY,
    "adaptation_on": _DAY,
    "outcome_on": _DAY,
}


class RowError(BaseModel):
    """One thing wrong with a file: where, which field, and what would be accepted."""

    model_config = ConfigDict(frozen=True)

    line: int | None = Field(default=None, description="CSV: the line as the file shows it")
    item: int | None = Field(default=None, description="JSON: the EOI's index (from 0)")
    field: str = Field(description="the CSV column or the JSON path; 'file' for the whole file")
    message: str


class ImportRow(BaseModel):
    """One valid EOI of the file, and where the match stands if it is already under way."""

    line: int | None = None
    item: int | None = None
    eoi: ExpressionOfInterest
    imported: ImportedHistory | None = None


class ParsedImport(BaseModel):
    """A file read and validated: its valid rows, the errors of the others, a workshop policy."""

    format: Literal["csv", "json"]
    rows: list[ImportRow] = Field(default_factory=list)
    errors: list[RowError] = Field(default_factory=list)
    policy: TimingPolicy | None = None

    @property
    def invalid_rows(self) -> int:
        """How many rows (or items) have at least one error."""
        return len({(e.line, e.item) for e in self.errors})


def explain(error: Any, field: str) -> str:
    """A pydantic error as a sentence that says what would be accepted."""
    message = str(error.get("msg", "invalid"))
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    hint = HINTS.get(field.rsplit(".", 1)[-1].removeprefix("adopter_").removeprefix("provider_"))
    if hint is None:
        for suffix, text in HINTS.items():
            if field.endswith(suffix):
                hint = text
                break
    return f"{message}; accepted: {hint}" if hint else message


def check_under_way(
    imported: ImportedHistory | None, eoi: ExpressionOfInterest, today: date
) -> str | None:
    """Say what is wrong with a match's milestones against its EOI and today, or None."""
    if imported is None:
        return None
    return imported.check_dates(submitted=eoi.submitted_at.date(), today=today)


def duplicate_ids(rows: list[ImportRow], where: str) -> list[RowError]:
    """An EOI id twice in one file: every repeat is an error naming the first."""
    first: dict[str, ImportRow] = {}
    errors = []
    for row in rows:
        seen = first.setdefault(row.eoi.id, row)
        if seen is not row:
            at = f"line {seen.line}" if seen.line is not None else f"item {seen.item}"
            errors.append(
                RowError(
                    line=row.line,
                    item=row.item,
                    field=where,
                    message=f"EOI {row.eoi.id} is already in this file ({at}); accepted: "
                    "each eoi_id once per file",
                )
            )
    return errors


def parse_json(data: bytes, *, today: date) -> ParsedImport:
    """Read a JSON import: a list of EOIs, or {"workshop_policy": {...}, "eois": [...]}."""
    out = ParsedImport(format="json")
    shape = (
        "accepted: a JSON list of EOIs (as POST /api/eois takes), or an object "
        '{"workshop_policy": {...}, "eois": [...]}'
    )
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        out.errors.append(RowError(field="file", message=f"not UTF-8 ({exc.reason}); {shape}"))
        return out
    except json.JSONDecodeError as exc:
        out.errors.append(
            RowError(field="file", message=f"not JSON: {exc.msg} at line {exc.lineno}; {shape}")
        )
        return out
    except RecursionError:
        # the decoder recurses once per level: an EOI is a few levels deep, never hundreds
        out.errors.append(RowError(field="file", message=f"nested too deeply; {shape}"))
        return out
    if isinstance(document, dict):
        unknown = sorted(set(document) - {"workshop_policy", "eois"})
        if unknown or not isinstance(document.get("eois"), list):
            what = f"unknown keys {', '.join(unknown)}" if unknown else "no list under 'eois'"
            out.errors.append(RowError(field="file", message=f"{what}; {shape}"))
            return out
        if document.get("workshop_policy") is not None:
            try:
                out.policy = TimingPolicy.model_validate(document["workshop_policy"])
            except ValidationError as exc:
                for error in exc.errors():
                    path = ".".join(str(p) for p in ("workshop_policy", *error["loc"]))
                    out.errors.append(RowError(field=path, message=error["msg"]))
        items = document["eois"]
    elif isinstance(document, list):
        items = document
    else:
        out.errors.append(RowError(field="file", message=f"a {type(document).__name__}; {shape}"))
        return out
    if not items:
        out.errors.append(RowError(field="file", message=f"no EOI to import; {shape}"))
    for index, item in enumerate(items):
        row, errors = _json_item(index, item, today)
        out.errors += errors
        if row is not None:
            out.rows.append(row)
    out.errors += duplicate_ids(out.rows, "id")
    return out


def _json_item(index: int, item: Any, today: date) -> tuple[ImportRow | None, list[RowError]]:
    if not isinstance(item, dict):
        return None, [RowError(item=index, field="", message="accepted: an EOI object")]
    fields = dict(item)
    under_way = fields.pop(UNDER_WAY, None)
    errors: list[RowError] = []
    eoi = imported = None
    try:
        eoi = ExpressionOfInterest.model_validate(fields)
    except ValidationError as exc:
        for error in exc.errors():
            path = ".".join(str(p) for p in error["loc"])
            errors.append(RowError(item=index, field=path, message=explain(error, path)))
    if under_way is not None:
        try:
            imported = ImportedHistory.model_validate(under_way)
        except ValidationError as exc:
            for error in exc.errors():
                path = ".".join(str(p) for p in (UNDER_WAY, *error["loc"]))
                errors.append(RowError(item=index, field=path, message=explain(error, path)))
    if eoi is not None and (problem := check_under_way(imported, eoi, today)):
        field = f"{UNDER_WAY}.{problem.split(' ', 1)[0]}"  # the message opens with it
        errors.append(RowError(item=index, field=field, message=problem))
    if errors or eoi is None:
        return None, errors
    return ImportRow(item=index, eoi=eoi, imported=imported), []
