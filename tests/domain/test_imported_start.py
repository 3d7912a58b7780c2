"""A match under way when the Network adopts Matchmaker starts at its stage, its past dated."""

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.enums import Party, PromptKind, Stage
from domain.lifecycle import answers as a
from domain.lifecycle import decide, start
from domain.lifecycle import events as e
from domain.lifecycle.imported import ImportedHistory, start_imported
from domain.policy import TimingPolicy
from tests.domain.lifecycle_helpers import T0, Driver
from tests.support import example_eoi


def _started(imported: ImportedHistory, version: int = 2):
    return start_imported(example_eoi(), TimingPolicy(), T0, imported, rules_version=version)


def test_an_adaptation_under_way_starts_there_with_its_milestones_dated(version):
    imported = ImportedHistory(
        stage="adaptation", field_visit_on=date(2022, 2, 1), adaptation_on=date(2022, 5, 10)
    )
    decision = _started(imported, version)
    state = decision.state
    assert (state.stage, state.rules_version) == (Stage.ADAPTATION, version)
    kinds = [(h.kind, h.stage, h.occurred_at) for h in decision.history]
    assert kinds == [
        ("match_recorded", Stage.FOLLOW_UP, example_eoi().submitted_at),
        ("stage_entered", Stage.FIELD_VISIT, datetime(2022, 2, 1, tzinfo=UTC)),
        ("stage_entered", Stage.ADAPTATION, datetime(2022, 5, 10, tzinfo=UTC)),
        ("match_imported", Stage.ADAPTATION, T0),
        ("prompt_opened", Stage.ADAPTATION, T0),
    ]
    assert all(h.data.get("imported") for h in decision.history[:4])
    assert "follow_up → field_visit" in decision.history[1].summary
    # the stage's own prompt is asked now, and only it
    [prompt] = state.open_prompts()
    assert (prompt.kind, prompt.party, prompt.opened_at) == (
        PromptKind.ADAPTATION_PLAN,
        Party.ADOPTER,
        T0,
    )
    assert [m.template for m in decision.emails] == [PromptKind.ADAPTATION_PLAN]
    assert [s for s, _ in [(h.seq, h) for h in decision.history]] == [1, 2, 3, 4, 5]


def test_an_imported_match_goes_on_as_any_other():
    decision = _started(ImportedHistory(stage="adaptation", adaptation_on=date(2022, 5, 10)))
    driver = Driver()
    driver.state, driver.decisions = decision.state, [decision]
    driver.adaptation_plan()
    assert driver.state.next_checkin_at == T0 + timedelta(days=30)
    driver.advance(30)
    driver.check_in("piloted")
    assert driver.state.stage == Stage.OUTCOME
    assert driver.open(PromptKind.OUTCOME_REPORT).party == Party.ADOPTER


def test_a_field_visit_under_way_asks_for_the_visit_proposal_and_times_it_from_now():
    decision = _started(ImportedHistory(stage="field_visit", field_visit_on=date(2021, 12, 1)))
    [prompt] = decision.state.open_prompts()
    assert prompt.kind == PromptKind.VISIT_PROPOSAL
    assert prompt.lapse_at == T0 + timedelta(days=30)
    # silence is handled as for any prompt: a reminder on day 7
    tick = decide(decision.state, e.Tick(), T0 + timedelta(days=7))
    assert [m.template for m in tick.emails] == [PromptKind.VISIT_PROPOSAL]


def test_an_outcome_under_way_skipping_the_visit_records_only_the_stages_it_went_through():
    imported = ImportedHistory(
        stage="outcome", adaptation_on=date(2022, 1, 3), outcome_on=date(2023, 6, 30)
    )
    decision = _started(imported)
    entered = [
        (h.stage, h.occurred_at.date()) for h in decision.history if h.kind == "stage_entered"
    ]
    assert entered == [(Stage.ADAPTATION, date(2022, 1, 3)), (Stage.OUTCOME, date(2023, 6, 30))]
    assert decision.state.open_prompts()[0].kind == PromptKind.OUTCOME_REPORT


def test_the_ordinary_start_is_unchanged():
    plain = start(example_eoi(), TimingPolicy(), T0)
    assert [h.kind for h in plain.history] == ["match_recorded", "prompt_opened", "prompt_opened"]
    assert not any("imported" in h.data for h in plain.history)


@pytest.mark.parametrize(
    "fields",
    [
        {"stage": "follow_up"},
        {"stage": "closed"},
        {"stage": "adaptation"},
        {"stage": "field_visit", "field_visit_on": "2022-01-01", "adaptation_on": "2022-02-01"},
        {"stage": "outcome", "adaptation_on": "2023-01-01", "outcome_on": "2022-01-01"},
    ],
)
def test_inconsistent_milestones_are_refused(fields):
    with pytest.raises(ValidationError):
        ImportedHistory.model_validate(fields)


def test_a_visit_report_answer_is_refused_as_no_such_prompt_was_opened():
    decision = _started(ImportedHistory(stage="field_visit", field_visit_on=date(2021, 12, 1)))
    with pytest.raises(Exception, match="no open prompt|no prompt"):
        decide(
            decision.state,
            e.Answered(
                prompt_id="visit_report-9",
                party=Party.ADOPTER,
                answer=a.VisitReport(held=True, proceed=True, learned="x"),
            ),
            T0,
        )
