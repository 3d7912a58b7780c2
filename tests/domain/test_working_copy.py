"""The rules' working copy is the deep copy it replaces: equal, and sharing nothing mutable."""

import copy
from datetime import timedelta

from pydantic import BaseModel

from domain.enums import Party, PromptKind
from domain.lifecycle import answers as a
from domain.lifecycle import events as e
from domain.lifecycle.copying import working_copy
from domain.lifecycle.state import MatchState
from domain.model import Contact
from tests.domain.lifecycle_helpers import Driver


def _mutables(value, found: dict[int, object]) -> dict[int, object]:
    """Every list, dict, set and model reachable from ``value`` (id → object)."""
    if isinstance(value, BaseModel):
        found[id(value)] = value
        for item in value.__dict__.values():
            _mutables(item, found)
    elif isinstance(value, dict):
        found[id(value)] = value
        for k, v in value.items():
            _mutables(k, found)
            _mutables(v, found)
    elif isinstance(value, list | set | tuple):
        if not isinstance(value, tuple):
            found[id(value)] = value
        for item in value:
            _mutables(item, found)
    return found


def _states() -> list[MatchState]:
    d = Driver()
    states = [d.state]
    d.both_agree()
    d.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=d.plan()))
    states.append(d.state)
    d.act(e.Pause, reason="holidays")
    d.act(
        e.ChangeContact,
        party=Party.PROVIDER,
        contact=Contact(name="N. Other", email="other@example.org", language="fr"),
        reason="moved on",
    )
    d.advance(40)
    states.append(d.state)
    return states


def test_the_working_copy_equals_a_deep_copy_and_shares_nothing_mutable() -> None:
    for state in _states():
        made = working_copy(state)
        assert made == state == copy.deepcopy(state)
        assert made.model_dump() == state.model_dump()
        assert made.model_fields_set == state.model_fields_set
        theirs, ours = _mutables(state, {}), _mutables(made, {})
        assert not set(theirs) & set(ours), "a mutable part is shared with the original"


def test_what_is_named_shared_is_shared_and_aliases_stay_aliases() -> None:
    state = _states()[-1]
    shared = {id(state.eoi): state.eoi, **{id(h): h for h in state.history}}
    made = working_copy(state, shared)
    assert made.eoi is state.eoi
    assert all(x is y for x, y in zip(made.history, state.history, strict=True))
    assert made.history is not state.history
    prompt = made.prompts[0]
    both = working_copy({"a": prompt, "b": prompt})
    assert both["a"] is both["b"] and both["a"] is not prompt


def test_a_change_to_the_copy_leaves_the_original_alone() -> None:
    state = _states()[1]
    before = copy.deepcopy(state)
    made = working_copy(state)
    made.prompts[0].reminders_due.append(made.started_at + timedelta(days=1))
    made.attention["x"] = "y"
    made.contacts[Party.ADOPTER] = made.contacts[Party.PROVIDER]
    made.prompts[0].context["note"] = "changed"
    assert state == before
