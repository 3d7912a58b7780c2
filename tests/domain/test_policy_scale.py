from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.lifecycle import start
from domain.policy import DURATIONS, TimingPolicy
from tests.support import unique_eoi

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_every_duration_scales_and_counts_do_not():
    policy = TimingPolicy(max_reschedules=3, missed_checkins_escalate=4)
    minute_days = policy.scaled(60 / 86_400)  # one day lasts a minute
    assert minute_days.reminder_days == pytest.approx((7 / 1440, 14 / 1440))
    for name in DURATIONS:
        if name != "reminder_days":
            assert getattr(minute_days, name) == pytest.approx(getattr(policy, name) / 1440)
    assert (minute_days.max_reschedules, minute_days.missed_checkins_escalate) == (3, 4)
    assert set(DURATIONS) | {"max_reschedules", "missed_checkins_escalate"} == set(
        TimingPolicy.model_fields
    )


def test_a_unit_scale_is_the_same_policy_and_a_scale_must_be_positive():
    policy = TimingPolicy()
    assert policy.scaled(1) is policy
    with pytest.raises(ValueError, match="positive"):
        policy.scaled(0)


def test_a_scaled_policy_puts_the_first_deadlines_minutes_away():
    policy = TimingPolicy().scaled(60 / 86_400)
    decision = start(unique_eoi(), policy, AT)
    prompt = decision.state.open_prompts()[0]
    assert prompt.reminders_due == [AT + timedelta(minutes=7), AT + timedelta(minutes=14)]
    assert prompt.escalate_at == AT + timedelta(minutes=21)
    assert prompt.lapse_at == AT + timedelta(minutes=30)


def test_scaling_keeps_the_policy_valid():
    with pytest.raises(ValidationError):
        TimingPolicy(reminder_days=(7, 30), lapse_day=30)
    scaled = TimingPolicy(reminder_days=(1, 2), escalation_day=3, lapse_day=4).scaled(1e-3)
    assert scaled.lapse_day == pytest.approx(4e-3)
