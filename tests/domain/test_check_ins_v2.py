"""Rules version 2: extending the deadline of a missed check-in moves the next check-in."""

from datetime import timedelta

import pytest

from domain.enums import MatchStatus, PromptKind, PromptStatus
from domain.lifecycle import InvalidMove
from domain.lifecycle import events as e
from tests.domain.lifecycle_helpers import Driver


def two_missed(version: int) -> Driver:
    d = Driver(rules_version=version)
    d.both_agree(remote=True)
    d.adaptation_plan()
    d.advance(30 * 3 + 1)
    assert d.state.missed_checkins == 2 and "check_ins" in d.state.attention
    return d


def test_extending_moves_the_next_check_in_and_clears_the_alert():
    d = two_missed(2)
    before = d.state.next_checkin_at
    decision = d.act(e.ExtendDeadline, days=10, reason="elections")
    assert d.state.next_checkin_at == before + timedelta(days=10)
    assert d.state.status == MatchStatus.ACTIVE and "check_ins" not in d.state.attention
    [entry] = decision.history
    assert entry.kind == "deadline_extended" and entry.summary == (
        f"Next check-in moved by 10 days, to {d.state.next_checkin_at.date().isoformat()}: "
        "elections"
    )
    # the open check-in stays open until the moved date
    check_in = d.open(PromptKind.CHECK_IN)
    d.advance((before - d.now).days + 5)
    assert d.state.prompt(check_in.id).is_open
    d.check_in("on_track")
    assert d.state.missed_checkins == 0


def test_naming_the_open_check_in_moves_it_too():
    d = two_missed(2)
    check_in = d.open(PromptKind.CHECK_IN)
    before = d.state.next_checkin_at
    d.act(e.ExtendDeadline, days=5, prompt_id=check_in.id, reason="travel")
    assert d.state.next_checkin_at == before + timedelta(days=5)


def test_an_expired_check_in_says_how_to_move_the_next_one():
    d = two_missed(2)
    expired = next(p for p in d.state.prompts if p.status == PromptStatus.EXPIRED)
    with pytest.raises(InvalidMove) as info:
        d.act(e.ExtendDeadline, days=5, prompt_id=expired.id, reason="travel")
    assert str(info.value) == (
        f"prompt {expired.id} has no deadline to extend: it expired; "
        "name no prompt to move the next check-in"
    )


def test_version_1_refuses_and_says_why():
    d = two_missed(1)
    with pytest.raises(InvalidMove) as info:
        d.act(e.ExtendDeadline, days=10, reason="elections")
    assert str(info.value) == (
        "no open prompt has a deadline to extend; moving the next check-in needs rules "
        "version 2, and this match follows rules version 1"
    )
    check_in = d.open(PromptKind.CHECK_IN)
    with pytest.raises(InvalidMove) as info:
        d.act(e.ExtendDeadline, days=10, prompt_id=check_in.id, reason="elections")
    assert str(info.value).startswith(f"prompt {check_in.id} has no deadline to extend; ")


def test_the_adaptation_plan_deadline_is_still_extended_first(version):
    d = Driver(rules_version=version)
    d.both_agree(remote=True)
    plan = d.open(PromptKind.ADAPTATION_PLAN)
    d.act(e.ExtendDeadline, days=10, reason="holidays")
    assert d.state.prompt(plan.id).lapse_at == plan.lapse_at + timedelta(days=10)
    assert d.state.next_checkin_at is None
