"""Writes of users and their API keys: one session in, no commits (the caller owns the unit
of work)."""

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from infra.keys import mint_key
from store.engine import rowcount
from store.tables import ApiKeyRow, UserRow, utcnow


async def add_user(session: AsyncSession, *, email: str, name: str, role: str) -> UserRow:
    """Add a user (the caller checked that the address is free)."""
    row = UserRow(email=email, name=name, role=role, created_at=utcnow())
    session.add(row)
    await session.flush()
    return row


async def add_api_key(
    session: AsyncSession, *, user_id: int, name: str, role: str, expires_at: datetime | None
) -> tuple[ApiKeyRow, str]:
    """Mint a key for a user and store its id and the hash of its secret; return the row and
    the whole key, which exists nowhere else: it is the caller's to show once."""
    minted = mint_key()
    row = ApiKeyRow(
        key_id=minted.key_id,
        user_id=user_id,
        name=name,
        role=role,
        secret_hash=minted.secret_hash,
        expires_at=expires_at,
        revoked=False,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return row, minted.token


async def revoke_api_key(session: AsyncSession, *, key_id: str, at: datetime) -> bool:
    """Revoke a key for good; tell whether it was live until now."""
    result = await session.execute(
        update(ApiKeyRow)
        .where(ApiKeyRow.key_id == key_id, ApiKeyRow.revoked.is_(False))
        .values(revoked=True, revoked_at=at)
    )
    return rowcount(result) > 0


async def touch_api_key(session: AsyncSession, *, key_id: str, at: datetime) -> None:
    """Record when a key was last used."""
    await session.execute(
        update(ApiKeyRow).where(ApiKeyRow.key_id == key_id).values(last_used_at=at)
    )
