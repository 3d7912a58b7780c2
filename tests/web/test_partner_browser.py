"""One prompt answered in headless Chromium as a person would: the link from the email, a
mistake first, then the answer; axe-core finds nothing serious on any page, nothing sticks out
sideways on a phone, and the screenshots are kept."""

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from activities.notifications import MailIdentity
from activities.smtp import SmtpMailer
from domain.enums import Party, PromptStatus
from infra.settings import Settings
from services import intake, steering
from services.backend import Backend
from tests.support import RecordingHandler, unique_eoi, wait_for
from tests.web.browser import (
    CHROMIUM,
    artifacts_dir,
    chromium,
    overflowing,
    violations,
)
from tests.web.test_partner_pages import _text
from workers.http import create_app
from workers.ports import free_port
from workers.serving import served
from workers.worker import Resources, build_worker, partner_links

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)",
)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Site:
    """The partner pages over real HTTP, with the worker whose emails link to them."""

    base_url: str
    backend: Backend
    mail: RecordingHandler
    started: list[str] = field(default_factory=list)


@pytest.fixture
async def site(temporal_env, sessions, smtp, database_url: str) -> AsyncIterator[Site]:
    """A worker and the app on one free loopback port: the emails' links lead to it as they are."""
    handler, smtp_port = smtp
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=database_url,
        task_queue=f"browser-{uuid.uuid4().hex[:8]}",
        public_base_url=base_url,
        allowed_hosts=["127.0.0.1"],
    )
    resources = Resources(
        engine=None,  # type: ignore[arg-type] - the sessions fixture owns the engine
        sessions=sessions,
        mailer=SmtpMailer(host="127.0.0.1", port=smtp_port, timeout=5),
        identity=MailIdentity(
            sender="matchmaker@ssn4psi.org",
            sender_name="SSN4PSI Matchmaker",
            secretariat_email="secretariat@ssn4psi.org",
            public_base_url=base_url,
        ),
        links=partner_links(settings),
    )
    backend = Backend(client=temporal_env.client, sessions=sessions, task_queue=settings.task_queue)
    async with (
        build_worker(temporal_env.client, task_queue=settings.task_queue, resources=resources),
        served(create_app(settings, backend=backend), port) as url,
    ):
        site = Site(base_url=url, backend=backend, mail=handler)
        try:
            yield site
        finally:
            # a match left running on the shared time-skipping server, with no worker for
            # its timers, holds up the clock of later tests that skip time
            for match_id in site.started:
                await temporal_env.client.get_workflow_handle(match_id).terminate("test over")


async def _checked(page: Page, folder: Path, name: str, report: dict[str, list[str]]) -> None:
    """axe-core on the page as it is now, the sideways check, and a full-page screenshot."""
    report[name], others = await violations(page)
    if others:
        print(f"{name}: axe-core's moderate and minor findings (not refused): {others}")
    wide = await overflowing(page)
    if wide:
        report[name].append(f"overflows at {page.viewport_size}: {wide[:5]}")
    await page.screenshot(path=folder / f"{name}.png", full_page=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_partner_answers_in_a_real_browser(site: Site, tmp_path: Path, record_property):
    folder = artifacts_dir(tmp_path, "partner-browser")
    print(f"screenshots: {folder}")
    record_property("screenshots", str(folder))
    eoi = unique_eoi()
    await intake.submit_eoi(site.backend, eoi=eoi)
    site.started.append(eoi.match_id)
    [message] = await wait_for(lambda: site.mail.to(eoi.adopter.contact.email), timeout=30)
    link = re.search(rf"{re.escape(site.base_url)}/respond/[A-Za-z0-9_.\-]+", _text(message))
    assert link, _text(message)
    report: dict[str, list[str]] = {}

    async with chromium() as browser:
        wide = await browser.new_page(viewport=DESKTOP)
        await wide.goto(link.group(0))
        await expect(wide.get_by_role("heading", level=1)).to_have_text(
            "Do you still want to adopt this solution?"
        )
        await _checked(wide, folder, "form-desktop", report)

        phone = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
        await phone.goto(link.group(0))  # opening the link changes nothing
        await _checked(phone, folder, "form-phone", report)

        # a mistake first: "yes" without saying what is needed
        await phone.get_by_label("Yes, we want to adopt it").click()
        await phone.get_by_role("button", name="Send my answer").click()
        await expect(phone.locator("#needs-error")).to_have_text(
            re.compile("describe your needs when you confirm", re.IGNORECASE)
        )
        needs = phone.get_by_label("Your needs")
        await expect(needs).to_be_focused()  # the first wrong field, ready for typing
        await expect(needs).to_have_attribute("aria-invalid", "true")
        await expect(needs).to_have_attribute("aria-describedby", re.compile(r"\bneeds-error\b"))
        await expect(phone.get_by_role("alert")).to_contain_text("correct the fields")
        await expect(phone.get_by_label("Yes, we want to adopt it")).to_be_checked()  # kept
        await _checked(phone, folder, "error-phone", report)

        await needs.press_sequentially("Rural clinics without a pharmacy")
        await phone.get_by_label("A remote exchange").click()
        await phone.get_by_role("button", name="Send my answer").click()
        await expect(phone.get_by_role("heading", level=1)).to_have_text(
            "Thank you: your answer is recorded"
        )
        await expect(phone.get_by_role("status")).to_contain_text("stage")
        await _checked(phone, folder, "recorded-phone", report)

        await wide.reload()  # the link again: what was recorded, and nothing more
        await expect(wide.get_by_role("heading", level=1)).to_have_text("This question is closed")
        await _checked(wide, folder, "answered-desktop", report)

    print("axe-core serious/critical violations and overflows per page:", report)
    assert all(not found for found in report.values()), report
    shots = sorted(p.name for p in folder.glob("*.png"))
    assert shots == sorted(f"{name}.png" for name in report), shots

    state = await steering.live_state(site.backend, match_id=eoi.match_id)
    [prompt] = [p for p in state.prompts if p.party == Party.ADOPTER]
    assert prompt.status == PromptStatus.ANSWERED
    assert prompt.answer["needs"] == "Rural clinics without a pharmacy"
    assert prompt.answer["exchange"] == "remote"
    assert [h.kind for h in state.history].count("answered") == 1
    # the answer moved the match on: the provider is asked next
    await wait_for(lambda: site.mail.to(eoi.solution.contact.email), timeout=30)
