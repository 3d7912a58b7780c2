"""The outbox: one row per email a match sends, claimed by each delivery attempt, so an email
is sent once however often its activity runs. One session in, no commits (store/writes.py)."""

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import case, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.engine import rowcount
from store.tables import OutboxRow, utcnow
from store.writes import dialect_insert

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
    insert = dialect_insert(session, OutboxRow).values(
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
    if rowcount(result):
        return True
    sent = await session.execute(
        select(table.c.id).where(table.c.business_key == business_key, table.c.status == "sent")
    )
    return sent.first() is None
