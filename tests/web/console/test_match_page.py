"""One match in the console: where it stands, what is awaited, the timeline and emails, the
Temporal UI link; each action a form, a confirmation, then the rules' answer."""

from domain.access import Role
from services.intake import submit_eoi
from tests.support import unique_eoi, wait_for
from tests.web.console.support import csrf_of, signed_in
from web.console.actions import FORMS, action_of, values_of


def test_every_action_of_the_rules_has_a_form():
    from typing import get_args

    from domain.lifecycle import events as ev

    kinds = {m.model_fields["kind"].default for m in get_args(get_args(ev.Action)[0])}
    assert {form.kind for form in FORMS.values()} == kinds


def test_a_form_becomes_the_action_or_says_which_field_is_wrong():
    form = FORMS["extend-deadline"]
    action, errors = action_of(form, values_of(form, {"days": "14", "reason": "minister away"}))
    assert errors == {} and action.days == 14 and action.prompt_id is None
    _, errors = action_of(form, values_of(form, {"days": "0", "reason": ""}))
    assert set(errors) == {"days", "reason"}
    visit = FORMS["schedule-visit"]
    _, errors = action_of(
        visit,
        {"plan.start": "2027-03-06", "plan.end": "2027-03-02", "plan.format": "in_person",
         "plan.delegation_size": "4", "reason": "agreed"},
    )  # fmt: skip
    assert errors == {"_form": "the visit must end on or after its first day"}
    fields = {"plan.start": "2027-03-02", "plan.end": "2027-03-03", "plan.format": "virtual",
              "plan.delegation_size": "2", "reason": "agreed by telephone"}  # fmt: skip
    action, errors = action_of(
        visit,
        values_of(visit, {**fields, "plan.meeting_url": "https://meet.example.org/ssn",
                          "plan.agenda": "Day 1: the centre", "plan.venue": ""}),
    )  # fmt: skip
    assert errors == {} and action.plan.meeting_url == "https://meet.example.org/ssn"
    assert action.plan.agenda == "Day 1: the centre" and action.plan.venue == ""
    _, errors = action_of(visit, values_of(visit, {**fields, "plan.meeting_url": "meet at 3"}))
    assert set(errors) == {"plan.meeting_url"}


async def _started(client):  # type: ignore[no-untyped-def]
    backend = client.app.state.backend
    eoi = unique_eoi()
    await submit_eoi(backend, eoi=eoi)
    client.started.append(eoi.match_id)

    async def recorded() -> bool:
        page = await client.get(f"/console/matches/{eoi.match_id}")
        return page.status_code == 200 and "introduction adopter" in page.text

    return eoi, recorded


async def test_the_match_page_and_an_action_with_its_confirmation(live_console):
    client = live_console
    sessions = client.app.state.backend.sessions
    await signed_in(client, sessions, Role.STAFF)
    eoi, recorded = await _started(client)
    await wait_for(recorded)
    page = (await client.get(f"/console/matches/{eoi.match_id}")).text
    assert "What is awaited" in page and "Timeline" in page and "Emails" in page
    assert f"/namespaces/default/workflows/{eoi.match_id}" in page
    assert f'href="/console/matches/{eoi.match_id}/act/pause"' in page

    url = f"/console/matches/{eoi.match_id}/act/pause"
    form = await client.get(url)
    csrf = csrf_of(form.text)
    review = await client.post(url, data={"csrf": csrf, "reason": "elections in Kenya"})
    assert review.status_code == 200 and "Please confirm" in review.text
    assert "elections in Kenya" in review.text
    page = (await client.get(f"/console/matches/{eoi.match_id}")).text
    assert "paused" not in page.split('id="standing"')[1].split("</section>")[0]  # not yet
    key = review.text.split('name="idempotency_key" value="')[1].split('"')[0]
    confirmed = {"csrf": csrf, "reason": "elections in Kenya", "confirmed": "yes",
                 "idempotency_key": key}  # fmt: skip
    done = await client.post(url, data=confirmed)
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/matches/{eoi.match_id}?done=pause"
    page = (await client.get(done.headers["location"])).text
    assert "Done: Pause." in page and "Paused since" in page
    assert (await client.post(url, data=confirmed)).status_code == 303  # the same key: once

    again = await client.post(
        url, data={"csrf": csrf, "reason": "again", "confirmed": "yes", "idempotency_key": "k2"}
    )
    assert again.status_code == 409
    assert "The rules refused this action" in again.text and "already paused" in again.text

    wrong = await client.post(
        f"/console/matches/{eoi.match_id}/act/extend-deadline",
        data={"csrf": csrf, "days": "999", "reason": "x"},
    )
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text


async def test_a_viewer_sees_no_action_and_cannot_open_one(live_console):
    client = live_console
    await signed_in(client, client.app.state.backend.sessions, Role.VIEWER)
    eoi, recorded = await _started(client)
    await wait_for(recorded)
    page = (await client.get(f"/console/matches/{eoi.match_id}")).text
    assert "/act/" not in page and 'id="actions"' not in page
    refused = await client.get(f"/console/matches/{eoi.match_id}/act/pause")
    assert refused.status_code == 403 and "needs the staff role" in refused.text


async def test_an_unknown_match_or_action_is_a_404_page(live_console):
    client = live_console
    await signed_in(client, client.app.state.backend.sessions, Role.STAFF)
    missing = await client.get("/console/matches/match-nope-1")
    assert missing.status_code == 404 and "<html" in missing.text
    assert "no match with id" in missing.text
    eoi, recorded = await _started(client)
    await wait_for(recorded)
    unknown = await client.get(f"/console/matches/{eoi.match_id}/act/explode")
    assert unknown.status_code == 404 and "There is no action" in unknown.text
