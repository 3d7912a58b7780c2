"""Validation of a workshop's import file (CSV and JSON): every bad row named, nothing guessed."""

import json
from datetime import date

import pytest

from domain.csv_format import eoi_from_row, parse_csv
from domain.imports import parse_json
from tests.support import EXAMPLES

TODAY = date(2026, 11, 23)
HEADER = (EXAMPLES / "workshop-2024.csv").read_text().splitlines()[0]
GOOD = (EXAMPLES / "workshop-2024.csv").read_text().splitlines()[1]


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _errors(data: bytes) -> list[tuple[int | None, str]]:
    return [(e.line, e.field) for e in parse_csv(data, today=TODAY).errors]


def _row(**changes: str) -> str:
    """The example's first row with columns changed."""
    values = dict(zip(HEADER.split(","), _split(GOOD), strict=True))
    values.update(changes)
    return ",".join(f'"{v}"' if "," in v or "\n" in v else v for v in values.values())


def _split(line: str) -> list[str]:
    import csv

    return next(csv.reader([line]))


def test_the_examples_are_valid_with_a_language_per_contact():
    parsed = parse_csv((EXAMPLES / "workshop-2024.csv").read_bytes(), today=TODAY)
    assert parsed.errors == []
    assert [r.line for r in parsed.rows] == [2, 3, 4, 5]
    first = parsed.rows[0].eoi
    assert (first.adopter.contact.language, first.solution.contact.language) == ("th", "en")
    assert [r.imported.stage if r.imported else None for r in parsed.rows] == [
        None,
        "field_visit",
        "adaptation",
        "outcome",
    ]
    old = parse_csv((EXAMPLES / "workshop.csv").read_bytes(), today=TODAY)
    assert old.errors == [] and len(old.rows) == 4


def test_the_former_single_language_column_still_applies_to_both_contacts():
    old = (EXAMPLES / "workshop.csv").read_text()
    [row] = parse_csv(_csv(old.splitlines()[1], header=old.splitlines()[0]), today=TODAY).rows
    assert row.eoi.adopter.contact.language == row.eoi.solution.contact.language == "ru"
    # a contact's own column wins over the shared one
    header = old.splitlines()[0] + ",adopter_contact_language"
    [row] = parse_csv(_csv(old.splitlines()[1] + ",kk", header=header), today=TODAY).rows
    assert (row.eoi.adopter.contact.language, row.eoi.solution.contact.language) == ("kk", "ru")
    assert eoi_from_row(_mapping(old)).adopter.contact.language == "ru"  # the former reader


def _mapping(text: str) -> dict[str, str]:
    lines = text.splitlines()
    return dict(zip(_split(lines[0]), _split(lines[1]), strict=True))


def test_a_bom_is_read_and_a_non_utf8_byte_is_named_with_its_line():
    assert parse_csv(b"\xef\xbb\xbf" + _csv(GOOD), today=TODAY).errors == []
    latin1 = _csv(GOOD, _row(eoi_id="BK24-009", adopter_contact_name="Jos\xe9"))
    latin1 = latin1.replace("José".encode(), b"Jos\xe9")
    [error] = parse_csv(latin1, today=TODAY).errors
    assert (error.line, error.field) == (3, "file")
    assert "not UTF-8" in error.message and "UTF-8 (with or without BOM)" in error.message


@pytest.mark.parametrize("data", [b"", b"  \n\n"], ids=["empty", "blank"])
def test_an_empty_file_says_what_a_file_holds(data):
    [error] = parse_csv(data, today=TODAY).errors
    assert (error.line, error.field) == (1, "file")
    assert "empty" in error.message and "eoi_id" in error.message


def test_a_header_without_rows_is_refused():
    [error] = parse_csv(_csv(), today=TODAY).errors
    assert "no EOI rows" in error.message


def test_unknown_twice_given_and_missing_columns_are_named_on_line_1():
    header = HEADER.replace("adopter_country", "adopter_nation") + ",notes,notes"
    errors = parse_csv(_csv(header=header), today=TODAY).errors
    found = {(e.line, e.field) for e in errors}
    assert found == {(1, "adopter_nation"), (1, "notes"), (1, "adopter_country")}
    unknown = next(e for e in errors if e.field == "adopter_nation")
    assert "accepted:" in unknown.message and "adopter_country" in unknown.message


def test_every_bad_field_is_reported_with_its_line_column_and_what_is_accepted():
    data = _csv(
        GOOD,
        _row(eoi_id="BK24-010", adopter_contact_email="nobody"),
        _row(eoi_id="BK24-011", provider_country="XX", focus_area="Future of Stuff"),
        _row(eoi_id="BK24-012", adopter_contact_language="thai", workshop_date="2024-13-01"),
        _row(eoi_id="bad id!", submitted_at="2024-05-15T09:00:00"),
        _row(
            eoi_id="BK24-014",
            adopter_institution="Aspire to Innovate (a2i), ICT Division",
            adopter_country="BD",
        ),
    )
    errors = parse_csv(data, today=TODAY).errors
    assert [(e.line, e.field) for e in errors] == [
        (3, "adopter_contact_email"),
        (4, "focus_area"),
        (4, "provider_country"),
        (5, "workshop_date"),
        (5, "adopter_contact_language"),
        (6, "eoi_id"),
        (6, "submitted_at"),
        (7, "adopter_institution"),
    ]
    assert all("accepted:" in e.message for e in errors[:-1])
    by_field = {e.field: e.message for e in errors}
    assert "Future of Work" in by_field["focus_area"]
    assert "ISO 3166-1 alpha-2" in by_field["provider_country"]
    assert "ISO 639-1" in by_field["adopter_contact_language"]
    assert "YYYY-MM-DD" in by_field["workshop_date"]
    assert "timezone" in by_field["submitted_at"]
    assert "must differ" in by_field["adopter_institution"]


def test_a_bad_shared_language_is_reported_once_under_its_own_column():
    old = (EXAMPLES / "workshop.csv").read_text().splitlines()
    row = old[1].replace(",ru,Bring", ",russian,Bring")
    errors = parse_csv(_csv(row, header=old[0]), today=TODAY).errors
    assert [(e.line, e.field) for e in errors] == [(2, "language")]


def test_a_duplicate_eoi_id_names_the_first_line():
    errors = parse_csv(_csv(GOOD, _row(interest_statement="again"), GOOD), today=TODAY).errors
    assert [(e.line, e.field) for e in errors] == [(3, "eoi_id"), (4, "eoi_id")]
    assert "line 2" in errors[0].message


def test_line_numbers_count_lines_as_the_file_shows_them():
    multi = _row(eoi_id="BK24-020", interest_statement="first line\nsecond line")
    data = _csv(GOOD, multi, "", _row(eoi_id="BK24-021", adopter_country="ZZ"))
    assert _errors(data) == [(6, "adopter_country")]  # 2, 3-4 (two lines), 5 blank, 6


def test_a_row_with_too_few_or_too_many_fields_is_named():
    errors = parse_csv(
        _csv(GOOD, "BK24-030,ws", GOOD.replace("BK24-001", "BK24-031") + ",x"), today=TODAY
    ).errors
    assert [(e.line, e.field) for e in errors] == [(3, "row"), (4, "row")]
    assert "one value per column" in errors[0].message


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"current_stage": "adaptation", "adaptation_on": ""}, "adaptation_on", "is required"),
        ({"current_stage": "limbo"}, "current_stage", "field_visit, adaptation or outcome"),
        (
            {
                "current_stage": "field_visit",
                "field_visit_on": "2024-07-02",
                "outcome_on": "2025-01-01",
            },
            "outcome_on",
            "must be empty",
        ),
        (
            {
                "current_stage": "adaptation",
                "field_visit_on": "2024-09-02",
                "adaptation_on": "2024-08-01",
            },
            "adaptation_on",
            "must not be before field_visit_on",
        ),
        (
            {"current_stage": "field_visit", "field_visit_on": "2030-01-01"},
            "field_visit_on",
            "after today",
        ),
        (
            {"current_stage": "field_visit", "field_visit_on": "2024-05-01"},
            "field_visit_on",
            "before the EOI was submitted",
        ),
        ({"field_visit_on": "2024-07-02"}, "field_visit_on", "needs current_stage"),
        ({"current_stage": "outcome", "outcome_on": "15/08/2025"}, "outcome_on", "YYYY-MM-DD"),
    ],
)
def test_a_match_under_way_needs_consistent_milestones(changes, field, words):
    [error] = parse_csv(_csv(_row(**changes)), today=TODAY).errors
    assert (error.line, error.field) == (2, field)
    assert words in error.message


def test_json_a_list_or_an_object_with_a_workshop_policy():
    eoi = json.loads((EXAMPLES / "eoi.json").read_text())
    listed = parse_json(json.dumps([eoi]).encode(), today=TODAY)
    assert listed.errors == [] and listed.rows[0].item == 0 and listed.policy is None
    under_way = {
        **eoi,
        "id": "NS21-099",
        "under_way": {"stage": "adaptation", "adaptation_on": "2022-03-01"},
    }
    document = {"workshop_policy": {"lapse_day": 45}, "eois": [eoi, under_way]}
    parsed = parse_json(json.dumps(document).encode(), today=TODAY)
    assert parsed.errors == [] and parsed.policy is not None and parsed.policy.lapse_day == 45
    assert parsed.rows[1].imported is not None and parsed.rows[1].imported.stage == "adaptation"


def test_json_errors_name_the_item_and_the_field_path():
    eoi = json.loads((EXAMPLES / "eoi.json").read_text())
    bad = json.loads(json.dumps(eoi))
    bad["id"] = "NS21-100"
    bad["adopter"]["contact"]["email"] = "nobody"
    late = {**eoi, "id": "NS21-101", "under_way": {"stage": "outcome"}}
    future = {
        **eoi,
        "id": "NS21-102",
        "under_way": {"stage": "outcome", "outcome_on": "2030-01-01"},
    }
    document = {"workshop_policy": {"lapse_day": -1}, "eois": [eoi, bad, late, 7, eoi, future]}
    errors = parse_json(json.dumps(document).encode(), today=TODAY).errors
    found = [(e.item, e.field) for e in errors]
    assert (None, "workshop_policy.lapse_day") in found
    assert (1, "adopter.contact.email") in found
    assert (2, "under_way") in found
    assert (3, "") in found
    assert (4, "id") in found  # the same id as item 0
    assert (5, "under_way.outcome_on") in found
    assert "accepted:" in next(e.message for e in errors if e.item == 1)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"{not json", "not JSON"),
        (b'"a string"', "a str"),
        (b"[]", "no EOI"),
        (b'{"eois": [], "extra": 1}', "unknown keys extra"),
        (b"\xff[]", "not UTF-8"),
        (b"[" * 1000 + b"]" * 1000, "nested too deeply"),
        (b'[{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]", "nested too deeply"),
    ],
)
def test_json_a_malformed_file_says_what_is_accepted(data, words):
    [error] = parse_json(data, today=TODAY).errors
    assert error.field == "file" and words in error.message and "accepted:" in error.message
