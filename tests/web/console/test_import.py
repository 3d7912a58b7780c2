"""Importing a workshop in the console: every row checked before anything starts (errors by
line and field), the confirmation, the progress, the summary; a bad upload, another session's
upload, a viewer and a form without its CSRF token are refused; an import whose replica
stopped says so."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from domain.access import Role
from services import uploads
from store.tables import ConsoleUploadRow
from tests.support import wait_for
from tests.web.console.support import signed_in

EXAMPLES = Path(__file__).parents[3] / "examples"
UPLOAD_ID = re.compile(r'action="/console/import/([^/"]+)/start"')


def workshop() -> bytes:
    prefix = f"C{uuid.uuid4().hex[:6]}"
    return (EXAMPLES / "workshop-2024.csv").read_text().replace("BK24-", f"{prefix}-").encode()


def with_errors() -> bytes:
    lines = workshop().decode().splitlines()
    lines[2] = lines[2].replace("a.diop@justice.gouv.sn", "not-an-address")
    lines[3] = lines[3].replace(",CO,", ",XX,")
    return ("\n".join(lines) + "\n").encode()


async def _check(client, csrf: str, data: bytes, name: str = "bangkok.csv"):  # type: ignore[no-untyped-def]
    return await client.post(
        "/console/import/check", data={"csrf": csrf}, files={"file": (name, data, "text/csv")}
    )


async def test_a_workshop_is_checked_confirmed_started_and_summed_up(live_console):
    client = live_console
    csrf = await signed_in(client, client.app.state.backend.sessions, Role.STAFF)
    assert "Check the file" in (await client.get("/console/import")).text
    data = workshop()
    checked = await _check(client, csrf, data)
    assert checked.status_code == 200, checked.text
    assert "All 4 rows are valid. Nothing has started yet." in checked.text
    assert "SHA-256" in checked.text and "Confirm: start 4 matches" in checked.text
    upload_id = UPLOAD_ID.search(checked.text).group(1)  # type: ignore[union-attr]
    started = await client.post(f"/console/import/{upload_id}/start", data={"csrf": csrf})
    assert started.status_code == 303
    assert started.headers["location"] == f"/console/import/{upload_id}"
    first = await client.get(started.headers["location"])
    assert first.status_code == 200 and "<progress" in first.text

    async def summed_up() -> str | None:
        page = await client.get(
            f"/console/import/{upload_id}", headers={"HX-Request": "true", "HX-Target": "progress"}
        )
        return page.text if "Summary" in page.text else None

    summary = await wait_for(summed_up, timeout=60)
    assert "<!doctype" not in summary  # the part htmx swaps, not the page
    assert "hx-trigger" not in summary  # finished: polling stops
    assert re.search(r"<dt>Started</dt><dd>4</dd>", summary)
    again = await client.post(
        f"/console/import/{upload_id}/start", data={"csrf": csrf}
    )  # the same confirmation twice starts nothing more
    assert again.status_code == 303
    # the same file again: every row already present
    checked = await _check(client, csrf, data)
    upload_id = UPLOAD_ID.search(checked.text).group(1)  # type: ignore[union-attr]
    await client.post(f"/console/import/{upload_id}/start", data={"csrf": csrf})
    summary = await wait_for(summed_up, timeout=60)
    assert re.search(r"<dt>Already present</dt><dd>4</dd>", summary)


async def test_every_error_is_listed_by_line_and_field_and_nothing_starts(browser, console_app):
    csrf = await signed_in(browser, console_app.state.backend.sessions, Role.STAFF)
    checked = await _check(browser, csrf, with_errors())
    assert checked.status_code == 422
    text = checked.text
    assert "2 errors in 2 rows" in text and "nothing has started" in text
    assert "<td>3</td><td>adopter_contact_email</td>" in text
    assert "<td>4</td><td>provider_country</td>" in text
    assert "Start the 2 valid rows and skip the invalid ones" in text
    upload_id = UPLOAD_ID.search(text).group(1)  # type: ignore[union-attr]
    refused = await browser.post(f"/console/import/{upload_id}/start", data={"csrf": csrf})
    assert refused.status_code == 422 and "nothing would start" in refused.text


async def test_a_bad_upload_is_refused_with_what_would_do(browser, console_app):
    csrf = await signed_in(browser, console_app.state.backend.sessions, Role.STAFF)
    pdf = await browser.post(
        "/console/import/check",
        data={"csrf": csrf},
        files={"file": ("minutes.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert pdf.status_code == 415 and "neither CSV nor JSON" in pdf.text
    empty = await _check(browser, csrf, b"  \n")
    assert empty.status_code == 422 and "is empty" in empty.text
    none = await browser.post("/console/import/check", data={"csrf": csrf})
    assert none.status_code == 422 and "Choose the workshop file" in none.text
    console_app.state.settings = console_app.state.settings.model_copy(
        update={"api_max_body_bytes": 1000}
    )
    big = await _check(browser, csrf, workshop())
    assert big.status_code == 413 and "over 1,000 bytes" in big.text
    json = await browser.post(
        "/console/import/check",
        data={"csrf": csrf},
        files={"file": ("ws.json", b'[{"id": "J-1"}]', "application/octet-stream")},
    )
    assert json.status_code == 422 and '<th scope="col">Item</th>' in json.text
    assert "<td>0</td><td>workshop</td>" in json.text  # the item and the field's path
    garbage = await _check(browser, csrf, b"\xff\xfe not utf-8")
    assert garbage.status_code == 422 and "line" in garbage.text.lower()


async def test_another_session_a_viewer_and_a_missing_token_are_refused(browser, console_app):
    sessions = console_app.state.backend.sessions
    csrf = await signed_in(browser, sessions, Role.STAFF)
    upload_id = UPLOAD_ID.search((await _check(browser, csrf, workshop())).text).group(1)  # type: ignore[union-attr]
    no_token = await browser.post(
        "/console/import/check", files={"file": ("a.csv", workshop(), "text/csv")}
    )
    assert no_token.status_code == 403 and "reload the page" in no_token.text
    browser.cookies.clear()
    other = await signed_in(browser, sessions, Role.STAFF)
    stolen = await browser.post(f"/console/import/{upload_id}/start", data={"csrf": other})
    assert stolen.status_code == 404 and "upload the file again" in stolen.text
    assert (await browser.get(f"/console/import/{upload_id}")).status_code == 404
    browser.cookies.clear()
    viewer = await signed_in(browser, sessions, Role.VIEWER)
    page = await browser.get("/console/import")
    assert page.status_code == 200 and 'type="file"' not in page.text
    assert "needs the staff role" in page.text
    refused = await _check(browser, viewer, workshop())
    assert refused.status_code == 403


async def test_an_import_whose_replica_stopped_says_so_instead_of_spinning(browser, console_app):
    sessions = console_app.state.backend.sessions
    csrf = await signed_in(browser, sessions, Role.STAFF)
    upload_id = UPLOAD_ID.search((await _check(browser, csrf, workshop())).text).group(1)  # type: ignore[union-attr]
    # as if a replica took the confirmation, wrote its progress once, then died
    owner = uploads.owner_of(csrf)
    assert await uploads.claim(sessions, upload_id=upload_id, owner=owner)
    running = await browser.get(f"/console/import/{upload_id}")
    assert "Starting…" in running.text and "hx-trigger" in running.text
    async with sessions() as session:
        quiet_since = datetime.now(UTC) - uploads.STALLED_AFTER - timedelta(seconds=5)
        await session.execute(
            update(ConsoleUploadRow)
            .where(ConsoleUploadRow.id == upload_id)
            .values(done=1, updated_at=quiet_since)
        )
        await session.commit()
    stalled = await browser.get(
        f"/console/import/{upload_id}", headers={"HX-Request": "true", "HX-Target": "progress"}
    )
    assert "This import stopped" in stalled.text and "1 of 4 rows" in stalled.text
    assert quiet_since.strftime("%H:%M:%S UTC") in stalled.text
    assert "hx-trigger" not in stalled.text  # polling stops
