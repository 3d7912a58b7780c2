"""Report arithmetic: milestones from history, medians, conversions, the network sentence."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.reports import (
    FunnelCounts,
    Milestones,
    NetworkFigures,
    advance,
    combine,
    conversion,
    funnel_row,
    median,
    network_sentence,
    plural,
    stalled_before,
    year_of,
)

T0 = datetime(2025, 12, 30, 9, tzinfo=UTC)


def entry(kind: str, days: float, stage: str = "follow_up", **data) -> dict:
    return {"kind": kind, "stage": stage, "occurred_at": T0 + timedelta(days=days), "data": data}


def test_milestones_come_from_the_history_kinds():
    outcome = {
        "people_reached": 1200,
        "time_saved_days": 2.5,
        "cost_saved_usd": 4.0,
        "visits_saved": 1.0,
        "result": "piloted",
    }
    entries = [
        entry("match_recorded", 0),
        entry("escalated", 20),  # not movement
        entry("stage_entered", 10, "field_visit"),
        entry("visit_recorded", 12, "field_visit", held=True),
        entry("stage_entered", 12, "adaptation"),
        entry("stage_entered", 40, "outcome"),
        entry("outcome_recorded", 45, "outcome", outcome=outcome),
        entry("closed", 45, "outcome", reason="completed"),
    ]
    m = advance(Milestones(), entries)
    assert m.follow_up_at == T0 and m.field_visit_at == T0 + timedelta(days=10)
    assert m.visited_at == T0 + timedelta(days=12)
    assert (m.days_follow_up, m.days_field_visit, m.days_adaptation, m.days_outcome) == (
        10,
        2,
        28,
        5,
    )
    assert m.people_reached == 1200 and m.time_saved_days == 2.5
    assert m.last_moved_at == T0 + timedelta(days=45)
    # recorded again, or in pieces: the same milestones
    assert advance(m, entries) == m
    assert advance(advance(Milestones(), entries[:3]), entries[3:]) == m


def test_a_stage_still_under_way_has_no_duration_and_a_skipped_one_none_either():
    m = advance(Milestones(), [entry("match_recorded", 0), entry("stage_entered", 3, "adaptation")])
    assert m.days_follow_up == 3 and m.days_field_visit is None and m.days_adaptation is None
    m = advance(m, [entry("escalated", 30)])
    assert m.last_moved_at == T0 + timedelta(days=3)


def test_a_visit_report_answer_counts_as_a_visit_held():
    held = entry("answered", 5, "field_visit", answer={"kind": "visit_report", "held": True})
    not_held = entry("answered", 4, "field_visit", answer={"kind": "visit_report", "held": False})
    assert advance(Milestones(), [not_held]).visited_at is None
    assert advance(Milestones(), [not_held, held]).visited_at == T0 + timedelta(days=5)


@pytest.mark.parametrize(
    ("histogram", "expected"),
    [
        ({}, None),
        ({3: 1}, 3),
        ({1: 1, 3: 1}, 2),
        ({1: 2, 9: 1}, 1),
        ({0: 1, 2: 2, 7: 1}, 2),
        ({5: 0}, None),
        ({1: 1, 2: 1, 10: 2}, 6),
    ],
)
def test_median_of_a_histogram(histogram, expected):
    assert median(histogram) == expected


def test_conversion_with_nobody_before_is_none_not_a_division_by_zero():
    assert conversion(0, 0) is None and conversion(3, 4) == 0.75


def test_funnel_row_counts_conversions_and_exits():
    counts = FunnelCounts(
        key="ws-1",
        matches=4,
        open=1,
        reached={"field_visit": 2, "adaptation": 0},
        days={"follow_up": {3: 1, 5: 1}},
        close_reasons={"declined": 2, "lapsed": 1},
    )
    row = funnel_row(counts)
    steps = {s.stage: s for s in row.steps}
    assert steps["follow_up"].reached == 4 and steps["follow_up"].conversion is None
    assert steps["field_visit"].conversion == 0.5 and steps["follow_up"].median_days == 4
    assert steps["adaptation"].conversion == 0 and steps["outcome"].conversion is None
    assert row.close_reasons == {"declined": 2, "lapsed": 1}
    total = combine([counts, counts.model_copy(update={"key": "ws-2"})])
    assert total.matches == 8 and total.days["follow_up"] == {3: 2, 5: 2}
    assert funnel_row(total).steps[1].reached == 4


def test_year_buckets_and_the_stalled_rule():
    assert year_of(T0) == 2025 and year_of(T0 + timedelta(days=2)) == 2026
    assert stalled_before(T0, 14) == T0 - timedelta(days=14)


def test_a_training_stacks_days_are_its_own():
    # a day of a minute: ten minutes in follow-up are ten days, as the partners' emails say
    minute = 60.0
    entries = [
        {"kind": "match_recorded", "stage": "follow_up", "occurred_at": T0, "data": {}},
        {
            "kind": "stage_entered",
            "stage": "field_visit",
            "occurred_at": T0 + timedelta(minutes=10),
            "data": {},
        },
    ]
    assert advance(Milestones(), entries, day_seconds=minute).days_follow_up == 10
    assert advance(Milestones(), entries).days_follow_up == pytest.approx(10 / 1440)
    assert stalled_before(T0, 14, minute) == T0 - timedelta(minutes=14)


def _figures(**changes) -> NetworkFigures:
    base = dict(
        workshops=5,
        opportunities=244,
        countries=43,
        institutions=180,
        field_visits=30,
        adaptations=12,
        outcomes=5,
        completed=5,
        people_reached=12000,
        median_time_saved_days=2.5,
        median_cost_saved_usd=4,
        median_visits_saved=1,
    )
    return NetworkFigures(**{**base, **changes})


def test_the_network_sentence_as_the_network_publishes_it():
    sentence = network_sentence(_figures())
    assert sentence.startswith(
        "244 partnership opportunities across 43 countries from 5 "
        "workshops, between 180 institutions: 30 field visits"
    )
    assert "reaching 12,000 people" in sentence and sentence.endswith("2.5 days, USD 4, 1 visit).")


def test_the_network_sentence_in_the_singular():
    one = _figures(
        workshops=1,
        opportunities=1,
        countries=1,
        institutions=1,
        field_visits=1,
        adaptations=1,
        outcomes=1,
        people_reached=1,
        median_time_saved_days=None,
    )
    sentence = network_sentence(one)
    assert sentence == (
        "1 partnership opportunity across 1 country from 1 workshop, between 1 institution: "
        "1 field visit, 1 adaptation under way or done, 1 outcome recorded, reaching 1 person."
    )
    assert plural(0, "outcome") == "0 outcomes"
    none = network_sentence(_figures(outcomes=0, people_reached=0))
    assert "reaching" not in none
