"""A stack's calendar: the dates people see and enter, on real days or on a compressed clock.

A training or demo stack runs a month in minutes (``day_seconds`` real seconds a day). Its
durations are scaled by the timing policy; its dates live here: day 0 is the instant the stack
was first started, and every calendar day after it lasts ``day_seconds``. A visit "from
tomorrow" then starts ``day_seconds`` after today began, its report is asked the calendar day
after it ends, and "after 21 days" counts calendar days. On real days the calendar is the
clock itself (:data:`REAL_DAYS`).
"""

from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.policy import SECONDS_PER_DAY


class Calendar(BaseModel):
    """Maps real instants to calendar time and calendar days back to real instants."""

    model_config = ConfigDict(frozen=True)

    epoch: datetime = Field(description="the real instant at which calendar time equals it")
    day_seconds: float = Field(default=SECONDS_PER_DAY, gt=0)

    @property
    def compressed(self) -> bool:
        return self.day_seconds != SECONDS_PER_DAY

    @property
    def _speed(self) -> float:
        """Calendar seconds in one real second."""
        return SECONDS_PER_DAY / self.day_seconds

    def time_at(self, instant: datetime) -> datetime:
        """The calendar's date and time at a real instant."""
        if not self.compressed:
            return instant
        return self.epoch + (instant - self.epoch) * self._speed

    def today(self, instant: datetime) -> date:
        """The calendar's date at a real instant."""
        return self.time_at(instant).date()

    def begins(self, day: date) -> datetime:
        """The real instant at which a calendar day begins (00:00 UTC on real days)."""
        midnight = datetime.combine(day, time(0, 0), tzinfo=UTC)
        if not self.compressed:
            return midnight
        return self.epoch + (midnight - self.epoch) / self._speed

    def days_between(self, since: datetime, until: datetime) -> int:
        """Whole calendar days from one real instant to a later one."""
        return (self.time_at(until) - self.time_at(since)).days

    def days(self, count: float) -> timedelta:
        """The real duration of ``count`` calendar days."""
        return timedelta(seconds=count * self.day_seconds)


REAL_DAYS = Calendar(epoch=datetime(2000, 1, 1, tzinfo=UTC))
