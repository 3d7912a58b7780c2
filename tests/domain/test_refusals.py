"""Refusals are plain sentences that name what is missing (every rules version)."""

import re
from datetime import timedelta

import pytest

from domain.enums import CloseReason, Party, PromptKind, Stage
from domain.lifecycle import InvalidMove
from domain.lifecycle import answers as a
from domain.lifecycle import events as e
from domain.model import Contact
from tests.domain.lifecycle_helpers import T0, Driver


def refusal(d: Driver, event: e.Event, at=None) -> str:
    with pytest.raises(InvalidMove) as info:
        d.apply(event, at)
    return str(info.value)


def test_answers_to_missing_closed_or_wrong_prompts(version):
    d = Driver(rules_version=version)
    ans = a.InterestAnswer(decision="confirm", needs="x")
    missing = e.Answered(prompt_id="check_in-9", party=Party.ADOPTER, answer=ans)
    assert refusal(d, missing) == "no prompt check_in-9 in this match"
    prompt = d.open(PromptKind.INTRODUCTION_ADOPTER)
    d.answer(PromptKind.INTRODUCTION_ADOPTER, ans)
    again = e.Answered(prompt_id=prompt.id, party=Party.ADOPTER, answer=ans)
    assert refusal(d, again) == f"prompt {prompt.id} is no longer open: it was answered"
    provider = d.open(PromptKind.INTRODUCTION_PROVIDER)
    wrong = e.Answered(prompt_id=provider.id, party=Party.PROVIDER, answer=ans)
    assert refusal(d, wrong) == (
        f"prompt {provider.id} asks for introduction_provider, not for introduction_adopter"
    )


def test_deadlines_and_resends_name_the_prompt(version):
    d = Driver(rules_version=version)
    extend = {"days": 7, "reason": "more time"}
    assert (
        refusal(d, e.ExtendDeadline(prompt_id="check_in-99", **extend))
        == "nothing to extend: no prompt check_in-99 in this match"
    )
    assert (
        refusal(d, e.Resend(prompt_id="check_in-99"))
        == "nothing to resend: no prompt check_in-99 in this match"
    )
    d.both_agree()
    intro = d.state.prompts[0]
    assert (
        refusal(d, e.ExtendDeadline(prompt_id=intro.id, **extend))
        == f"prompt {intro.id} has no deadline to extend: it was answered"
    )
    assert (
        refusal(d, e.Resend(prompt_id=intro.id))
        == f"nothing to resend: prompt {intro.id} is not open (it was answered)"
    )
    d.act(e.ScheduleVisit, plan=d.plan(10), reason="by phone")
    assert refusal(d, e.ExtendDeadline(**extend)) == "no open prompt has a deadline to extend"
    assert refusal(d, e.Resend()) == "nothing to resend: no prompt is open"


def test_secretariat_moves_that_do_not_apply(version):
    d = Driver(rules_version=version)
    assert refusal(d, e.Resume()) == "nothing to resume: the match is not paused"
    d.act(e.Pause, reason="reshuffle")
    assert refusal(d, e.Pause(reason="again")) == (
        f"reminders are already paused (since {T0.isoformat()})"
    )
    assert refusal(d, e.CancelVisit(reason="strike")) == (
        "nothing to cancel: no visit is being planned or scheduled"
    )
    assert refusal(d, e.ScheduleVisit(plan=d.plan(10), reason="phone")) == (
        "a visit can only be scheduled in the field_visit stage; the match is in follow_up"
    )
    provider = d.state.contacts[Party.PROVIDER]
    clash = Contact(name="Someone", email=provider.email)
    assert refusal(d, e.ChangeContact(party=Party.ADOPTER, contact=clash, reason="typo")) == (
        f"{provider.email} is the provider contact; the adopter and provider contacts must differ"
    )
    d.act(e.Advance, to=Stage.ADAPTATION, reason="agreed")
    assert refusal(d, e.Advance(to=Stage.ADAPTATION, reason="again")) == (
        "the match is already in adaptation"
    )
    assert refusal(d, e.Advance(to=Stage.FIELD_VISIT, reason="back")) == (
        "cannot go back from adaptation to field_visit: matches only move forward"
    )
    d.act(e.Close, reason=CloseReason.WITHDRAWN, note="withdrew")
    assert refusal(d, e.AddNote(text="late")) == (
        "the match is closed (withdrawn), so nothing can change it"
    )


def test_time_and_visit_dates(version):
    d = Driver(rules_version=version)
    later = T0 + timedelta(days=1)
    d.apply(e.AddNote(text="called"), later)
    d.now = later
    assert refusal(d, e.AddNote(text="old note"), T0) == (
        f"events must not go back in time: the last one happened at {later.isoformat()}"
    )
    d.both_agree()
    past = a.VisitPlan(start=d.day(0), end=d.day(1), format="virtual", delegation_size=2)
    message = refusal(d, e.ScheduleVisit(plan=past, reason="phone"))
    assert re.fullmatch(r"the visit must start after today \(\S+\), not on \S+", message)


def test_every_refusal_in_the_rules_names_a_known_code():
    """Each ``raise InvalidMove(...)`` of the rules passes ``code=`` one of REFUSALS (a page
    says it in the partner's language from the code: web/refusals.py)."""
    import ast
    from pathlib import Path

    from domain.lifecycle.refusals import REFUSALS

    calls = [
        node
        for path in Path("domain").rglob("*.py")
        if path.name != "refusals.py"  # where the class rebuilds itself
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "InvalidMove"
    ]
    assert len(calls) >= 25
    for call in calls:
        [code] = [k.value for k in call.keywords if k.arg == "code"]
        assert isinstance(code, ast.Constant) and code.value in REFUSALS, ast.dump(call)


def test_a_refusal_carries_its_code_and_plain_parameters(version):
    d = Driver(rules_version=version)
    d.both_agree()
    plan = d.plan(start_in=0)
    with pytest.raises(InvalidMove) as info:
        d.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=plan))
    assert str(info.value).startswith("the visit must start after today")
    assert info.value.code == "visit_starts_too_soon"
    assert info.value.params == {"today": T0.date().isoformat(), "start": plan.start.isoformat()}
    import pickle

    again = pickle.loads(pickle.dumps(info.value))
    assert (str(again), again.code, again.params) == (
        str(info.value),
        "visit_starts_too_soon",
        info.value.params,
    )
