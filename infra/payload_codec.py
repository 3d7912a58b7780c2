"""Payload encryption: AES-GCM on every payload Temporal stores, the key id in its metadata.

New payloads are sealed with the newest key; a payload names the key that sealed it
(``encryption-key-id``), so older keys kept in the list still open older payloads (rotation).
Payloads that were never encrypted (histories recorded before the codec) pass through.
"""

import base64
import binascii
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
KEY_BYTES = (16, 24, 32)
DEV_KEY_FILE = "payload-key"
_KEY_ID_FORMAT = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class PayloadKeyError(ValueError):
    """A configured payload key is malformed (the message says what is accepted)."""


class PayloadDecryptionError(ValueError):
    """A payload cannot be opened: unknown key id, or the key does not fit its ciphertext."""


@dataclass(frozen=True, repr=False)
class PayloadKey:
    """One AES key and the id stored beside every payload it seals."""

    id: str
    secret: bytes

    def __repr__(self) -> str:
        return f"PayloadKey(id={self.id!r})"


def parse_key(text: str) -> PayloadKey:
    """Read ``id:base64key`` (an AES key of 16, 24 or 32 bytes; 32 recommended)."""
    key_id, sep, encoded = text.strip().partition(":")
    if not sep or not _KEY_ID_FORMAT.match(key_id):
        raise PayloadKeyError(
            "a payload key reads 'id:base64key', the id of 1-64 letters, digits, '.', '_' or '-'"
        )
    try:
        secret = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise PayloadKeyError(f"payload key {key_id!r}: the key is not valid base64") from None
    if len(secret) not in KEY_BYTES:
        raise PayloadKeyError(
            f"payload key {key_id!r}: the key is {len(secret)} bytes; AES takes 16, 24 or 32 "
            "(make one with `matchmaker payload-key`)"
        )
    return PayloadKey(id=key_id, secret=secret)


def new_key_text(key_id: str) -> str:
    """A fresh random 256-bit key as ``id:base64key``."""
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


def dev_key(data_dir: Path) -> PayloadKey:
    """The dev stack's key: made once under ``data_dir`` (readable by its owner only), then
    read back. Several processes starting together agree on one file (link is atomic)."""
    path = data_dir / DEV_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        staging = data_dir / f".{DEV_KEY_FILE}.{os.getpid()}"
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(new_key_text("dev") + "\n")
        try:
            os.link(staging, path)
        except FileExistsError:
            pass  # another process of the stack made it first: use theirs
        finally:
            staging.unlink()
    return parse_key(path.read_text())


class EncryptionCodec(PayloadCodec):
    """AES-GCM with a random 12-byte nonce per payload; the key id is authenticated too."""

    def __init__(self, keys: Sequence[PayloadKey]) -> None:
        if not keys:
            raise PayloadKeyError("at least one payload key is needed")
        self._newest = keys[0]
        self._ciphers = {key.id: AESGCM(key.secret) for key in reversed(keys)}

    @property
    def key_ids(self) -> list[str]:
        """The ids this codec opens, newest first."""
        return [self._newest.id, *(k for k in self._ciphers if k != self._newest.id)]

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        """Encrypt one payload with the newest key."""
        key_id = self._newest.id.encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._newest.id].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        """Decrypt one payload; one that was never encrypted is returned as it is."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"payload sealed with key {key_id!r}, which is not configured (known: "
                f"{', '.join(self.key_ids)}); add it to MATCHMAKER_PAYLOAD_KEYS after the newest"
            )
        data = payload.data
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            raise PayloadDecryptionError(
                f"payload sealed with key {key_id!r} does not open with the configured key of "
                "that id (wrong key, or the payload was altered)"
            ) from None
        return Payload.FromString(plain)
