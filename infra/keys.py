"""API keys: minted as ``mmk_<key id>_<secret>``, stored as the key id and a hash of the secret.

The secret is 32 random bytes, so a plain SHA-256 of it cannot be reversed by guessing (a slow,
salted hash is for passwords people choose); the key id is public, names the key in lists and
logs, and finds its row. Comparisons are constant-time.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "mmk"
KEY_ID_BYTES = 6  # 12 hex characters: enough to name and find a key, nothing about its secret
SECRET_BYTES = 32
KEY_ID = re.compile(r"[0-9a-f]{12}")
# the whole key, as a client sends it (the secret is URL-safe base64: letters, digits, - and _)
KEY = re.compile(rf"{PREFIX}_(?P<key_id>[0-9a-f]{{12}})_(?P<secret>[A-Za-z0-9_-]{{43}})")


@dataclass(frozen=True)
class MintedKey:
    """A new key: ``token`` is shown to its owner once; only ``key_id`` and ``secret_hash``
    are stored."""

    key_id: str
    token: str
    secret_hash: str


def hash_secret(secret: str) -> str:
    """The stored form of a key's secret (hex SHA-256)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def mint_key() -> MintedKey:
    """A fresh random key."""
    key_id = secrets.token_hex(KEY_ID_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return MintedKey(
        key_id=key_id, token=f"{PREFIX}_{key_id}_{secret}", secret_hash=hash_secret(secret)
    )


@dataclass(frozen=True)
class PresentedKey:
    key_id: str
    secret: str

    def matches(self, secret_hash: str) -> bool:
        """Whether this key's secret is the one ``secret_hash`` was made from (constant time)."""
        return hmac.compare_digest(hash_secret(self.secret), secret_hash)


def parse_key(token: str) -> PresentedKey | None:
    """The key id and secret of a key as a client sent it, or None when it is not shaped like
    one of ours."""
    found = KEY.fullmatch(token.strip())
    if found is None:
        return None
    return PresentedKey(key_id=found["key_id"], secret=found["secret"])
