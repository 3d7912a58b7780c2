"""Writes: one session in, no commits (the caller, an activity or a use case, owns the unit of
work); idempotent through unique keys."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import Contact, ExpressionOfInterest, Institution
from domain.policy import SECONDS_PER_DAY
from store import funnel_cells
from store.engine import rowcount
from store.milestones import MILESTONE_COLUMNS, advance_milestones, advanced
from store.tables import (
    Base,
    CaseStudyRow,
    ContactRow,
    EoiRow,
    InstitutionRow,
    MatchHistoryRow,
    MatchRow,
    SolutionRow,
    WorkshopRow,
    utcnow,
)

_matches = MatchRow.__table__


def dialect_insert(session: AsyncSession, table: type[Base]) -> Any:
    """A dialect-specific INSERT on a table (Core, so no ORM unit of work is involved)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table.__table__)


async def _insert_ignore(
    session: AsyncSession, table: type[Base], values: dict[str, Any] | list[dict[str, Any]]
) -> int:
    """Insert rows unless one with the same unique key exists; return how many were inserted.

    A list of rows is one multi-row statement."""
    if isinstance(values, list) and not values:
        return 0
    result = await session.execute(
        dialect_insert(session, table).values(values).on_conflict_do_nothing()
    )
    return max(rowcount(result), 0)


async def _institution_ids(
    session: AsyncSession, institutions: Sequence[Institution]
) -> dict[tuple[str, str], int]:
    """The ids of the institutions, each inserted unless it exists, by (name key, country).

    Every writer inserts them in that one order, whatever role each plays: two matches whose
    institutions are each other's adopter and provider would otherwise wait on each other's
    uncommitted rows in opposite orders, and PostgreSQL would end one of them as a deadlock."""
    keys = sorted({(i.name.casefold(), i.country): i for i in institutions}.items())
    await _insert_ignore(
        session,
        InstitutionRow,
        [{"name": i.name, "name_key": key, "country": country} for (key, country), i in keys],
    )
    rows = await session.execute(
        select(InstitutionRow.name_key, InstitutionRow.country, InstitutionRow.id).where(
            tuple_(InstitutionRow.name_key, InstitutionRow.country).in_([k for k, _ in keys])
        )
    )
    return {(key, country): id_ for key, country, id_ in rows}


async def _contact_ids(session: AsyncSession, contacts: Sequence[Contact]) -> dict[str, int]:
    """The ids of the contacts by email, each inserted unless it exists, in the order of their
    emails (as :func:`_institution_ids`, for the same reason)."""
    by_email = sorted({c.email: c for c in contacts}.items())
    await _insert_ignore(
        session,
        ContactRow,
        [{"email": e, "name": c.name, "language": c.language} for e, c in by_email],
    )
    rows = await session.execute(
        select(ContactRow.email, ContactRow.id).where(ContactRow.email.in_(dict(by_email)))
    )
    return {email: contact_id for email, contact_id in rows}


async def save_eoi(session: AsyncSession, *, eoi: ExpressionOfInterest) -> bool:
    """Store an EOI and the reference data it names; tell whether the EOI was new."""
    await _insert_ignore(
        session,
        WorkshopRow,
        {"id": eoi.workshop.id, "title": eoi.workshop.title, "held_on": eoi.workshop.date},
    )
    provider, adopter = eoi.solution.provider, eoi.adopter.institution
    institutions = await _institution_ids(session, [provider, adopter])
    contacts = await _contact_ids(session, [eoi.solution.contact, eoi.adopter.contact])
    await _insert_ignore(
        session,
        SolutionRow,
        {
            "id": eoi.solution.id,
            "title": eoi.solution.title,
            "focus_area": eoi.solution.focus_area.value,
            "provider_institution_id": institutions[provider.name.casefold(), provider.country],
            "provider_contact_id": contacts[eoi.solution.contact.email],
        },
    )
    return 1 == await _insert_ignore(
        session,
        EoiRow,
        {
            "id": eoi.id,
            "workshop_id": eoi.workshop.id,
            "solution_id": eoi.solution.id,
            "adopter_institution_id": institutions[adopter.name.casefold(), adopter.country],
            "adopter_contact_id": contacts[eoi.adopter.contact.email],
            "interest_statement": eoi.interest_statement,
            "submitted_at": eoi.submitted_at,
            "payload": eoi.model_dump(mode="json"),
        },
    )


async def create_match(
    session: AsyncSession,
    *,
    eoi: ExpressionOfInterest,
    workflow_id: str,
    stage: str,
    status: str,
    next_deadline: datetime | None,
) -> bool:
    """Store the EOI with its reference data and insert its match row, each unless it exists;
    tell whether the match was new."""
    await save_eoi(session, eoi=eoi)
    now = utcnow()
    row = {
        "id": eoi.match_id,
        "eoi_id": eoi.id,
        "workflow_id": workflow_id,
        "workshop_id": eoi.workshop.id,
        "focus_area": eoi.solution.focus_area.value,
        "provider_country": eoi.solution.provider.country,
        "adopter_country": eoi.adopter.institution.country,
        "summary": eoi.summary(),
        "solution_id": eoi.solution.id,
        "search_text": search_text(eoi),
        "stage": stage,
        "status": status,
        "next_deadline": next_deadline,
        "created_at": now,
        "updated_at": now,
    }
    if await _insert_ignore(session, MatchRow, row) != 1:
        return False
    await funnel_cells.move(session, before=None, after=funnel_cells.facts_of_new(row))
    return True


def search_text(eoi: ExpressionOfInterest) -> str:
    """What free text is looked for in: the summary, the solution and both institutions,
    casefolded here (every backend compares the same, accents and all)."""
    parts = (
        eoi.summary(),
        eoi.solution.title,
        eoi.solution.provider.name,
        eoi.adopter.institution.name,
    )
    return "\n".join(parts).casefold()


def waiting_on_column(parties: Sequence[str]) -> str:
    """Whom a match waits on as the read model holds it: ``adopter,provider`` (sorted)."""
    return ",".join(sorted(parties))


def _position(
    stage: str,
    status: str,
    next_deadline: datetime | None,
    close_reason: str | None,
    waiting_on: Sequence[str] | None,
    needs_attention: bool | None,
) -> dict[str, Any]:
    """The match row's columns of the workflow's position (None: whom it waits on and its
    attention left as they are)."""
    values: dict[str, Any] = {
        "stage": stage,
        "status": status,
        "next_deadline": next_deadline,
        "close_reason": close_reason,
        "updated_at": utcnow(),
    }
    if waiting_on is not None:
        values["waiting_on"] = waiting_on_column(waiting_on)
    if needs_attention is not None:
        values["needs_attention"] = needs_attention
    return values


async def update_match(
    session: AsyncSession,
    *,
    match_id: str,
    stage: str,
    status: str,
    next_deadline: datetime | None,
    close_reason: str | None = None,
    waiting_on: Sequence[str] | None = None,
    needs_attention: bool | None = None,
) -> None:
    """Set the current stage, status, next deadline and close reason of a match, and whom it
    waits on and whether it needs attention when told (None leaves those as they are)."""
    await record_step(
        session,
        match_id=match_id,
        entries=[],
        stage=stage,
        status=status,
        next_deadline=next_deadline,
        close_reason=close_reason,
        waiting_on=waiting_on,
        needs_attention=needs_attention,
    )


async def append_history_entries(
    session: AsyncSession, *, match_id: str, entries: Sequence[dict[str, Any]]
) -> int:
    """Append history entries in one statement; entries already there (same match and seq)
    are skipped. Return how many were appended."""
    appended = await _append(session, match_id=match_id, entries=entries)
    await advance_milestones(session, match_id=match_id, entries=entries)
    return appended


async def record_step(
    session: AsyncSession,
    *,
    match_id: str,
    entries: Sequence[dict[str, Any]],
    stage: str,
    status: str,
    next_deadline: datetime | None,
    close_reason: str | None = None,
    waiting_on: Sequence[str] | None = None,
    needs_attention: bool | None = None,
    day_seconds: float = SECONDS_PER_DAY,
) -> int:
    """One step of a match, as its workflow records it: :func:`append_history_entries` then
    :func:`update_match`, with the match's row read once and written once, and the funnel's
    cells moved once, from where the match was to where it is. Return how many entries were
    appended."""
    appended = await _append(session, match_id=match_id, entries=entries)
    values = _position(stage, status, next_deadline, close_reason, waiting_on, needs_attention)
    row = await funnel_cells.match_row(session, match_id=match_id, columns=MILESTONE_COLUMNS)
    if row is not None and entries:
        values.update(advanced(row, entries, day_seconds=day_seconds))
    await session.execute(update(_matches).where(_matches.c.id == match_id).values(**values))
    if row is not None:
        after = {**row, **values}
        await funnel_cells.move(
            session, before=funnel_cells.facts(row), after=funnel_cells.facts(after)
        )
    return appended


async def _append(
    session: AsyncSession, *, match_id: str, entries: Sequence[dict[str, Any]]
) -> int:
    recorded_at = utcnow()
    return await _insert_ignore(
        session,
        MatchHistoryRow,
        [{**entry, "match_id": match_id, "recorded_at": recorded_at} for entry in entries],
    )


async def save_case_study(
    session: AsyncSession, *, match_id: str, title: str, focus_area: str, body: str
) -> tuple[int, bool]:
    """Store the draft case study of a match unless it exists; return its id and whether new."""
    created = 1 == await _insert_ignore(
        session,
        CaseStudyRow,
        {
            "match_id": match_id,
            "title": title,
            "focus_area": focus_area,
            "body": body,
            "status": "draft",
            "created_at": utcnow(),
        },
    )
    row_id = (
        await session.execute(select(CaseStudyRow.id).where(CaseStudyRow.match_id == match_id))
    ).scalar_one()
    return row_id, created
