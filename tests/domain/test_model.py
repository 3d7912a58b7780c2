import csv
import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.csv_format import CSV_COLUMNS, eoi_from_row
from domain.enums import FocusArea
from domain.lifecycle import start as lifecycle_start
from domain.model import ExpressionOfInterest, match_id_for
from domain.policy import TimingPolicy
from tests.support import EXAMPLES, example_eoi


def _payload() -> dict:
    return json.loads((EXAMPLES / "eoi.json").read_text())


def _errors(data: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        ExpressionOfInterest.model_validate(data)
    return {".".join(map(str, e["loc"])): e["msg"] for e in info.value.errors()}


def test_example_eoi_is_valid_and_names_its_match():
    eoi = ExpressionOfInterest.model_validate(_payload())
    assert eoi.match_id == "match-NS21-014" == match_id_for("NS21-014")
    assert eoi.summary() == (
        "Union Digital Centres: one-stop rural service delivery — BD → "
        "Agency for Civil Service Affairs, KZ"
    )
    assert eoi.submitted_at.tzinfo is not None


def test_country_and_language_codes_are_normalised():
    data = _payload()
    data["adopter"]["institution"]["country"] = " kz "
    data["adopter"]["contact"]["language"] = "RU"
    eoi = ExpressionOfInterest.model_validate(data)
    assert eoi.adopter.institution.country == "KZ"
    assert eoi.adopter.contact.language == "ru"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("adopter", "contact", "email"), "not-an-email", "adopter.contact.email"),
        (("solution", "contact", "email"), "x@mail.test", "solution.contact.email"),
        (("adopter", "institution", "country"), "XX", "adopter.institution.country"),
        (("solution", "provider", "country"), "Bangladesh", "solution.provider.country"),
        (("adopter", "institution", "name"), "   ", "adopter.institution.name"),
        (("adopter", "contact", "language"), "zz", "adopter.contact.language"),
        (("solution", "focus_area"), "future_of_space", "solution.focus_area"),
        (("id",), "has spaces", "id"),
        (("submitted_at",), "2021-10-28T10:15:00", "submitted_at"),
    ],
)
def test_bad_fields_are_named(path, value, field):
    data = _payload()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    errors = _errors(data)
    assert field in errors, errors


def test_adopter_must_differ_from_provider():
    data = _payload()
    data["adopter"]["institution"] = {
        "name": data["solution"]["provider"]["name"].upper(),
        "country": data["solution"]["provider"]["country"],
    }
    assert any("must differ" in msg for msg in _errors(data).values())


def test_adopter_contact_must_differ_from_provider_contact():
    data = _payload()
    data["adopter"]["contact"]["email"] = data["solution"]["contact"]["email"]
    assert any("contact must differ" in msg for msg in _errors(data).values())


def test_unknown_fields_are_refused():
    data = _payload()
    data["adopter"]["budget"] = 1000
    assert "adopter.budget" in _errors(data)


@pytest.mark.parametrize(
    "raw", ["Future of Data Innovation", "future_of_data_innovation", "future-of-data innovation"]
)
def test_focus_area_accepts_label_or_code(raw):
    assert FocusArea.parse(raw) is FocusArea.FUTURE_OF_DATA_INNOVATION
    assert FocusArea.FUTURE_OF_DATA_INNOVATION.label == "Future of Data Innovation"


def test_six_focus_areas():
    assert len(FocusArea) == 6


def test_workshop_csv_rows_become_eois():
    with (EXAMPLES / "workshop.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        # the former format: every required column and the single ``language``
        assert tuple(reader.fieldnames or ()) == (*CSV_COLUMNS[:15], "language", *CSV_COLUMNS[15:])
        eois = [eoi_from_row(row) for row in reader]
    assert len(eois) == 4
    assert {e.workshop.id for e in eois} == {"ws-2021-nur-sultan"}
    assert eois[2].solution.focus_area is FocusArea.FUTURE_OF_CIVIL_SERVICE


def test_csv_row_missing_columns_is_refused():
    with pytest.raises(KeyError, match="missing columns: eoi_id"):
        eoi_from_row({})


def test_policy_defaults_and_first_deadline():
    policy = TimingPolicy()
    assert policy.reminder_days == (7, 14)
    assert (policy.escalation_day, policy.lapse_day) == (21, 30)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert lifecycle_start(example_eoi(), policy, start).state.next_deadline == start + timedelta(
        days=7
    )


@pytest.mark.parametrize(
    "kwargs", [{"reminder_days": (14, 7)}, {"escalation_day": 10}, {"lapse_day": 21}]
)
def test_policy_must_be_increasing(kwargs):
    with pytest.raises(ValidationError, match="strictly increasing"):
        TimingPolicy(**kwargs)
