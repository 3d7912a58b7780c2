"""On a training stack the console shows dates of its calendar, as the partners' emails do."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from domain.calendar import Calendar
from services.backend import Backend
from services.calendar import known_calendar, stack_calendar
from web.console import layout

EPOCH = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _shown(calendar: Calendar | None, moment: datetime) -> str:
    template = layout.templates.env.from_string("{{ moment | when }} / {{ moment | day }}")
    return template.render(calendar=calendar, moment=moment)


def test_dates_are_the_calendars_on_a_training_stack_and_real_ones_otherwise():
    minute = Calendar(epoch=EPOCH, day_seconds=60)
    ten_days_on = EPOCH + timedelta(minutes=10)
    assert _shown(minute, ten_days_on) == "2026-12-17 09:00 / 2026-12-17"
    assert _shown(None, ten_days_on) == "2026-12-07 09:10 UTC / 2026-12-07"


async def test_the_console_reads_day_0_but_never_fixes_it(sessions):
    backend = Backend(client=None, sessions=sessions, task_queue="t", day_seconds=60)  # type: ignore[arg-type]
    request = SimpleNamespace(state=SimpleNamespace())
    await layout.stack_calendar(request, backend)
    assert request.state.calendar is None  # no match started yet: no day 0
    assert await known_calendar(backend) is None
    fixed = await stack_calendar(backend)  # the first match fixes it
    await layout.stack_calendar(request, backend)
    assert request.state.calendar == fixed and fixed.day_seconds == 60
    real = Backend(client=None, sessions=sessions, task_queue="t")  # type: ignore[arg-type]
    await layout.stack_calendar(request, real)
    assert request.state.calendar is None
