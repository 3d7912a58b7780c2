"""Access control: Secretariat users, their API keys, and who a presented key is.

A key is checked here (shape, known id, secret, revocation, expiry) and its holder returned as
a ``Principal`` whose role is the key's (at most its user's). The web layer decides what a
role may do per route and answers the refusals; the database holds only hashes of secrets."""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import USER_EMAIL_MAX, Role
from domain.text import NAME_MAX, one_line
from infra.keys import parse_key
from services.errors import DatabaseUnavailable
from services.outages import outages_refused
from store import queries, users
from store.tables import ApiKeyRow, UserRow

# A key used again within this long is not recorded as used again: reads write nothing.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_EXPIRY_DAYS = 3650
_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)


class AccessError(Exception):
    """A user or key cannot be added, changed or found; the message says why."""


class AuthenticationFailed(Exception):
    """The presented key is missing, not one of ours, expired or revoked.

    ``key_id`` is the public id the key named (when it had our shape): the one thing about a
    failed key that may be logged."""

    def __init__(self, message: str, *, reason: str, key_id: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.key_id = key_id


@dataclass(frozen=True)
class Principal:
    """Who called: the key's user and the role the key grants."""

    user_id: int
    email: str
    name: str
    role: Role
    key_id: str

    @property
    def actor(self) -> str:
        """How the history names this user (their address: unique, and people can read it)."""
        return self.email


@dataclass(frozen=True)
class UserView:
    email: str
    name: str
    role: Role
    created_at: datetime


@dataclass(frozen=True)
class KeyView:
    """A key as lists show it: never its secret, nor the hash of it."""

    key_id: str
    name: str
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool

    def status(self, now: datetime | None = None) -> str:
        if self.revoked:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or datetime.now(UTC)):
            return "expired"
        return "active"


@dataclass(frozen=True)
class NewKey:
    """A key just made: ``token`` is shown once and stored nowhere."""

    key: KeyView
    token: str


def _user_view(user: UserRow) -> UserView:
    return UserView(
        email=user.email, name=user.name, role=Role(user.role), created_at=user.created_at
    )


def _key_view(key: ApiKeyRow, user: UserRow) -> KeyView:
    return KeyView(
        key_id=key.key_id,
        name=key.name,
        email=user.email,
        role=Role(key.role),
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked=key.revoked,
    )


def normal_email(email: str) -> str:
    """The address as users are stored and found: valid, lower case, short enough to name the
    actor of what its user does."""
    try:
        address = _EMAIL.validate_python(email.strip()).lower()
    except ValidationError:
        raise AccessError(f"{email!r} is not an email address") from None
    if len(address) > USER_EMAIL_MAX:
        raise AccessError(f"a user's address has at most {USER_EMAIL_MAX} characters")
    return address


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise AccessError(f"a name has 1 to {NAME_MAX} characters")
    try:
        return one_line(name)
    except ValueError as exc:
        raise AccessError(f"the name {exc}") from None


async def _user(session: AsyncSession, email: str) -> UserRow:
    user = await queries.get_user(session, email=normal_email(email))
    if user is None:
        raise AccessError(f"no user {email!r}; add one with `matchmaker users add`")
    return user


@outages_refused()
async def add_user(
    sessions: async_sessionmaker[AsyncSession], *, email: str, name: str, role: Role
) -> UserView:
    """Add a user with a role; refuse an address already taken."""
    address, name = normal_email(email), _name(name)
    async with sessions() as session:
        if await queries.get_user(session, email=address) is not None:
            raise AccessError(f"a user {address!r} exists already")
        user = await users.add_user(session, email=address, name=name, role=Role(role).value)
        await session.commit()
        return _user_view(user)


@outages_refused()
async def list_users(sessions: async_sessionmaker[AsyncSession]) -> list[UserView]:
    """Every user, by address."""
    async with sessions() as session:
        return [_user_view(u) for u in await queries.list_users(session)]


@outages_refused()
async def create_key(
    sessions: async_sessionmaker[AsyncSession],
    *,
    email: str,
    name: str = "",
    role: Role | None = None,
    expires_in_days: int | None = None,
    now: datetime | None = None,
) -> NewKey:
    """Make a key for a user, with the user's role or a lower one, expiring or not."""
    now = now or datetime.now(UTC)
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise AccessError(f"a key expires in 1 to {MAX_EXPIRY_DAYS} days")
    async with sessions() as session:
        user = await _user(session, email)
        granted = Role(role) if role is not None else Role(user.role)
        if not Role(user.role).allows(granted):
            raise AccessError(
                f"{user.email} is {user.role}: a key of theirs cannot be {granted.value}"
            )
        key, token = await users.add_api_key(
            session,
            user_id=user.id,
            name=_name(name or f"{granted.value} key of {user.name}"),
            role=granted.value,
            expires_at=None if expires_in_days is None else now + timedelta(days=expires_in_days),
        )
        await session.commit()
        return NewKey(key=_key_view(key, user), token=token)


@outages_refused()
async def list_keys(
    sessions: async_sessionmaker[AsyncSession], *, email: str | None = None
) -> list[KeyView]:
    """Every key (of one user), oldest first, without secrets."""
    async with sessions() as session:
        rows = await queries.list_api_keys(
            session, email=None if email is None else normal_email(email)
        )
        return [_key_view(key, user) for key, user in rows]


@outages_refused()
async def acting_user(
    sessions: async_sessionmaker[AsyncSession], *, email: str, needs: Role = Role.STAFF
) -> UserView:
    """The user a command run on the server acts as (it has no key to say who): one that
    exists and whose role allows ``needs``; its address becomes the actor, as a key's would."""
    async with sessions() as session:
        user = await _user(session, email)
    if not Role(user.role).allows(needs):
        raise AccessError(f"{user.email} is {user.role}: this needs the {needs.value} role")
    return _user_view(user)


@outages_refused()
async def revoke_key(sessions: async_sessionmaker[AsyncSession], *, key_id: str) -> None:
    """Revoke a key for good (its next use is refused)."""
    async with sessions() as session:
        if await queries.get_api_key(session, key_id=key_id) is None:
            raise AccessError(f"no key {key_id!r}; `matchmaker keys list` shows them")
        await users.revoke_api_key(session, key_id=key_id, at=datetime.now(UTC))
        await session.commit()
    _verified.pop(key_id, None)


INVALID = "invalid API key"


# A key verified within this long still works while the database is down, so a short outage
# does not stop answers and actions (which need Temporal, not the database). A key revoked
# during the outage is refused once the database is back, or when this time has passed.
VERIFIED_FOR = timedelta(minutes=5)
_verified: dict[str, tuple[bytes, Principal, datetime | None, datetime]] = {}


async def authenticate(
    sessions: async_sessionmaker[AsyncSession], *, token: str | None, now: datetime | None = None
) -> Principal:
    """The holder of a presented key, or AuthenticationFailed saying why not; during a
    database outage, a key verified within ``VERIFIED_FOR`` is still honoured."""
    now = now or datetime.now(UTC)
    try:
        principal, expires_at = await _verify(sessions, token=token, now=now)
    except DatabaseUnavailable:
        recent = _recently_verified(token, now)
        if recent is None:
            raise
        return recent
    assert token is not None
    _verified[principal.key_id] = (_digest(token), principal, expires_at, now)
    return principal


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _recently_verified(token: str | None, now: datetime) -> Principal | None:
    presented = parse_key(token) if token else None
    entry = _verified.get(presented.key_id) if presented else None
    if entry is None or token is None:
        return None
    digest, principal, expires_at, verified_at = entry
    fresh = now - verified_at < VERIFIED_FOR and (expires_at is None or expires_at > now)
    return principal if fresh and hmac.compare_digest(digest, _digest(token)) else None


@outages_refused()
async def _verify(
    sessions: async_sessionmaker[AsyncSession], *, token: str | None, now: datetime
) -> tuple[Principal, datetime | None]:
    """Check a presented key against the database: its holder and the key's expiry."""
    if not token:
        raise AuthenticationFailed(
            "an API key is needed: send it as 'Authorization: Bearer <key>' or 'X-API-Key'",
            reason="missing",
        )
    presented = parse_key(token)
    if presented is None:
        raise AuthenticationFailed(INVALID, reason="malformed")
    async with sessions() as session:
        found = await queries.get_api_key(session, key_id=presented.key_id)
        if found is None:
            raise AuthenticationFailed(INVALID, reason="unknown", key_id=presented.key_id)
        key, user = found
        if not presented.matches(key.secret_hash):
            raise AuthenticationFailed(INVALID, reason="wrong secret", key_id=key.key_id)
        if key.revoked:
            raise AuthenticationFailed(
                "this API key was revoked", reason="revoked", key_id=key.key_id
            )
        if key.expires_at is not None and key.expires_at <= now:
            raise AuthenticationFailed(
                f"this API key expired at {key.expires_at.isoformat()}",
                reason="expired",
                key_id=key.key_id,
            )
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
            await users.touch_api_key(session, key_id=key.key_id, at=now)
            await session.commit()
        # a key never grants more than its user has now (the user's role may have been lowered)
        role = min(Role(key.role), Role(user.role), key=lambda r: r.rank)
        principal = Principal(
            user_id=user.id, email=user.email, name=user.name, role=role, key_id=key.key_id
        )
        return principal, key.expires_at


@outages_refused()
async def dev_admin_key(
    sessions: async_sessionmaker[AsyncSession], *, email: str, name: str, existing: str | None
) -> NewKey | None:
    """For the embedded dev stack: None when ``existing`` (the key kept from an earlier start)
    still works, else a new admin key, of the user ``email`` (made an admin if new)."""
    if existing:
        try:
            await authenticate(sessions, token=existing)
            return None
        except AuthenticationFailed:
            pass  # the database was reset, or the key revoked: make another
    address = normal_email(email)
    async with sessions() as session:
        user = await queries.get_user(session, email=address)
    if user is None:
        await add_user(sessions, email=address, name=name, role=Role.ADMIN)
    elif user.role != Role.ADMIN:
        raise AccessError(f"{address} exists but is {user.role}: no admin key can be made for it")
    return await create_key(sessions, email=address, name="dev stack admin key", role=Role.ADMIN)
