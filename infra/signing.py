"""Signed partner links: one token names a match, a prompt and a party, and when it expires.

A token is the only credential of a partner page, so it carries nothing personal or secret
(match and prompt ids are references, the party is "adopter" or "provider") and is signed with
HMAC-SHA256 (itsdangerous). Secrets rotate: every secret of the list is accepted, the first one
signs. A token is deterministic for its content, so an email sent again carries the same link.
"""

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, Signer, URLSafeSerializer

SALT = "matchmaker.partner-link.v1"
# How much of its signature a link cut short must keep for its claims to be believed: 12
# characters of base64 are 72 bits, more than anyone can guess.
CUT_KEEPS = 12


class LinkError(Exception):
    """A link that gives no access; the message says why, in words a partner understands."""


class LinkTampered(LinkError):
    """The link was changed, cut short or signed with a secret this Matchmaker does not hold."""


class LinkExpired(LinkError):
    """The link was genuine but its time ran out; its claims say which prompt it was for."""

    def __init__(self, claims: "LinkClaims") -> None:
        super().__init__(f"this link expired on {claims.expires_at.date().isoformat()}")
        self.claims = claims


@dataclass(frozen=True)
class LinkClaims:
    match_id: str
    prompt_id: str | None  # None: the partner's page of the match, not one prompt
    party: str
    expires_at: datetime


class PartnerLinks:
    """Mint and read partner tokens with a rotating list of secrets (the first one signs)."""

    def __init__(self, secrets: Sequence[str], *, grace: timedelta = timedelta(days=14)) -> None:
        if not secrets or any(not s for s in secrets):
            raise ValueError("partner links need at least one non-empty signing secret")
        # itsdangerous signs with the last key of its list and accepts them all
        self._serializer = URLSafeSerializer(list(reversed(secrets)), salt=SALT)
        self._signers = [Signer(secret, salt=SALT) for secret in secrets]  # one per secret
        self._forms = Signer(list(reversed(secrets)), salt=f"{SALT}.form")
        self.grace = grace

    def form_key(self, token: str) -> str:
        """The value a page's form must send back with a token (CSRF): only a page this
        Matchmaker served for that token knows it."""
        return self._forms.get_signature(token).decode()

    def form_key_matches(self, token: str, key: str) -> bool:
        return self._forms.verify_signature(token.encode(), key.encode())

    def expiry(self, answer_by: datetime | None, *, now: datetime, lifetime: timedelta) -> datetime:
        """When a link should stop working: the prompt's deadline plus the grace period, or
        ``lifetime`` from now for what has no deadline. Rounded to the day, so every email
        of the same prompt and day carries the same link."""
        end = (answer_by if answer_by else now + lifetime) + self.grace
        return datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)

    def mint(
        self, *, match_id: str, party: str, expires_at: datetime, prompt_id: str | None = None
    ) -> str:
        return self._serializer.dumps(
            [match_id, prompt_id or "", party, int(expires_at.timestamp())]
        )

    def read(self, token: str, *, now: datetime) -> LinkClaims:
        """The claims of a genuine, unexpired token; LinkTampered or LinkExpired otherwise."""
        try:
            claims = _claims(self._serializer.loads(token))
        except (BadSignature, ValueError, TypeError) as exc:
            raise LinkTampered(
                "this link is not one Matchmaker sent: it may have been cut short or changed "
                "when it was copied"
            ) from exc
        if now >= claims.expires_at:
            raise LinkExpired(claims)
        return claims

    def trusted_claims(self, token: str) -> LinkClaims | None:
        """The claims of a token this Matchmaker signed, expired or not, or of one cut short
        (a mail client broke the line) whose claims are whole and whose signature, as far as
        it goes and for at least ``CUT_KEEPS`` characters, is theirs. None when no claim can
        be believed (changed, or cut too short to tell). A page uses them to find the
        partner's language, never for access: ``read`` alone opens a link."""
        try:
            genuine, payload = self._serializer.loads_unsafe(token)
            claims = _claims(payload) if payload is not None else None
        except (ValueError, TypeError):
            return None
        if genuine or claims is None:
            return claims
        value, _, signature = token.rpartition(".")
        if len(signature) < CUT_KEEPS:
            return None
        for signer in self._signers:
            whole = signer.get_signature(value).decode()
            if len(signature) < len(whole) and hmac.compare_digest(
                whole[: len(signature)], signature
            ):
                return claims
        return None


def _claims(payload: Any) -> LinkClaims:
    """The claims of a token's payload; ValueError or TypeError when it holds none."""
    match_id, prompt_id, party, expires = payload
    return LinkClaims(
        match_id=str(match_id),
        prompt_id=str(prompt_id) or None,
        party=str(party),
        expires_at=datetime.fromtimestamp(int(expires), tz=UTC),
    )
