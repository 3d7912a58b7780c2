"""Writes: one session in, no commits (the caller, an activity or a use case, owns the unit of
work); idempotent through unique keys."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import case, literal, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import Contact, ExpressionOfInterest, Institution
from store import funnel_cells
from store.milestones import advance_milestones
from store.tables import (
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


def _insert(session: AsyncSession, table: type[Base]) -> Any:
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
    result = await session.execute(_insert(session, table).values(values).on_conflict_do_nothing())
    return max(result.rowcount, 0)


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
    return dict(rows.tuples().all())


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
    table = MatchRow.__table__
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
    before = await funnel_cells.match_row(session, match_id=match_id)
    await session.execute(update(table).where(table.c.id == match_id).values(**values))
    if before is not None:
        await funnel_cells.move(
            session,
            before=funnel_cells.facts(before),
            after=funnel_cells.facts({**before, "stage": stage, "close_reason": close_reason}),
        )


async def append_history_entries(
    session: AsyncSession, *, match_id: str, entries: Sequence[dict[str, Any]]
) -> int:
    """Append history entries in one statement; entries already there (same match and seq)
    are skipped. Return how many were appended."""
    recorded_at = utcnow()
    appended = await _insert_ignore(
        session,
        MatchHistoryRow,
        [{**entry, "match_id": match_id, "recorded_at": recorded_at} for entry in entries],
    )
    await advance_milestones(session, match_id=match_id, entries=entries)
    return appended


# The life of an outbox row: ``sending`` while an attempt talks to the mail server, then
# ``sent``, ``pending`` (deferred: retried), ``bounced`` (refused for good) or ``failed``
# (given up: cannot be built, or not delivered within the retry bound).
OutboxStatus = Literal["pending", "sending", "sent", "bounced", "failed"]


@dataclass(frozen=True)
class OutboxClaim:
    """The outbox row of one email, as a delivery attempt sees it."""

    id: int
    message_id: str
    previous_status: OutboxStatus | None
    """The status before this attempt; None on the first. ``sending``: an earlier attempt
    died during its SMTP conversation, and the server may have taken its email."""

    @property
    def already_sent(self) -> bool:
        return self.previous_status == "sent"


async def claim_outbox(
    session: AsyncSession,
    *,
    business_key: str,
    message_id: str,
    match_id: str,
    kind: str,
    recipient: str,
    subject: str,
) -> OutboxClaim:
    """Start a delivery attempt on the outbox row of a business key, creating it on first
    sight: the row counts the attempt and turns ``sending`` (a row given up stays ``failed``,
    so that only a late success changes it). A row already sent is left as it is."""
    table = OutboxRow.__table__
    before = (
        await session.execute(
            select(table.c.id, table.c.message_id, table.c.status)
            .where(table.c.business_key == business_key)
            .with_for_update()
        )
    ).one_or_none()
    if before is not None and before.status == "sent":
        return OutboxClaim(id=before.id, message_id=before.message_id, previous_status="sent")
    insert = _insert(session, OutboxRow).values(
        business_key=business_key,
        message_id=message_id,
        match_id=match_id,
        kind=kind,
        recipient=recipient,
        subject=subject,
        status="sending",
        attempts=1,
        created_at=utcnow(),
    )
    claimed = (
        await session.execute(
            insert.on_conflict_do_update(
                index_elements=[table.c.business_key],
                set_={
                    "attempts": table.c.attempts + 1,
                    "status": case(
                        (table.c.status == "failed", table.c.status), else_=literal("sending")
                    ),
                },
                where=table.c.status != "sent",
            ).returning(table.c.id, table.c.message_id)
        )
    ).one_or_none()
    if claimed is None:  # sent by a concurrent attempt since we looked
        sent = (
            await session.execute(
                select(table.c.id, table.c.message_id).where(table.c.business_key == business_key)
            )
        ).one()
        return OutboxClaim(id=sent.id, message_id=sent.message_id, previous_status="sent")
    previous = before.status if before is not None else None
    return OutboxClaim(id=claimed.id, message_id=claimed.message_id, previous_status=previous)


async def mark_outbox(
    session: AsyncSession, *, row_id: int, status: OutboxStatus, error: str | None
) -> None:
    """Record the outcome of one delivery attempt. A row sent stays sent; a row given up
    (``failed``) takes only a late success: an attempt still running when the retry bound
    passed must not turn it back to pending."""
    values: dict[str, Any] = {"status": status, "last_error": error}
    table = OutboxRow.__table__
    statement = update(table).where(table.c.id == row_id, table.c.status != "sent")
    if status == "sent":
        values["sent_at"] = utcnow()
    else:
        statement = statement.where(table.c.status != "failed")
    await session.execute(statement.values(**values))


async def fail_outbox(session: AsyncSession, *, business_key: str, error: str) -> bool:
    """Mark the email of a business key undeliverable unless it was sent; tell whether it was
    marked (an email never attempted gets no row: there is nothing to mark)."""
    table = OutboxRow.__table__
    result = await session.execute(
        update(table)
        .where(table.c.business_key == business_key, table.c.status != "sent")
        .values(status="failed", last_error=error)
    )
    if result.rowcount:
        return True
    sent = await session.execute(
        select(table.c.id).where(table.c.business_key == business_key, table.c.status == "sent")
    )
    return sent.first() is None


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
