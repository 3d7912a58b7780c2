"""Repository functions: one session in, no commits (the caller owns the unit of work)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from activities.store.tables import (
    Base,
    CaseStudyRow,
    ContactRow,
    EoiRow,
    InstitutionRow,
    MatchHistoryRow,
    MatchRow,
    OutboxRow,
    SolutionRow,
    WorkshopRow,
    utcnow,
)
from domain.model import Contact, ExpressionOfInterest, Institution


async def _insert_ignore(session: AsyncSession, table: type[Base], values: dict[str, Any]) -> bool:
    """Insert a row unless one with the same unique key exists; tell whether it was inserted."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(insert(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


async def _institution_id(session: AsyncSession, institution: Institution) -> int:
    key = institution.name.casefold()
    await _insert_ignore(
        session,
        InstitutionRow,
        {"name": institution.name, "name_key": key, "country": institution.country},
    )
    return (
        await session.execute(
            select(InstitutionRow.id).where(
                InstitutionRow.name_key == key, InstitutionRow.country == institution.country
            )
        )
    ).scalar_one()


async def _contact_id(session: AsyncSession, contact: Contact) -> int:
    await _insert_ignore(
        session,
        ContactRow,
        {"email": contact.email, "name": contact.name, "language": contact.language},
    )
    return (
        await session.execute(select(ContactRow.id).where(ContactRow.email == contact.email))
    ).scalar_one()


async def save_eoi(session: AsyncSession, *, eoi: ExpressionOfInterest) -> bool:
    """Store an EOI and the reference data it names; tell whether the EOI was new."""
    await _insert_ignore(
        session,
        WorkshopRow,
        {"id": eoi.workshop.id, "title": eoi.workshop.title, "held_on": eoi.workshop.date},
    )
    provider_id = await _institution_id(session, eoi.solution.provider)
    provider_contact_id = await _contact_id(session, eoi.solution.contact)
    await _insert_ignore(
        session,
        SolutionRow,
        {
            "id": eoi.solution.id,
            "title": eoi.solution.title,
            "focus_area": eoi.solution.focus_area.value,
            "provider_institution_id": provider_id,
            "provider_contact_id": provider_contact_id,
        },
    )
    adopter_id = await _institution_id(session, eoi.adopter.institution)
    adopter_contact_id = await _contact_id(session, eoi.adopter.contact)
    return await _insert_ignore(
        session,
        EoiRow,
        {
            "id": eoi.id,
            "workshop_id": eoi.workshop.id,
            "solution_id": eoi.solution.id,
            "adopter_institution_id": adopter_id,
            "adopter_contact_id": adopter_contact_id,
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
    """Insert the match row for an EOI unless it exists; tell whether it was new."""
    now = utcnow()
    return await _insert_ignore(
        session,
        MatchRow,
        {
            "id": eoi.match_id,
            "eoi_id": eoi.id,
            "workflow_id": workflow_id,
            "workshop_id": eoi.workshop.id,
            "focus_area": eoi.solution.focus_area.value,
            "provider_country": eoi.solution.provider.country,
            "adopter_country": eoi.adopter.institution.country,
            "summary": eoi.summary(),
            "stage": stage,
            "status": status,
            "next_deadline": next_deadline,
            "created_at": now,
            "updated_at": now,
        },
    )


async def update_match(
    session: AsyncSession,
    *,
    match_id: str,
    stage: str,
    status: str,
    next_deadline: datetime | None,
    close_reason: str | None = None,
) -> None:
    """Set the current stage, status and next deadline of a match."""
    await session.execute(
        update(MatchRow)
        .where(MatchRow.id == match_id)
        .values(
            stage=stage,
            status=status,
            next_deadline=next_deadline,
            close_reason=close_reason,
            updated_at=utcnow(),
        )
    )


async def append_history(
    session: AsyncSession,
    *,
    match_id: str,
    seq: int,
    kind: str,
    stage: str,
    actor: str,
    summary: str,
    data: dict[str, Any],
    occurred_at: datetime,
) -> bool:
    """Append one history entry; a second call with the same (match, seq) is a no-op."""
    return await _insert_ignore(
        session,
        MatchHistoryRow,
        {
            "match_id": match_id,
            "seq": seq,
            "kind": kind,
            "stage": stage,
            "actor": actor,
            "summary": summary,
            "data": data,
            "occurred_at": occurred_at,
            "recorded_at": utcnow(),
        },
    )


async def claim_outbox(
    session: AsyncSession,
    *,
    business_key: str,
    message_id: str,
    match_id: str,
    kind: str,
    recipient: str,
    subject: str,
) -> OutboxRow:
    """Return the outbox row for a business key, creating it (pending) on first sight."""
    await _insert_ignore(
        session,
        OutboxRow,
        {
            "business_key": business_key,
            "message_id": message_id,
            "match_id": match_id,
            "kind": kind,
            "recipient": recipient,
            "subject": subject,
            "status": "pending",
            "attempts": 0,
            "created_at": utcnow(),
        },
    )
    return (
        await session.execute(select(OutboxRow).where(OutboxRow.business_key == business_key))
    ).scalar_one()


async def mark_outbox(
    session: AsyncSession, *, row_id: int, status: str, error: str | None
) -> None:
    """Record the outcome of one delivery attempt."""
    values: dict[str, Any] = {"status": status, "last_error": error}
    if status == "sent":
        values["sent_at"] = utcnow()
    await session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(**values))


async def get_match(session: AsyncSession, *, match_id: str) -> MatchRow | None:
    """Return one match or None."""
    return await session.get(MatchRow, match_id)


async def list_matches(
    session: AsyncSession,
    *,
    stage: str | None = None,
    status: str | None = None,
    focus_area: str | None = None,
    workshop_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[MatchRow], int]:
    """Return one page of matches (newest first) and the total that match the filters."""
    query = select(MatchRow)
    for column, value in (
        (MatchRow.stage, stage),
        (MatchRow.status, status),
        (MatchRow.focus_area, focus_area),
        (MatchRow.workshop_id, workshop_id),
    ):
        if value is not None:
            query = query.where(column == value)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (
        await session.execute(
            query.order_by(MatchRow.created_at.desc(), MatchRow.id).limit(limit).offset(offset)
        )
    ).scalars()
    return rows.all(), total


async def list_history(session: AsyncSession, *, match_id: str) -> Sequence[MatchHistoryRow]:
    """Return a match's history in order."""
    return (
        (
            await session.execute(
                select(MatchHistoryRow)
                .where(MatchHistoryRow.match_id == match_id)
                .order_by(MatchHistoryRow.seq)
            )
        )
        .scalars()
        .all()
    )


async def list_outbox(session: AsyncSession, *, match_id: str) -> Sequence[OutboxRow]:
    """Return the emails recorded for a match."""
    return (
        (
            await session.execute(
                select(OutboxRow).where(OutboxRow.match_id == match_id).order_by(OutboxRow.id)
            )
        )
        .scalars()
        .all()
    )


async def save_case_study(
    session: AsyncSession, *, match_id: str, title: str, focus_area: str, body: str
) -> tuple[int, bool]:
    """Store the draft case study of a match unless it exists; return its id and whether new."""
    created = await _insert_ignore(
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


async def get_case_study(session: AsyncSession, *, match_id: str) -> CaseStudyRow | None:
    """Return the case study drafted for a match, if any."""
    return (
        await session.execute(select(CaseStudyRow).where(CaseStudyRow.match_id == match_id))
    ).scalar_one_or_none()
