"""Case studies in the console: the list by status, an edit, a stale edit that keeps the text
typed, review, publish and unpublish, the volume to download; a viewer reads and is refused."""

from domain.access import Role
from tests.services.test_case_studies import DRAFT, drafted
from tests.web.console.support import signed_in


async def test_edit_review_publish_unpublish_and_the_volume(browser, console_app):
    sessions = console_app.state.backend.sessions
    match_id = await drafted(sessions)
    csrf = await signed_in(browser, sessions, Role.STAFF)
    listing = await browser.get("/console/case-studies?status=draft")
    assert listing.status_code == 200 and f"/console/case-studies/{match_id}" in listing.text
    assert match_id not in (await browser.get("/console/case-studies?status=published")).text
    url = f"/console/case-studies/{match_id}"
    page = await browser.get(url)
    assert page.status_code == 200 and 'name="revision" value="1"' in page.text
    assert DRAFT.splitlines()[0] in page.text

    edited = await browser.post(
        f"{url}/edit", data={"csrf": csrf, "revision": "1", "markdown": "# Mine\n\n## Context\nx"}
    )
    assert edited.status_code == 303 and edited.headers["location"] == f"{url}?done=edit"
    page = (await browser.get(edited.headers["location"])).text
    assert "Your edit is saved." in page and 'name="revision" value="2"' in page

    for step, status in (("review", "reviewed"), ("publish", "published")):
        done = await browser.post(
            f"{url}/{step}", data={"csrf": csrf, "revision": "2" if step == "review" else "3"}
        )
        assert done.status_code == 303, done.text
        assert f"<dd>{status}</dd>" in (await browser.get(url)).text
    page = (await browser.get(url)).text
    assert "A published case study is frozen" in page and f"{url}/unpublish" in page

    md = await browser.get("/console/case-studies/volume.md")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "attachment" in md.headers["content-disposition"] and "Mine" in md.text
    html = await browser.get("/console/case-studies/volume.html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in html.headers["content-security-policy"] and "Mine" in html.text
    assert (await browser.get("/console/case-studies/volume.pdf")).status_code == 404

    twice = await browser.post(f"{url}/publish", data={"csrf": csrf, "revision": "4"})
    assert twice.status_code == 409, twice.text
    assert "Only a reviewed case study can be published; this one is published" in twice.text
    back = await browser.post(f"{url}/unpublish", data={"csrf": csrf, "revision": "4"})
    assert back.status_code == 303
    assert "<dd>reviewed</dd>" in (await browser.get(url)).text


async def test_a_stale_edit_keeps_the_text_typed_and_says_what_changed(browser, console_app):
    sessions = console_app.state.backend.sessions
    match_id = await drafted(sessions)
    csrf = await signed_in(browser, sessions, Role.STAFF)
    url = f"/console/case-studies/{match_id}"
    first = await browser.post(
        f"{url}/edit", data={"csrf": csrf, "revision": "1", "markdown": "# Theirs\n"}
    )
    assert first.status_code == 303
    mine = "# Mine, typed for an hour\n\n## Lessons\nkeep me"
    stale = await browser.post(
        f"{url}/edit", data={"csrf": csrf, "revision": "1", "markdown": mine}
    )
    assert stale.status_code == 409
    assert "changed while you edited it" in stale.text and "since revision 1" in stale.text
    assert "keep me" in stale.text  # the text typed, in the editor
    assert "# Theirs" in stale.text  # the current text beside it
    assert 'name="revision" value="2"' in stale.text  # sending again means: over revision 2
    page = (await browser.get(url)).text
    assert "# Theirs" in page and "keep me" not in page  # nothing lost, nothing overwritten
    empty = await browser.post(f"{url}/edit", data={"csrf": csrf, "revision": "2", "markdown": ""})
    assert empty.status_code == 422 and "1 to 100,000 characters" in empty.text
    stale_step = await browser.post(f"{url}/review", data={"csrf": csrf, "revision": "1"})
    assert stale_step.status_code == 409 and "changed since revision 1" in stale_step.text


async def test_a_viewer_reads_without_controls_and_is_refused_a_change(browser, console_app):
    sessions = console_app.state.backend.sessions
    match_id = await drafted(sessions)
    csrf = await signed_in(browser, sessions, Role.VIEWER)
    url = f"/console/case-studies/{match_id}"
    page = await browser.get(url)
    assert page.status_code == 200 and "<textarea" not in page.text and "/review" not in page.text
    for path in ("edit", "review"):
        refused = await browser.post(
            f"{url}/{path}", data={"csrf": csrf, "revision": "1", "markdown": "x"}
        )
        assert refused.status_code == 403 and "needs the staff role" in refused.text
    assert (await browser.get("/console/case-studies/nobody")).status_code == 404
    assert (await browser.get("/console/case-studies?status=lost")).status_code == 422


async def test_a_change_without_the_csrf_token_is_refused(browser, console_app):
    sessions = console_app.state.backend.sessions
    match_id = await drafted(sessions)
    await signed_in(browser, sessions, Role.STAFF)
    url = f"/console/case-studies/{match_id}"
    refused = await browser.post(f"{url}/edit", data={"revision": "1", "markdown": "# x\n"})
    assert refused.status_code == 403 and "reload the page" in refused.text
    assert 'name="revision" value="1"' in (await browser.get(url)).text
