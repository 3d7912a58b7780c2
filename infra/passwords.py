"""Passwords of console users: hashed with argon2id (argon2-cffi's current defaults), checked
in constant time, and rehashed when those defaults move on."""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PASSWORD_MIN = 12
PASSWORD_MAX = 1024  # argon2 takes any length; a bound keeps one sign-in from costing much more

_hasher = PasswordHasher()


@cache
def _dummy() -> str:
    """Checked when an address has no user or no password, so that a sign-in costs the same
    either way (the time taken does not tell which addresses are users); made on first use,
    not when a process starts."""
    return _hasher.hash("no user has this password")


def hash_password(password: str) -> str:
    """The stored form of a password (an argon2id PHC string, salt included)."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (False for no stored hash)."""
    try:
        return _hasher.verify(stored or _dummy(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored)


def password_problem(password: str) -> str | None:
    """What is wrong with a new password, or None when it will do."""
    if len(password) < PASSWORD_MIN:
        return f"a password has at least {PASSWORD_MIN} characters"
    if len(password) > PASSWORD_MAX:
        return f"a password has at most {PASSWORD_MAX} characters"
    if password != password.strip():
        return "a password does not start or end with a space"
    return None
