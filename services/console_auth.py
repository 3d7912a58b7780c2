"""Signing in to the Secretariat's console: passwords, and server-side sessions.

A session's id lives in the browser's cookie only; the database holds its SHA-256 (a stolen
copy of the table signs nobody in). Each session has its own CSRF secret, which every form
and htmx request of the console carries. A session ends on sign-out, after ``idle`` without a
request, ``lifetime`` after sign-in, or when its user's password changes."""

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import Role
from infra.passwords import hash_password, needs_rehash, password_problem, verify_password
from services.access import AccessError, UserView, _user, _user_view, add_user, normal_email
from services.outages import outages_refused
from store import console as store
from store import queries

# A session used again within this long is not recorded as seen again: reads write nothing.
SEEN_RESOLUTION = timedelta(minutes=1)
SIGN_IN_FAILED = "the email address or the password is wrong"


class SignInFailed(Exception):
    """Wrong address or password (the message does not say which)."""


@dataclass(frozen=True)
class ConsoleUser:
    """Who is signed in to the console, and the CSRF token of their session."""

    user_id: int
    email: str
    name: str
    role: Role
    csrf_token: str

    @property
    def actor(self) -> str:
        """How the history names this user (their address, as for an API key)."""
        return self.email

    def may(self, needed: Role) -> bool:
        return self.role.allows(needed)


@dataclass(frozen=True)
class NewSession:
    """A session just opened: ``token`` goes in the cookie and is stored nowhere."""

    token: str
    user: ConsoleUser
    expires_at: datetime


def session_hash(token: str) -> str:
    """The stored form of a session id."""
    return hashlib.sha256(token.encode()).hexdigest()


def account_tag(email: str) -> str:
    """A name for an address that may be logged and counted (not the address itself)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:12]


@outages_refused()
async def set_password(
    sessions: async_sessionmaker[AsyncSession], *, email: str, password: str
) -> UserView:
    """Give a user a (new) password; every session they had ends."""
    problem = password_problem(password)
    if problem is not None:
        raise AccessError(problem)
    hashed = await asyncio.to_thread(hash_password, password)
    async with sessions() as session:
        user = await _user(session, email)
        await store.set_password_hash(session, user_id=user.id, password_hash=hashed)
        await store.revoke_user_sessions(session, user_id=user.id)
        await session.commit()
        return _user_view(user)


@outages_refused()
async def sign_in(
    sessions: async_sessionmaker[AsyncSession],
    *,
    email: str,
    password: str,
    lifetime: timedelta,
    now: datetime | None = None,
) -> NewSession:
    """Open a session for the user with that address and password, or SignInFailed."""
    now = now or datetime.now(UTC)
    try:
        address = normal_email(email)
    except AccessError:
        address = None
    async with sessions() as session:
        user = await queries.get_user(session, email=address) if address else None
    stored = user.password_hash if user is not None else None
    # checked even without a user, so that the time taken does not tell who is one; outside
    # the unit of work, which holds a connection of the pool
    if not await asyncio.to_thread(verify_password, stored, password) or user is None:
        raise SignInFailed(SIGN_IN_FAILED)
    rehashed = (
        await asyncio.to_thread(hash_password, password)
        if stored and needs_rehash(stored)
        else None
    )
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    async with sessions() as session:
        if rehashed is not None:
            await store.set_password_hash(session, user_id=user.id, password_hash=rehashed)
        await store.add_session(
            session,
            id_hash=session_hash(token),
            user_id=user.id,
            csrf_secret=csrf,
            now=now,
            expires_at=now + lifetime,
        )
        await session.commit()
    console_user = ConsoleUser(
        user_id=user.id, email=user.email, name=user.name, role=Role(user.role), csrf_token=csrf
    )
    return NewSession(token=token, user=console_user, expires_at=now + lifetime)


@outages_refused()
async def current_user(
    sessions: async_sessionmaker[AsyncSession],
    *,
    token: str | None,
    idle: timedelta,
    now: datetime | None = None,
) -> ConsoleUser | None:
    """The user of a live session (None: no token, unknown, revoked, expired or idle too long)."""
    if not token or len(token) > 100:
        return None
    now = now or datetime.now(UTC)
    id_hash = session_hash(token)
    async with sessions() as session:
        found = await store.get_session(session, id_hash=id_hash)
        if found is None:
            return None
        row, user = found
        if row.revoked or row.expires_at <= now or row.last_seen_at + idle <= now:
            return None
        if now - row.last_seen_at >= SEEN_RESOLUTION:
            await store.touch_session(session, id_hash=id_hash, at=now)
            await session.commit()
        return ConsoleUser(
            user_id=user.id,
            email=user.email,
            name=user.name,
            role=Role(user.role),
            csrf_token=row.csrf_secret,
        )


@outages_refused()
async def sign_out(sessions: async_sessionmaker[AsyncSession], *, token: str | None) -> bool:
    """End a session for good; tell whether it was live."""
    if not token:
        return False
    async with sessions() as session:
        ended = await store.revoke_session(session, id_hash=session_hash(token))
        await session.commit()
        return ended


@outages_refused()
async def dev_admin_password(
    sessions: async_sessionmaker[AsyncSession], *, email: str
) -> str | None:
    """For the embedded dev stack's first start: a new random password for the user ``email``
    (who exists: the dev stack made them an admin with its key), or None when they have one
    already (``existing``, kept from an earlier start, or one they set themself since)."""
    async with sessions() as session:
        user = await queries.get_user(session, email=normal_email(email))
    if user is None:
        raise AccessError(f"no user {email!r} to give a dev password to")
    if user.password_hash:
        return None
    password = secrets.token_urlsafe(15)
    await set_password(sessions, email=email, password=password)
    return password


@dataclass(frozen=True)
class FirstAdmin:
    """What ``first_admin`` did: ``password`` is set only when it made one up (to be shown
    once, never logged)."""

    email: str
    created: bool
    password: str | None = None


async def first_admin(
    sessions: async_sessionmaker[AsyncSession], *, email: str, name: str, password: str | None
) -> FirstAdmin:
    """A deployment's first admin, with a console password (``password``, or a new one made
    up): only while the database has no admin at all, so a second run changes nothing."""
    address = normal_email(email)
    if password is not None and (problem := password_problem(password)) is not None:
        raise AccessError(f"the first admin's password: {problem}")
    async with sessions() as session:
        users = await queries.list_users(session)
    if any(user.role == Role.ADMIN.value for user in users):
        return FirstAdmin(email=address, created=False)
    if any(user.email == address for user in users):
        raise AccessError(f"{address} exists but is not an admin: make another address the first")
    made_up = secrets.token_urlsafe(18) if password is None else None
    await add_user(sessions, email=address, name=name, role=Role.ADMIN)
    await set_password(sessions, email=address, password=password or made_up or "")
    return FirstAdmin(email=address, created=True, password=made_up)
