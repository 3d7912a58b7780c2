"""The console in headless Debian Chromium as a programme officer uses it: sign in (a wrong
password first), the overview, filtering the matches (htmx swaps the table and the address
follows), a match, one action with its confirmation. axe-core finds nothing serious or
critical on any page; a screenshot of each is kept (MATCHMAKER_ARTIFACTS/console-browser)."""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import update

from domain.access import Role
from services import intake
from services.backend import Backend
from store.tables import MatchRow
from tests.support import unique_eoi, wait_for
from tests.web.browser import CHROMIUM, artifacts_dir, chromium, overflowing, violations
from tests.web.console.conftest import console_settings
from tests.web.console.support import PASSWORD, console_user
from workers.http import create_app
from workers.ports import free_port
from workers.serving import served

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)",
)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Console:
    base_url: str
    backend: Backend
    started: list[str] = field(default_factory=list)


@pytest.fixture
async def console(stack, database_url: str) -> AsyncIterator[Console]:
    """The app over real HTTP on loopback (plain http: the dev case, a cookie not Secure)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = console_settings(
        database_url,
        task_queue=stack.task_queue,
        public_base_url=base_url,
        allowed_hosts=["127.0.0.1"],
    )
    async with served(create_app(settings, backend=stack.backend), port) as url:
        site = Console(base_url=url, backend=stack.backend)
        try:
            yield site
        finally:
            for match_id in site.started:
                await stack.client.get_workflow_handle(match_id).terminate("test over")


async def _checked(
    page: Page, folder: Path, name: str, report: dict[str, list[str]], *, sideways: bool = False
) -> None:
    """axe-core on the page as it is now (and, on a phone, nothing sticking out), and a
    full-page screenshot."""
    report[name], others = await violations(page)
    if others:
        print(f"{name}: axe-core's moderate and minor findings (not refused): {others}")
    if sideways:
        wide = await overflowing(page)
        if wide:
            report[name].append(f"overflows at {page.viewport_size}: {wide[:5]}")
    await page.screenshot(path=folder / f"{name}.png", full_page=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_programme_officer_signs_in_filters_and_acts(
    console: Console, tmp_path: Path, record_property
):
    folder = artifacts_dir(tmp_path, "console-browser")
    print(f"screenshots: {folder}")
    record_property("screenshots", str(folder))
    email = await console_user(console.backend.sessions, Role.STAFF)
    eois = [unique_eoi() for _ in range(2)]
    for eoi in eois:
        await intake.submit_eoi(console.backend, eoi=eoi)
        console.started.append(eoi.match_id)

    async def recorded() -> bool:
        async with console.backend.sessions() as session:
            from store import queries

            return all([await queries.get_match(session, match_id=e.match_id) for e in eois])

    await wait_for(recorded, timeout=30)
    async with console.backend.sessions() as session:  # the second one further on, as listed
        await session.execute(
            update(MatchRow).where(MatchRow.id == eois[1].match_id).values(stage="field_visit")
        )
        await session.commit()
    report: dict[str, list[str]] = {}
    base = console.base_url

    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await page.goto(f"{base}/console/matches")
        await expect(page).to_have_url(re.compile(r"/console/sign-in\?next=/console/matches$"))
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Sign in to the Secretariat console"
        )
        await _checked(page, folder, "sign-in", report)

        await page.get_by_label("Email address").fill(email)
        await page.get_by_label("Password").fill("not my password")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("alert")).to_contain_text("the password is wrong")
        await _checked(page, folder, "sign-in-refused", report)

        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page).to_have_url(f"{base}/console/matches")  # back where they were going
        await expect(page.get_by_role("status")).to_contain_text("of 2")
        await _checked(page, folder, "matches", report)

        # filter: the table changes in place and the address can be bookmarked
        await page.get_by_label("Stage").select_option("follow_up")
        await page.get_by_role("button", name="Filter").click()
        await expect(page).to_have_url(re.compile(r"stage=follow_up"))
        await expect(page.get_by_role("status")).to_contain_text("1–1 of 1")
        await expect(page.locator("#results")).to_contain_text(eois[0].match_id)
        await expect(page.locator("#results")).not_to_contain_text(eois[1].match_id)
        await _checked(page, folder, "matches-filtered", report)
        bookmarked = page.url
        await page.goto(bookmarked)
        await expect(page.get_by_role("status")).to_contain_text("1–1 of 1")

        await page.get_by_role("link", name=eois[0].match_id).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(f"Match {eois[0].match_id}")
        await expect(page.locator("#awaited")).to_be_visible()
        await _checked(page, folder, "match", report)

        await page.get_by_role("link", name="Pause").click()
        await page.get_by_label("Reason").fill("elections in Kenya")
        await _checked(page, folder, "action-form", report)
        await page.get_by_role("button", name="Review before applying").click()
        await expect(page.get_by_role("heading", level=2)).to_have_text("Please confirm")
        await _checked(page, folder, "action-confirm", report)
        await page.get_by_role("button", name="Confirm: pause").click()
        await expect(page.get_by_role("status")).to_contain_text("Done: Pause.")
        await expect(page.get_by_role("region", name="Where it stands")).to_contain_text(
            "Paused since"
        )
        await _checked(page, folder, "match-after-action", report)

        await page.get_by_role("link", name="Overview").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
        await _checked(page, folder, "overview", report)

        await page.goto(f"{base}/console/matches/match-none-1")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
        await _checked(page, folder, "not-found", report)

        phone = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
        await phone.goto(f"{base}/console/sign-in")
        await _checked(phone, folder, "sign-in-phone", report, sideways=True)

        await page.get_by_role("button", name="Sign out").click()
        await expect(page).to_have_url(re.compile(r"/console/sign-in$"))
        await page.goto(f"{base}/console")
        await expect(page).to_have_url(re.compile(r"/console/sign-in\?next=/console$"))

    print("axe-core serious/critical violations per page:", report)
    assert all(not found for found in report.values()), report
    shots = sorted(p.name for p in folder.glob("*.png"))
    assert shots == sorted(f"{name}.png" for name in report), shots
