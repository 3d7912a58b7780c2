"""Input is as strict as storage: limits read from the tables, control characters refused."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import Column, String, Text

from domain.lifecycle import answers as a
from domain.lifecycle import events as ev
from domain.model import Email, ExpressionOfInterest
from domain.text import EMAIL_LOCAL_MAX, EMAIL_MAX, NAME_MAX
from store import outbox, writes
from store.tables import (
    CaseStudyRow,
    ContactRow,
    EoiRow,
    InstitutionRow,
    MatchHistoryRow,
    OutboxRow,
    SolutionRow,
    WorkshopRow,
)
from tests.support import add_match, unique_eoi


def _schema_of(model: type[BaseModel], path: str) -> dict[str, Any]:
    """The JSON schema of a (nested) field, following $refs through the model's definitions."""
    schema = model.model_json_schema()
    node: dict[str, Any] = schema
    for part in path.split("."):
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        node = node["properties"][part]
    if "anyOf" in node:  # optional: the string branch
        node = next(branch for branch in node["anyOf"] if branch.get("type") == "string")
    return node


# Every input field that a column stores, with that column.
STORED: list[tuple[type[BaseModel], str, Column]] = [
    (ExpressionOfInterest, "id", EoiRow.__table__.c.id),
    (ExpressionOfInterest, "workshop.id", WorkshopRow.__table__.c.id),
    (ExpressionOfInterest, "workshop.title", WorkshopRow.__table__.c.title),
    (ExpressionOfInterest, "solution.id", SolutionRow.__table__.c.id),
    (ExpressionOfInterest, "solution.title", SolutionRow.__table__.c.title),
    (ExpressionOfInterest, "solution.provider.name", InstitutionRow.__table__.c.name),
    (ExpressionOfInterest, "adopter.institution.name", InstitutionRow.__table__.c.name),
    (ExpressionOfInterest, "adopter.contact.name", ContactRow.__table__.c.name),
    (ExpressionOfInterest, "interest_statement", EoiRow.__table__.c.interest_statement),
    (ev.AddNote, "by", MatchHistoryRow.__table__.c.actor),
    (ev.ChangeContact, "contact.name", ContactRow.__table__.c.name),
]


@pytest.mark.parametrize(
    ("model", "path", "column"), STORED, ids=[f"{m.__name__}.{p}" for m, p, _ in STORED]
)
def test_every_input_limit_is_its_columns(model, path, column):
    limit = _schema_of(model, path).get("maxLength")
    assert limit is not None, f"{model.__name__}.{path} has no length limit"
    if isinstance(column.type, Text):
        return  # unbounded: any limit fits
    assert isinstance(column.type, String)
    assert limit == column.type.length, f"{path}: input {limit}, column {column.type.length}"


def test_a_names_casefolded_key_holds_three_times_the_name():
    # casefolding turns one character into at most three ("ß" -> "ss", "ﬃ" -> "ffi")
    longest = max(len(chr(c).casefold()) for c in range(0x110000))
    assert InstitutionRow.__table__.c.name_key.type.length == longest * NAME_MAX


def test_free_text_lands_in_unbounded_columns():
    # history summaries quote reasons and answers; subjects and titles quote names
    for column in (
        MatchHistoryRow.__table__.c.summary,
        OutboxRow.__table__.c.subject,
        OutboxRow.__table__.c.business_key,
        CaseStudyRow.__table__.c.title,
    ):
        assert isinstance(column.type, Text), column


def test_addresses_are_checked_to_the_rfc_lengths():
    for column in (ContactRow.__table__.c.email, OutboxRow.__table__.c.recipient):
        assert column.type.length == EMAIL_MAX
    email = TypeAdapter(Email)
    domain = ".".join(["d" * 61] * 3) + ".org"  # 189 characters: a local part of 64
    longest = "a" * (EMAIL_MAX - len(domain) - 1) + "@" + domain
    assert email.validate_python(longest) == longest
    with pytest.raises(ValidationError, match="too long"):
        email.validate_python("a" + longest)
    with pytest.raises(ValidationError, match="longer than 64"):
        email.validate_python("a" * (EMAIL_LOCAL_MAX + 1) + "@example.org")


SINGLE_LINE = [
    "workshop.title",
    "solution.title",
    "solution.provider.name",
    "solution.contact.name",
    "adopter.institution.name",
    "adopter.contact.name",
]
CONTROLS = ["\n", "\r", "\x00", "\t", "\x1b", "\x7f", "\x85", "\u2028"]


def _eoi_with(path: str, value: str) -> dict[str, Any]:
    data = json.loads(unique_eoi().model_dump_json())
    node = data
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    return data


@pytest.mark.parametrize("path", SINGLE_LINE)
@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_single_line_fields_refuse_control_characters(path, char):
    with pytest.raises(ValidationError) as caught:
        ExpressionOfInterest.model_validate(_eoi_with(path, f"Ana{char}Bcc: x@example.org"))
    (error,) = caught.value.errors()
    assert ".".join(str(part) for part in error["loc"]) == path
    assert f"U+{ord(char):04X}" in error["msg"]


def test_free_text_keeps_line_breaks_and_refuses_other_controls():
    ok = ExpressionOfInterest.model_validate(
        _eoi_with("interest_statement", "First line\r\nsecond line\n\tindented")
    )
    assert "second line" in ok.interest_statement
    for char in ("\x00", "\x1b", "\x85"):
        with pytest.raises(ValidationError, match="printable text"):
            ExpressionOfInterest.model_validate(_eoi_with("interest_statement", f"a{char}b"))
    with pytest.raises(ValidationError, match="NUL"):
        ev.Close(reason="declined", note="no\x00thanks")
    with pytest.raises(ValidationError, match="NUL"):
        a.CheckInAnswer(status="on_track", note="\x00")
    with pytest.raises(ValidationError, match="line break"):
        ev.AddNote(by="an\na", text="a note")


async def test_the_longest_accepted_input_is_stored_on_every_backend(sessions):
    """Every field at its limit, and free text far past the old column sizes, is stored."""
    domain = ".".join(["d" * 61] * 3) + ".org"
    longest_email = "a" * (EMAIL_MAX - len(domain) - 1) + "@" + domain
    data = json.loads(unique_eoi().model_dump_json())
    data["id"] = "L" + data["id"][1:] + "x" * (64 - len(data["id"]))
    data["workshop"]["title"] = "W" * 200
    data["solution"]["title"] = "S" * 200
    data["solution"]["provider"]["name"] = "P" * 200
    data["adopter"]["institution"]["name"] = "A" * 200
    data["adopter"]["contact"]["name"] = "Ñ" * 200
    data["adopter"]["contact"]["email"] = longest_email
    data["interest_statement"] = "I" * 5000
    eoi = ExpressionOfInterest.model_validate(data)
    note = ev.Close(by="b" * 200, reason="declined", note="n" * 2000)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    async with sessions() as session:
        await add_match(session, eoi)
        await writes.append_history_entries(
            session,
            match_id=eoi.match_id,
            entries=[
                {
                    "seq": 1,
                    "kind": "closed",
                    "stage": "follow_up",
                    "actor": note.by,
                    "summary": f"Closed (declined): {note.note}",
                    "data": {"note": note.note},
                    "occurred_at": at,
                }
            ],
        )
        key = f"{eoi.match_id}/follow_up/introduction_adopter-1/{longest_email}/1"
        await outbox.claim_outbox(
            session,
            business_key=key,
            message_id="<x@example.org>",
            match_id=eoi.match_id,
            kind="introduction_adopter",
            recipient=longest_email,
            subject="Your interest in " + "S" * 200 + " — " + "P" * 200,
        )
        await writes.save_case_study(
            session, match_id=eoi.match_id, title="T" * 600, focus_area="other", body="b"
        )
        await session.commit()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_limits_migration_keeps_stored_matches(backend, request, tmp_path):
    """0003 copies SQLite tables that others refer to: rows and references survive it."""
    import asyncio
    from datetime import UTC, datetime

    import sqlalchemy as sa
    from sqlalchemy import select

    from store.engine import make_engine, make_sessionmaker, upgrade_database
    from store.tables import MatchRow
    from tests.support import create_database

    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    else:
        url = await create_database(request.getfixturevalue("postgres"))
    await asyncio.to_thread(upgrade_database, url, "0002")
    eoi = unique_eoi()
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            # the match row as 0002 knew it (today's writes know columns added since)
            await writes.save_eoi(session, eoi=eoi)
            now = datetime.now(UTC)
            columns = {
                "id": eoi.match_id,
                "eoi_id": eoi.id,
                "workflow_id": eoi.match_id,
                "workshop_id": eoi.workshop.id,
                "focus_area": eoi.solution.focus_area.value,
                "provider_country": eoi.solution.provider.country,
                "adopter_country": eoi.adopter.institution.country,
                "summary": eoi.summary(),
                "stage": "follow_up",
                "status": "active",
                "created_at": now,
                "updated_at": now,
            }
            matches = sa.table("matches", *(sa.column(name) for name in columns))
            await session.execute(sa.insert(matches).values(columns))
            await session.commit()
        await engine.dispose()
        await asyncio.to_thread(upgrade_database, url)
        async with make_sessionmaker(engine)() as session:
            row = (await session.execute(select(MatchRow))).scalar_one()
            assert row.summary == eoi.summary()
            eoi_row = (await session.execute(select(EoiRow))).scalar_one()
            assert eoi_row.adopter_contact_id is not None
    finally:
        await engine.dispose()
