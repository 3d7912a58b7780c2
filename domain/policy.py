"""The timing policy: every duration of the lifecycle, as one configurable value."""

from pydantic import BaseModel, ConfigDict, Field, model_validator

SECONDS_PER_DAY = 86_400
# The fields that are durations; counts (max_reschedules, missed_checkins_escalate) never scale.
DURATIONS = (
    "reminder_days",
    "escalation_day",
    "lapse_day",
    "visit_reminder_days",
    "checkin_interval_days",
    "checkin_reminder_days",
    "email_retry_hours",
)


class TimingPolicy(BaseModel):
    """Defaults follow the Network's practice; a running match keeps the policy it started with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Durations are in days; fractions are allowed (benchmarks run a month in seconds).
    reminder_days: tuple[float, ...] = Field(default=(7, 14), description="days after a prompt")
    escalation_day: float = Field(default=21, gt=0)
    lapse_day: float = Field(default=30, gt=0)
    visit_reminder_days: float = Field(default=7, ge=0, description="days before a visit starts")
    max_reschedules: int = Field(default=2, ge=0, description="visit cancellations that reschedule")
    checkin_interval_days: float = Field(default=30, gt=0, description="adaptation check-ins")
    checkin_reminder_days: float = Field(default=7, gt=0)
    missed_checkins_escalate: int = Field(default=2, gt=0)
    email_retry_hours: float = Field(
        default=24, gt=0, description="how long an email is retried before it is undeliverable"
    )

    @model_validator(mode="after")
    def _ordered(self) -> "TimingPolicy":
        marks = [*self.reminder_days, self.escalation_day, self.lapse_day]
        if any(d <= 0 for d in marks) or marks != sorted(set(marks)):
            raise ValueError(
                "reminders, escalation and lapse must be positive and strictly increasing"
            )
        if self.checkin_reminder_days >= self.checkin_interval_days:
            raise ValueError("the check-in reminder must fall before the next check-in")
        return self

    def scaled(self, factor: float) -> "TimingPolicy":
        """The same policy with every duration multiplied by ``factor`` (a training or demo
        stack runs a month in minutes: ``factor = day_seconds / 86400``); counts are kept."""
        if factor <= 0:
            raise ValueError("a time scale must be positive")
        if factor == 1:
            return self
        changes = {
            name: (
                tuple(d * factor for d in value)
                if isinstance(value := getattr(self, name), tuple)
                else value * factor
            )
            for name in DURATIONS
        }
        return TimingPolicy.model_validate(self.model_dump() | changes)
