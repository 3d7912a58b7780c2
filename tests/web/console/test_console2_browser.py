"""Bulk actions, a workshop import and a case-study edit in headless Debian Chromium, as a
programme officer does them: tick two matches, the dry run, confirm, the totals; upload a file
with mistakes, then a good one, confirm, watch it start, the summary; edit a case study, a
stale edit kept with the conflict explained, review and publish. axe-core finds nothing
serious or critical on any page; a screenshot of each is kept
(MATCHMAKER_ARTIFACTS/console2-browser)."""

import re
import uuid
from pathlib import Path

import pytest
from playwright.async_api import expect

from domain.access import Role
from services import case_studies, intake
from services.case_studies import CaseStudyEdit
from tests.services.test_case_studies import drafted
from tests.support import unique_eoi, wait_for
from tests.web.browser import CHROMIUM, artifacts_dir, chromium
from tests.web.console.support import PASSWORD, console_user
from tests.web.console.test_console_browser import (
    DESKTOP,
    Console,
    _checked,
    console,  # noqa: F401 - the fixture
)
from tests.web.console.test_import import with_errors, workshop

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)",
)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_bulk_import_and_case_study_in_a_browser(
    console: Console,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    record_property,
):
    folder = artifacts_dir(tmp_path, "console2-browser")
    print(f"screenshots: {folder}")
    record_property("screenshots", str(folder))
    sessions = console.backend.sessions
    email = await console_user(sessions, Role.STAFF)
    workshop_id = f"ws-{uuid.uuid4().hex[:8]}"
    eois = []
    for _ in range(2):
        eoi = unique_eoi()
        eoi = eoi.model_copy(
            update={"workshop": eoi.workshop.model_copy(update={"id": workshop_id})}
        )
        await intake.submit_eoi(console.backend, eoi=eoi)
        console.started.append(eoi.match_id)
        eois.append(eoi)

    async def recorded() -> bool:
        async with sessions() as session:
            from store import queries

            return all([await queries.get_match(session, match_id=e.match_id) for e in eois])

    await wait_for(recorded, timeout=30)
    case_id = await drafted(sessions)
    report: dict[str, list[str]] = {}
    base = console.base_url

    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await page.goto(f"{base}/console/bulk?workshop_id={workshop_id}&action=note")
        await page.get_by_label("Email address").fill(email)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()

        # bulk: tick both, the dry run, confirm, the totals
        await expect(page.get_by_role("heading", level=1)).to_have_text("Bulk actions")
        await expect(page.get_by_role("status")).to_contain_text("2 matches pass this filter")
        for eoi in eois:
            await page.get_by_label(f"Tick match {eoi.match_id}").check()
        await page.get_by_label("Note", exact=True).fill("Call both partners before the summit.")
        await _checked(page, folder, "bulk", report)
        await page.get_by_role("button", name="See what the rules would say (dry run)").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Dry run: add a note on 2 matches"
        )
        await expect(page.get_by_role("status")).to_contain_text("apply it to 2, refuse 0")
        await _checked(page, folder, "bulk-dry-run", report)
        await page.get_by_role("button", name="Confirm: add a note on these 2 matches").click()
        await expect(page.locator("dl.cards")).to_contain_text("Applied2")
        await _checked(page, folder, "bulk-done", report)

        # import: a file with mistakes first, then a good one
        await page.get_by_role("link", name="Import").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Import a workshop")
        await _checked(page, folder, "import", report)
        upload = page.get_by_label(re.compile("The workshop file"))
        await upload.set_input_files(
            files=[{"name": "bangkok.csv", "mimeType": "text/csv", "buffer": with_errors()}]
        )
        await page.get_by_role("button", name="Check the file").click()
        await expect(page.get_by_role("alert")).to_contain_text("2 errors in 2 rows")
        await _checked(page, folder, "import-errors", report)
        await page.get_by_role("link", name="Upload another file").click()
        data = workshop()
        await page.get_by_label(re.compile("The workshop file")).set_input_files(
            files=[{"name": "bangkok.csv", "mimeType": "text/csv", "buffer": data}]
        )
        await page.get_by_role("button", name="Check the file").click()
        await expect(page.get_by_role("status")).to_contain_text("All 4 rows are valid")
        await _checked(page, folder, "import-check", report)
        prefix = data.decode().splitlines()[1].split("-")[0]
        console.started += [f"match-{prefix}-00{i}" for i in range(1, 5)]
        await page.get_by_role("button", name="Confirm: start 4 matches").click()
        await expect(page.locator("#import-summary")).to_contain_text("Started4", timeout=60_000)
        await _checked(page, folder, "import-summary", report)

        # a case study: edit, a stale edit kept, review, publish
        await page.get_by_role("link", name="Case studies").click()
        await _checked(page, folder, "case-studies", report)
        await page.get_by_role("link", name="Generated title").first.click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Generated title")
        editor = page.get_by_label(re.compile("The case study in Markdown"))
        await editor.fill("# A one-stop shop in Thailand\n\n## Context\nWhat we saw.\n")
        await _checked(page, folder, "case-study", report)
        await page.get_by_role("button", name="Save the edit").click()
        await expect(page.get_by_role("status")).to_contain_text("Your edit is saved.")
        # someone else saves meanwhile: this page's edit is now stale
        await case_studies.edit(
            sessions,
            match_id=case_id,
            change=CaseStudyEdit(markdown="# A colleague's title\n", revision=2),
            actor="colleague@ssn4psi.org",
        )
        await editor.fill("# My careful rewrite\n\n## Lessons\nKeep me.\n")
        await page.get_by_role("button", name="Save the edit").click()
        await expect(page.get_by_role("alert")).to_contain_text("changed while you edited it")
        await expect(editor).to_have_value(re.compile("Keep me."))
        await _checked(page, folder, "case-study-conflict", report)
        await page.get_by_role("button", name="Save the edit").click()  # over revision 3
        await expect(page.get_by_role("status")).to_contain_text("Your edit is saved.")
        await page.get_by_role("button", name="Mark reviewed").click()
        await page.get_by_role("button", name="Publish").click()
        await expect(page.get_by_role("status")).to_contain_text("Published.")
        await _checked(page, folder, "case-study-published", report)

    print("axe-core serious/critical violations per page:", report)
    assert all(not found for found in report.values()), report
    shots = sorted(p.name for p in folder.glob("*.png"))
    assert shots == sorted(f"{name}.png" for name in report), shots
