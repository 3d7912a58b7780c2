"""The console's users' passwords and sessions: repository functions (never commit)."""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.engine import rowcount
from store.tables import ConsoleSessionRow, UserRow


async def set_password_hash(session: AsyncSession, *, user_id: int, password_hash: str) -> None:
    """Store a user's new password hash."""
    await session.execute(
        update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash)
    )


async def add_session(
    session: AsyncSession,
    *,
    id_hash: str,
    user_id: int,
    csrf_secret: str,
    now: datetime,
    expires_at: datetime,
) -> ConsoleSessionRow:
    """Record a signed-in browser by the hash of its session id."""
    row = ConsoleSessionRow(
        id_hash=id_hash,
        user_id=user_id,
        csrf_secret=csrf_secret,
        created_at=now,
        expires_at=expires_at,
        last_seen_at=now,
        revoked=False,
    )
    session.add(row)
    await session.flush()
    return row


async def get_session(
    session: AsyncSession, *, id_hash: str
) -> tuple[ConsoleSessionRow, UserRow] | None:
    """The session with that id hash and its user, or None."""
    row = (
        await session.execute(
            select(ConsoleSessionRow, UserRow)
            .join(UserRow, UserRow.id == ConsoleSessionRow.user_id)
            .where(ConsoleSessionRow.id_hash == id_hash)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def touch_session(session: AsyncSession, *, id_hash: str, at: datetime) -> None:
    """Record when a session was last used (its idle expiry counts from then)."""
    await session.execute(
        update(ConsoleSessionRow)
        .where(ConsoleSessionRow.id_hash == id_hash)
        .values(last_seen_at=at)
    )


async def revoke_session(session: AsyncSession, *, id_hash: str) -> bool:
    """End a session for good; tell whether it was live until now."""
    result = await session.execute(
        update(ConsoleSessionRow)
        .where(ConsoleSessionRow.id_hash == id_hash, ConsoleSessionRow.revoked.is_(False))
        .values(revoked=True)
    )
    return rowcount(result) > 0


async def revoke_user_sessions(session: AsyncSession, *, user_id: int) -> int:
    """End every session of a user (their password changed); how many were live."""
    result = await session.execute(
        update(ConsoleSessionRow)
        .where(ConsoleSessionRow.user_id == user_id, ConsoleSessionRow.revoked.is_(False))
        .values(revoked=True)
    )
    return rowcount(result)
