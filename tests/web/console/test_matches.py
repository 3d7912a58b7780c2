"""The matches table: every filter of the API from the URL, sorting, pages, htmx partials."""

from sqlalchemy import update

from domain.access import Role
from store.tables import MatchRow
from tests.support import record_eoi
from tests.web.console.support import signed_in
from web.console.matches import filter_from, query_of, sort_link


def test_the_url_and_the_filter_say_the_same():
    filters = filter_from({"stage": "follow_up", "overdue": "true", "text": " ", "limit": "25"})
    assert filters.stage == "follow_up" and filters.overdue is True and filters.text is None
    assert query_of(filters) == "stage=follow_up&overdue=true&limit=25"
    assert query_of(filters, offset=25) == "stage=follow_up&overdue=true&limit=25&offset=25"
    link, direction = sort_link(filters, "next_deadline")
    assert (link, direction) == ("?stage=follow_up&overdue=true&limit=25&sort=next_deadline", None)
    sorted_ = filter_from({"sort": "next_deadline"})
    assert sort_link(sorted_, "next_deadline") == ("?sort=-next_deadline", "ascending")


async def test_the_table_filters_sorts_and_pages(browser, console_app):
    sessions = console_app.state.backend.sessions
    eois = [await record_eoi(sessions) for _ in range(3)]
    async with sessions() as session:
        await session.execute(
            update(MatchRow).where(MatchRow.id == eois[0].match_id).values(stage="adaptation")
        )
        await session.commit()
    await signed_in(browser, sessions, Role.VIEWER)
    page = await browser.get("/console/matches", params={"stage": "adaptation"})
    assert page.status_code == 200
    assert eois[0].match_id in page.text and eois[1].match_id not in page.text
    assert "Matches 1–1 of 1" in page.text
    assert 'hx-push-url="true"' in page.text
    first = await browser.get("/console/matches", params={"limit": "2", "sort": "created_at"})
    assert "Matches 1–2 of 3" in first.text and 'rel="next"' in first.text
    assert 'aria-sort="ascending"' in first.text
    second = await browser.get(
        "/console/matches",
        params={"limit": "2", "sort": "created_at", "offset": "2"},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )
    assert "Matches 3–3 of 3" in second.text and "<html" not in second.text
    assert eois[2].match_id in second.text


async def test_a_wrong_filter_is_a_page_that_says_what_is_wrong(browser, console_app):
    await signed_in(browser, console_app.state.backend.sessions, Role.VIEWER)
    page = await browser.get("/console/matches", params={"stage": "nowhere", "colour": "red"})
    assert page.status_code == 422
    assert "stage: Input should be" in page.text and "colour: not a filter" in page.text
    htmx = {"HX-Request": "true", "HX-Target": "results"}
    swapped = await browser.get(
        "/console/matches", params={"adopter_country": "Kenya"}, headers=htmx
    )
    assert swapped.status_code == 200  # htmx swaps only a 2xx: the notice takes the table's place
    assert 'role="alert"' in swapped.text and "adopter_country" in swapped.text
    assert "<html" not in swapped.text


async def test_staff_take_the_filter_to_a_bulk_action_and_a_viewer_is_not_offered_one(
    browser, console_app
):
    sessions = console_app.state.backend.sessions
    await record_eoi(sessions)
    await signed_in(browser, sessions, Role.VIEWER)
    seen = await browser.get("/console/matches", params={"stage": "follow_up"})
    assert seen.status_code == 200 and "/console/bulk?" not in seen.text
    browser.cookies.clear()
    await signed_in(browser, sessions, Role.STAFF)
    page = await browser.get("/console/matches", params={"stage": "follow_up", "offset": "0"})
    assert 'href="/console/bulk?stage=follow_up"' in page.text
    bulk = await browser.get("/console/bulk", params={"stage": "follow_up"})
    assert bulk.status_code == 200
