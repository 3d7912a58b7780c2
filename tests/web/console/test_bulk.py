"""Bulk actions in the console: tick matches or take all that pass a filter, the dry run with
the rules' sentences, the confirmation, then per match applied or refused with the totals; a
viewer sees no controls and is refused a POST; an empty filter needs "all N" said explicitly."""

import re
import uuid

from domain.access import Role
from domain.lifecycle import events as ev
from services import steering
from services.intake import submit_eoi
from tests.support import unique_eoi, wait_for
from tests.web.console.support import signed_in


async def _workshop(client, n: int = 3) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """``n`` matches of a fresh workshop, once the read model lists them all."""
    backend = client.app.state.backend
    workshop = f"ws-{uuid.uuid4().hex[:8]}"
    ids = []
    for _ in range(n):
        eoi = unique_eoi()
        eoi = eoi.model_copy(update={"workshop": eoi.workshop.model_copy(update={"id": workshop})})
        await submit_eoi(backend, eoi=eoi)
        ids.append(eoi.match_id)

    async def listed() -> bool:
        page = await client.get(f"/console/bulk?workshop_id={workshop}")
        return all(f'value="{i}"' in page.text for i in ids)

    await wait_for(listed, timeout=30)
    return workshop, ids


async def test_a_dry_run_then_the_confirmed_action_per_match(live_console):
    client = live_console
    csrf = await signed_in(client, client.app.state.backend.sessions, Role.STAFF)
    workshop, ids = await _workshop(client)
    await steering.act(
        client.app.state.backend, match_id=ids[0], action=ev.Pause(reason="earlier"), by="t@x.org"
    )
    page = await client.get(f"/console/bulk?workshop_id={workshop}&action=pause")
    assert page.status_code == 200 and "3 matches pass this filter" in page.text
    assert 'name="filter.workshop_id"' in page.text and 'name="reason"' in page.text
    form = {"csrf": csrf, "filter.workshop_id": workshop, "action": "pause", "scope": "all"}
    missing = await client.post("/console/bulk/preview", data=form)
    assert missing.status_code == 422 and "this field is needed" in missing.text
    preview = await client.post("/console/bulk/preview", data={**form, "reason": "elections"})
    assert preview.status_code == 200, preview.text
    text = preview.text
    assert "Nothing has changed yet" in text
    assert "would apply it to <strong>2</strong>, refuse <strong>1</strong>" in text
    assert "already paused" in text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', text).group(1)  # type: ignore[union-attr]
    confirmed = {"csrf": csrf, "action": "pause", "reason": "elections", "idempotency_key": key}
    done = await client.post("/console/bulk/apply", data={**confirmed, "match_ids": " ".join(ids)})
    assert done.status_code == 200, done.text
    assert "<dt>Applied</dt><dd>2</dd>" in done.text and "<dt>Refused</dt><dd>1</dd>" in done.text
    assert "already paused" in done.text
    for match_id in ids[1:]:
        detail = (await client.get(f"/console/matches/{match_id}")).text
        assert "Paused since" in detail
    # ticked matches, the one asked
    ticked = await client.post(
        "/console/bulk/preview",
        data={**form, "scope": "selected", "match_id": [ids[1]], "action": "resume"},
    )
    assert ticked.status_code == 200 and "on 1 match" in ticked.text
    nothing = await client.post(
        "/console/bulk/preview", data={**form, "scope": "selected", "reason": "elections"}
    )
    assert nothing.status_code == 422 and "Tick at least one match" in nothing.text


async def test_an_empty_filter_with_all_must_be_confirmed_with_the_count(live_console):
    client = live_console
    csrf = await signed_in(client, client.app.state.backend.sessions, Role.STAFF)
    await _workshop(client, 1)
    form = {"csrf": csrf, "action": "note", "text": "hello", "scope": "all"}
    asked = await client.post("/console/bulk/preview", data=form)
    assert asked.status_code == 422
    count = re.search(r'name="everything" value="(\d+)"', asked.text).group(1)  # type: ignore[union-attr]
    assert f"every match of the network, {int(count):,} of them" in asked.text
    wrong = await client.post("/console/bulk/preview", data={**form, "everything": "1000000"})
    assert wrong.status_code == 422 and 'name="everything"' in wrong.text
    said = await client.post("/console/bulk/preview", data={**form, "everything": count})
    assert said.status_code == 200 and "Nothing has changed yet" in said.text


async def test_a_viewer_sees_no_controls_and_a_post_is_403(browser, console_app):
    sessions = console_app.state.backend.sessions
    csrf = await signed_in(browser, sessions, Role.VIEWER)
    page = await browser.get("/console/bulk")
    assert page.status_code == 200 and "Bulk actions need the staff role" in page.text
    assert "/console/bulk/preview" not in page.text and 'name="match_id"' not in page.text
    for path in ("/console/bulk/preview", "/console/bulk/apply"):
        refused = await browser.post(path, data={"csrf": csrf, "action": "resume", "scope": "all"})
        assert refused.status_code == 403 and "needs the staff role" in refused.text


async def test_wrong_filters_actions_and_tokens_are_refused(browser, console_app):
    sessions = console_app.state.backend.sessions
    csrf = await signed_in(browser, sessions, Role.STAFF)
    wrong = await browser.get("/console/bulk?stage=asleep")
    assert wrong.status_code == 422 and "This filter cannot be used" in wrong.text
    unknown = await browser.get("/console/bulk?action=explode")
    assert unknown.status_code == 422 and "There is no action &#39;explode&#39;" in unknown.text
    no_token = await browser.post("/console/bulk/preview", data={"action": "resume"})
    assert no_token.status_code == 403 and "reload the page" in no_token.text
    bad_ids = await browser.post(
        "/console/bulk/apply",
        data={"csrf": csrf, "action": "resume", "match_ids": "not/a match"},
    )
    assert bad_ids.status_code == 422 and "not valid" in bad_ids.text
    empty = await browser.post("/console/bulk/apply", data={"csrf": csrf, "action": "resume"})
    assert empty.status_code == 422 and "1 to 1000 matches" in empty.text


async def test_too_many_or_no_match_is_said_before_any_dry_run(browser, console_app, monkeypatch):
    from services import bulk as bulk_service
    from tests.support import record_eoi

    sessions = console_app.state.backend.sessions
    csrf = await signed_in(browser, sessions, Role.STAFF)
    workshop = f"ws-{uuid.uuid4().hex[:8]}"
    for _ in range(3):
        eoi = unique_eoi()
        await record_eoi(
            sessions,
            eoi.model_copy(update={"workshop": eoi.workshop.model_copy(update={"id": workshop})}),
        )
    monkeypatch.setattr(bulk_service, "MAX_MATCHES", 2)
    form = {"csrf": csrf, "action": "resume", "scope": "all", "filter.workshop_id": workshop}
    too_many = await browser.post("/console/bulk/preview", data=form)
    assert too_many.status_code == 422
    assert "3 matches pass this filter; one bulk action reaches at most 2" in too_many.text
    assert "narrow the filter" in too_many.text
    none = await browser.post(
        "/console/bulk/preview", data={**form, "filter.workshop_id": "ws-nobody"}
    )
    assert none.status_code == 422 and "No match passes this filter." in none.text
