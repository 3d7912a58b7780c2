"""Escalation notices suggest only the moves the rules allow right after them."""

from datetime import timedelta

from domain.enums import PromptKind
from domain.lifecycle import decide
from domain.lifecycle import events as e
from tests.domain.escalations import as_event, suggested
from tests.domain.lifecycle_helpers import T0, Driver


def escalate(d: Driver, days: float) -> list[list[dict]]:
    """Let time pass until the next escalation; return the moves each of its notices suggests."""
    before = len(d.decisions)
    d.advance(days)
    found = [s for dec in d.decisions[before:] for s in suggested(dec)]
    assert found, "no escalation"
    return found


def assert_each_is_accepted(d: Driver, suggestions: list[dict]) -> None:
    for suggestion in suggestions:
        decide(d.state, as_event(suggestion, d), d.now)  # raises InvalidMove if refused


def actions(suggestions: list[dict]) -> list[str]:
    return [s["action"] for s in suggestions]


def test_a_silent_partner_in_follow_up(version):
    d = Driver(rules_version=version)
    if version >= 3:  # one notice for both (test_one_escalation_names_every_silent_party)
        [moves] = escalate(d, 21)
        adopter, provider = moves[:4], moves[4:]
    else:
        adopter, provider = escalate(d, 21)
    assert actions(adopter) == ["extend-deadline", "resend", "change-contact", "close"]
    assert adopter[0]["params"] == {"prompt_id": "introduction_adopter-1"}
    assert adopter[2]["params"] == {"party": "adopter"}
    assert provider[2]["params"] == {"party": "provider"}
    assert adopter[3]["params"] == {"reason": "lapsed"}
    assert adopter[0]["text"] == (
        "give the adopter more time to answer introduction_adopter-1 (due 2026-02-04)"
    )
    assert_each_is_accepted(d, adopter + provider)


def test_missed_check_ins_move_the_next_check_in_only_under_version_2(version):
    d = Driver(rules_version=version)
    d.both_agree(remote=True)
    d.adaptation_plan()
    [moves] = escalate(d, 91)
    expected = ["extend-deadline", "resend", "change-contact", "close"]
    assert actions(moves) == (expected if version >= 2 else expected[1:])
    assert moves[-1]["params"] == {"reason": "abandoned"}
    assert_each_is_accepted(d, moves)


def test_visit_planning_suggests_scheduling_or_cancelling_the_visit(version):
    d = Driver(rules_version=version)
    d.both_agree()
    [moves] = escalate(d, 21)
    assert actions(moves) == [
        "extend-deadline",
        "resend",
        "change-contact",
        "schedule-visit",
        "cancel-visit",
        "close",
    ]
    assert_each_is_accepted(d, moves)


def test_no_visit_is_suggested_outside_field_visit(version):
    d = Driver(rules_version=version)
    d.both_agree(remote=True)
    [moves] = escalate(d, 21)
    assert actions(moves) == ["extend-deadline", "resend", "change-contact", "close"]


def test_an_awaited_visit_report_can_be_recorded_under_version_2(version):
    d = Driver(rules_version=version)
    d.both_agree()
    d.visit_agreed(start_in=10)
    d.advance(13)
    assert d.open(PromptKind.VISIT_REPORT)
    [moves] = escalate(d, 21)
    assert ("record-visit" in actions(moves)) == (version >= 2)
    assert_each_is_accepted(d, moves)


def test_nothing_is_suggested_when_the_match_closed_in_the_same_decision(version):
    d = Driver(rules_version=version)
    decision = d.apply(e.Tick(), T0 + timedelta(days=40))
    assert d.state.closed and suggested(decision) == ([[]] if version >= 3 else [[], []])


def test_the_escalation_email_context_keeps_its_earlier_fields(version):
    d = Driver(rules_version=version)
    d.advance(22)
    [first, *_] = [m for dec in d.decisions for m in dec.emails if "why" in m.context]
    earlier = ["why", "prompt_id", "suggested_actions"]
    if version >= 3:
        earlier[2:2] = ["silent", "due"]
    assert list(first.context) == earlier


def test_one_escalation_names_every_silent_party_under_version_3():
    d = Driver(rules_version=3)
    before = len(d.decisions)
    d.advance(21)
    notices = [m for dec in d.decisions[before:] for m in dec.emails if m.template == "escalation"]
    [notice] = notices
    assert [s["party"] for s in notice.context["silent"]] == ["adopter", "provider"]
    assert all(s["days"] == 21 for s in notice.context["silent"])
    assert "adopter" in notice.context["why"] and "provider" in notice.context["why"]
    moves = notice.context["suggested_actions"]
    assert [m["action"] for m in moves].count("close") == 1  # the same move once
    assert {m["params"].get("prompt_id") for m in moves if m["action"] == "resend"} == {
        "introduction_adopter-1",
        "introduction_provider-2",
    }
    # each silent question still needs attention on its own
    assert set(d.state.attention) == {"introduction_adopter-1", "introduction_provider-2"}
