"""A training stack's calendar, end to end: one match through every stage, the visit report
included, with every answer given through the link in the partner's latest email, on a stack
whose day lasts a minute (MATCHMAKER_DAY_SECONDS=60), on Temporal's time-skipping server."""

import dataclasses
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import Message

import pytest
from icalendar import Calendar as ICalendar

from domain.enums import CloseReason, Stage
from domain.policy import SECONDS_PER_DAY, TimingPolicy
from infra.i18n import full_date
from services import steering
from services.backend import Backend
from services.calendar import stack_calendar
from services.intake import submit_eoi
from store.tables import MatchRow
from tests.conftest import resources_for_tests
from tests.support import (  # a test server of its own: this test skips a month
    http,
    settings_for_tests,
    sqlite_database_url,  # noqa: F401
    temporal_env_of_its_own,  # noqa: F401
    unique_eoi,
    wait_for,
)
from workers.http import create_app
from workers.worker import build_worker

DAY_SECONDS = 60.0
LINK = re.compile(r"http://matchmaker\.test(/respond/[A-Za-z0-9_.\-]+)")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Partners:
    """The partners' inboxes, and their answers through the pages the links open."""

    def __init__(self, mail, pages) -> None:
        self.mail, self.pages, self.used = mail, pages, set()

    def text(self, message: Message) -> str:
        return message.get_payload()[0].get_payload(decode=True).decode()

    async def link(self, address: str) -> str:
        """The answer link of the newest email to ``address`` not answered yet."""

        def fresh() -> str | None:
            for message in reversed(self.mail.to(address)):
                found = LINK.search(self.text(message))
                if found and found.group(1) not in self.used:
                    return found.group(1)
            return None

        path = await wait_for(fresh, timeout=30)
        self.used.add(path)
        return path

    async def answer(self, address: str, form: dict[str, str], *, shows: str = "") -> str:
        path = await self.link(address)
        page = await self.pages.get(path)
        assert page.status_code == 200, page.text
        assert shows in page.text
        key = CSRF.search(page.text).group(1)
        recorded = await self.pages.post(path, data={"csrf": key, **form})
        assert recorded.status_code == 200, recorded.text
        return recorded.text


@pytest.fixture
async def compressed(temporal_env, sessions, smtp) -> AsyncIterator[tuple]:
    """A worker, the partner pages and the services of a stack whose day lasts a minute."""
    handler, port = smtp
    resources = dataclasses.replace(resources_for_tests(sessions, port), day_seconds=DAY_SECONDS)
    task_queue = f"test-{uuid.uuid4().hex[:8]}"
    policy = TimingPolicy().scaled(DAY_SECONDS / SECONDS_PER_DAY)
    backend = Backend(
        client=temporal_env.client,
        sessions=sessions,
        task_queue=task_queue,
        policy=policy,
        day_seconds=DAY_SECONDS,
    )
    settings = settings_for_tests(
        task_queue=task_queue,
        allowed_hosts=["matchmaker.test"],
        public_base_url="http://matchmaker.test",
        day_seconds=DAY_SECONDS,
    )
    async with (
        build_worker(temporal_env.client, task_queue=task_queue, resources=resources),
        http(create_app(settings, backend=backend), base_url="http://matchmaker.test") as pages,
    ):
        yield backend, Partners(handler, pages)


async def test_one_match_through_every_stage_from_the_emails_alone(compressed, temporal_env):
    backend, partners = compressed
    eoi = unique_eoi()
    adopter, provider = eoi.adopter.contact.email, eoi.solution.contact.email
    await submit_eoi(backend, eoi=eoi)
    calendar = await stack_calendar(backend)
    assert calendar is not None and calendar.day_seconds == DAY_SECONDS

    async def today():
        return calendar.today(await temporal_env.get_current_time())

    await partners.answer(adopter, {"decision": "confirm", "needs": "rural access"})
    await partners.answer(provider, {"decision": "accept"})

    # the visit: from the calendar's tomorrow, for two calendar days
    start = await today() + timedelta(days=1)
    plan = {
        "plan.start": start.isoformat(),
        "plan.end": (start + timedelta(days=1)).isoformat(),
        "plan.format": "virtual",
        "plan.delegation_size": "3",
    }
    await partners.answer(adopter, plan)
    await partners.answer(provider, {"decision": "confirm"})
    for address in (adopter, provider):  # both delegations get the calendar invitation

        def invitations(to: str = address) -> list:
            return [
                part
                for message in partners.mail.to(to)
                for part in message.walk()
                if part.get_content_type() == "text/calendar"
            ]

        [part] = await wait_for(invitations, timeout=30)
        [event] = ICalendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
        assert event.decoded("DTSTART") == start

    # three calendar days are three minutes: the report is asked through its link
    await temporal_env.sleep(timedelta(seconds=4 * DAY_SECONDS))
    await partners.answer(
        adopter,
        {"held": "true", "learned": "how the centres are financed", "proceed": "true"},
        shows="How did the field visit go?",
    )
    pilot = await today() + timedelta(days=90)
    await partners.answer(
        adopter,
        {"customisations": "Kazakh and Russian forms", "target_pilot_date": pilot.isoformat()},
    )
    # the monthly check-in comes a calendar month later: thirty minutes
    await temporal_env.sleep(timedelta(seconds=31 * DAY_SECONDS))
    await partners.answer(adopter, {"status": "piloted", "note": "two districts"})
    await partners.answer(
        adopter,
        {
            "result": "piloted",
            "people_reached": "12000",
            "time_saved_days": "2",
            "cost_saved_usd": "8",
            "visits_saved": "1",
            "lessons": "start small",
            "consent_to_publish": "true",
        },
    )
    await partners.answer(provider, {"confirmed": "true", "notes": "well done"})

    state = await wait_for(lambda: _closed(backend, eoi.match_id), timeout=30)
    assert state.stage == Stage.CLOSED and state.close_reason == CloseReason.COMPLETED
    kinds = [h.kind for h in state.history]
    assert "visit_ended" in kinds and "visit_recorded" not in kinds  # no Secretariat stand-in
    assert not [h for h in state.history if h.actor.startswith("secretariat")]
    # the funnel counts the stack's days: a calendar month and more in adaptation
    async with backend.sessions() as session:
        row = await session.get(MatchRow, eoi.match_id)
    assert row.days_adaptation >= 31 and row.days_follow_up < 2
    # the deadline in the visit report's email is a date of the stack's calendar
    report = next(p for p in state.prompts if p.kind == "visit_report")
    [asked] = [m for m in partners.mail.to(adopter) if "field visit go" in str(m["Subject"])]
    deadline = full_date(calendar.today(report.lapse_at), "en")
    assert deadline in " ".join(partners.text(asked).split())


async def _closed(backend, match_id):
    state = await steering.live_state(backend, match_id=match_id)
    return state if state.closed else None
