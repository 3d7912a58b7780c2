"""Rules version 2: what partners ask from their own pages (a fresh link, the Secretariat's help)."""

from datetime import timedelta

import pytest

from domain.enums import NoticeKind, Party, PromptKind
from domain.lifecycle import InvalidMove
from domain.lifecycle import events as e
from tests.domain.lifecycle_helpers import Driver


def _fresh(d: Driver, kind: PromptKind = PromptKind.INTRODUCTION_ADOPTER) -> e.LinkRequested:
    return e.LinkRequested(prompt_id=d.open(kind).id, party=Party.ADOPTER)


def test_a_fresh_link_sends_the_prompt_again_once_a_day():
    d = Driver()
    prompt = d.open(PromptKind.INTRODUCTION_ADOPTER)
    decision = d.apply(_fresh(d))
    [email] = decision.emails
    assert (email.template, email.party, email.round) == (prompt.kind, Party.ADOPTER, 2)
    assert email.key != d.decisions[0].emails[0].key  # a new email, not the first one again
    [entry] = decision.history
    assert (entry.kind, entry.actor) == ("link_resent", Party.ADOPTER)
    d.advance(0.5)
    with pytest.raises(InvalidMove, match="another can be sent from"):
        d.apply(_fresh(d))
    d.advance(0.6)
    assert d.apply(_fresh(d)).emails


def test_a_fresh_link_is_only_for_the_partys_own_open_prompt():
    d = Driver()
    provider_prompt = d.open(PromptKind.INTRODUCTION_PROVIDER)
    with pytest.raises(InvalidMove, match="is for the provider"):
        d.apply(e.LinkRequested(prompt_id=provider_prompt.id, party=Party.ADOPTER))
    d.both_agree(remote=True)
    with pytest.raises(InvalidMove, match="no longer open"):
        d.apply(e.LinkRequested(prompt_id=provider_prompt.id, party=Party.PROVIDER))


def test_help_needs_attention_tells_the_secretariat_and_a_note_clears_it():
    d = Driver()
    decision = d.apply(e.HelpRequested(party=Party.PROVIDER, message="Who pays the visit?"))
    [email] = decision.emails
    assert (email.template, email.party) == (NoticeKind.HELP_REQUEST, Party.SECRETARIAT)
    assert email.context == {"about": Party.PROVIDER, "message": "Who pays the visit?"}
    assert d.state.attention["help:provider"].endswith("Who pays the visit?")
    assert d.state.needs_attention()
    d.act(e.AddNote, text="Called them: the provider's ministry pays")
    assert not d.state.attention


def test_version_1_matches_refuse_both():
    d = Driver(rules_version=1)
    with pytest.raises(InvalidMove, match="rules version 2"):
        d.apply(_fresh(d))
    with pytest.raises(InvalidMove, match="rules version 2"):
        d.apply(e.HelpRequested(party=Party.ADOPTER, message="help"))


def test_a_closed_match_takes_no_request():
    d = Driver()
    d.act(e.Close, reason="not_pursued", note="Neither side followed up")
    with pytest.raises(InvalidMove, match="closed"):
        d.apply(e.HelpRequested(party=Party.ADOPTER, message="help"), d.now + timedelta(days=1))
