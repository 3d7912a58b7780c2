"""Partner links: signed, expiring, rotating, and nothing personal inside."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.signing import LinkExpired, LinkTampered, PartnerLinks

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


def _mint(links: PartnerLinks, **overrides) -> str:
    claims = {
        "match_id": "match-EOI-7",
        "prompt_id": "introduction_adopter-1",
        "party": "adopter",
        "expires_at": LATER,
    }
    return links.mint(**{**claims, **overrides})


def test_a_token_reads_back_its_claims():
    links = PartnerLinks(["s" * 32])
    claims = links.read(_mint(links), now=NOW)
    assert (claims.match_id, claims.prompt_id, claims.party) == (
        "match-EOI-7",
        "introduction_adopter-1",
        "adopter",
    )
    assert claims.expires_at == LATER.replace(microsecond=0)


def test_a_match_page_token_names_no_prompt():
    links = PartnerLinks(["s" * 32])
    assert links.read(_mint(links, prompt_id=None), now=NOW).prompt_id is None


def test_the_same_content_gives_the_same_token():
    links = PartnerLinks(["s" * 32])
    assert _mint(links) == _mint(links)


@given(position=st.integers(min_value=0), replacement=st.sampled_from("AbZ09-_."))
def test_any_changed_character_is_refused(position, replacement):
    links = PartnerLinks(["s" * 32])
    token = _mint(links)
    # the last character of each base64 segment has unused bits: leave those out
    ends = {len(token) - 1, token.index(".") - 1}
    places = [i for i in range(len(token)) if i not in ends]
    i = places[position % len(places)]
    changed = token[:i] + replacement + token[i + 1 :]
    if changed == token:
        return
    with pytest.raises(LinkTampered):
        links.read(changed, now=NOW)


def test_a_cut_token_and_another_secret_are_refused():
    links = PartnerLinks(["s" * 32])
    with pytest.raises(LinkTampered):
        links.read(_mint(links)[:-3], now=NOW)
    with pytest.raises(LinkTampered):
        PartnerLinks(["t" * 32]).read(_mint(links), now=NOW)


def test_rotation_the_first_secret_signs_every_secret_is_accepted():
    old = PartnerLinks(["old" * 11])
    rotated = PartnerLinks(["new" * 11, "old" * 11])
    assert rotated.read(_mint(old), now=NOW).match_id == "match-EOI-7"
    assert PartnerLinks(["new" * 11]).read(_mint(rotated), now=NOW).party == "adopter"
    with pytest.raises(LinkTampered):
        old.read(_mint(rotated), now=NOW)


def test_an_expired_token_says_for_what_and_when():
    links = PartnerLinks(["s" * 32])
    with pytest.raises(LinkExpired) as caught:
        links.read(_mint(links), now=LATER)
    assert caught.value.claims.prompt_id == "introduction_adopter-1"
    assert "2026-12-23" in str(caught.value)


def test_expiry_is_the_deadline_plus_grace_rounded_up_to_a_day():
    links = PartnerLinks(["s" * 32], grace=timedelta(days=14))
    deadline = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert links.expiry(deadline, now=NOW, lifetime=timedelta(days=60)) == datetime(
        2026, 12, 16, tzinfo=UTC
    )
    assert links.expiry(None, now=NOW, lifetime=timedelta(days=60)) == datetime(
        2027, 2, 6, tzinfo=UTC
    )


def test_nothing_personal_or_secret_is_in_the_token():
    links = PartnerLinks(["s" * 32])
    payload, _, _signature = _mint(links).partition(".")
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert "@" not in decoded and "s" * 8 not in decoded


def test_no_secret_no_links():
    with pytest.raises(ValueError):
        PartnerLinks([])


def test_a_form_key_belongs_to_its_token():
    links = PartnerLinks(["s" * 32])
    token, other = _mint(links), _mint(links, prompt_id="visit_proposal-3")
    key = links.form_key(token)
    assert links.form_key_matches(token, key)
    assert not links.form_key_matches(other, key)
    assert not links.form_key_matches(token, key[:-2] + "xx")


def test_the_claims_of_a_genuine_token_are_believed_even_expired():
    links = PartnerLinks(["s" * 32])
    token = _mint(links, expires_at=NOW - timedelta(days=3))
    claims = links.trusted_claims(token)
    assert claims is not None and claims.match_id == "match-EOI-7"


@pytest.mark.parametrize("kept", [12, 20, 26])
def test_a_token_cut_short_in_its_signature_keeps_its_claims(kept):
    """A mail client broke the line: the claims are whole and what is left of the signature
    is theirs, so the page may speak the partner's language (nothing more)."""
    links = PartnerLinks(["new" * 11, "old" * 11])
    token = PartnerLinks(["old" * 11]).mint(
        match_id="match-EOI-7", party="provider", expires_at=LATER
    )  # signed with a secret still accepted
    payload, signature = token.rsplit(".", 1)
    with pytest.raises(LinkTampered):
        links.read(f"{payload}.{signature[:kept]}", now=NOW)
    claims = links.trusted_claims(f"{payload}.{signature[:kept]}")
    assert claims is not None and (claims.match_id, claims.party) == ("match-EOI-7", "provider")


def test_no_claim_of_a_changed_or_too_short_token_is_believed():
    links = PartnerLinks(["s" * 32])
    token = _mint(links)
    payload, signature = token.rsplit(".", 1)
    another = PartnerLinks(["x" * 32])  # another Matchmaker's secret
    other_party = (
        base64.urlsafe_b64encode(b'["match-EOI-7","introduction_adopter-1","provider",1800000000]')
        .decode()
        .rstrip("=")
    )
    changed = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for token in (
        f"{payload}.{signature[:11]}",  # too little of the signature left to tell
        f"{payload}.",
        payload,
        payload[:20],
        f"{payload}.{changed}",  # a changed signature
        f"{other_party}.{signature}",  # changed claims
        f"{other_party}.{signature[:20]}",
        _mint(another),
        _mint(another)[:-10],
        "",
        "....",
        "not a token",
    ):
        assert links.trusted_claims(token) is None, token
