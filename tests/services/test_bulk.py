"""Bulk actions on the time-skipping Temporal server: selection, the dry run, per-match results
(applied, refused with the rules' sentence, failed), and one key applying nothing twice."""

import uuid

import pytest

from domain.lifecycle import events as ev
from services import bulk, steering
from services.intake import submit_eoi
from services.views import MatchFilter
from store import queries
from tests.support import unique_eoi, wait_for

ANA = "ana@ssn4psi.org"


async def _workshop(stack, size: int) -> tuple[str, list[str]]:
    """``size`` matches of a fresh workshop, waiting on both partners."""
    workshop = f"ws-{uuid.uuid4().hex[:8]}"
    ids = []
    for _ in range(size):
        eoi = unique_eoi()
        eoi = eoi.model_copy(update={"workshop": eoi.workshop.model_copy(update={"id": workshop})})
        ids.append((await submit_eoi(stack.backend, eoi=eoi)).match_id)
    return workshop, ids


async def _kinds(stack, match_id: str) -> list[str]:
    state = await steering.live_state(stack.backend, match_id=match_id)
    return [h.kind for h in state.history]


async def _status(stack, match_id: str) -> str:
    async with stack.backend.sessions() as session:
        row = await queries.get_match(session, match_id=match_id)
        return row.status if row else ""


async def _settled(stack, match_id: str, status: str) -> bool:
    return await _status(stack, match_id) == status


PAUSE = ev.Pause(reason="elections in the adopter country")


async def test_a_bulk_pause_says_per_match_applied_or_refused_and_why(stack):
    workshop, (fresh, paused, closed) = await _workshop(stack, 3)
    await steering.act(stack.backend, match_id=paused, action=PAUSE, by=ANA)
    close = ev.Close(reason="withdrawn", note="the adopter left the network")
    await steering.act(stack.backend, match_id=closed, action=close, by=ANA)
    await wait_for(lambda: _settled(stack, paused, "paused"))
    await wait_for(lambda: _settled(stack, closed, "closed"))
    missing = "match-NOPE-1"
    request = bulk.BulkActionRequest(
        match_ids=[fresh, paused, closed, missing, fresh], action=PAUSE, dry_run=True
    )

    before = {m: await _kinds(stack, m) for m in (fresh, paused)}
    preview = await bulk.run(stack.backend, request, by=ANA)
    assert [i.match_id for i in preview.items] == [fresh, paused, closed, missing]  # once each
    assert preview.dry_run and preview.count == 4 and preview.idempotency_key is None
    assert preview.totals == {"would_apply": 1, "would_refuse": 3, "failed": 0}
    by_id = {i.match_id: i for i in preview.items}
    assert by_id[fresh].outcome == "would_apply" and by_id[fresh].reason is None
    assert by_id[fresh].stage == "follow_up" and by_id[fresh].waiting_on == ["adopter", "provider"]
    assert by_id[paused].reason.startswith("reminders are already paused (since ")
    assert by_id[closed].reason == "the match is closed (withdrawn), so nothing can change it"
    assert (
        by_id[missing].reason == "no match with id 'match-NOPE-1'" and by_id[missing].stage is None
    )
    assert {m: await _kinds(stack, m) for m in (fresh, paused)} == before  # nothing changed

    run = request.model_copy(update={"dry_run": False})
    first = await bulk.run(stack.backend, run, by=ANA, idempotency_key="elections-kz")
    assert first.totals == {"applied": 1, "refused": 3, "failed": 0}
    by_id = {i.match_id: i for i in first.items}
    assert by_id[fresh].outcome == "applied" and by_id[fresh].result.status == "paused"
    assert by_id[paused].outcome == "refused"
    assert by_id[paused].reason.startswith("reminders are already paused (since ")
    assert by_id[closed].reason == "the match is closed (withdrawn), so nothing can change it"
    state = await steering.live_state(stack.backend, match_id=fresh)
    assert state.history[-1].actor == f"secretariat:{ANA}"

    # the same request again: Temporal answers each Update id it has seen with its outcome
    again = await bulk.run(stack.backend, run, by=ANA, idempotency_key="elections-kz")
    assert again.totals == first.totals and again.idempotency_key == "elections-kz"
    assert (await _kinds(stack, fresh)).count("paused") == 1
    # under another key the pause is a new request, and the rules refuse it
    other = await bulk.run(stack.backend, run, by=ANA, idempotency_key="elections-kz-2")
    assert {i.match_id: i.outcome for i in other.items}[fresh] == "refused"


async def test_a_resend_by_filter_reaches_every_waiting_match_of_a_workshop_once(stack):
    workshop, ids = await _workshop(stack, 3)
    _, elsewhere = await _workshop(stack, 1)
    await wait_for(lambda: len(stack.mail.messages) == 8)
    selection = bulk.BulkFilter(workshop_id=workshop, waiting_on="adopter")
    request = bulk.BulkActionRequest(filter=selection, action=ev.Resend(), dry_run=False)
    first = await bulk.run(stack.backend, request, by=ANA)
    assert first.count == 3 and first.totals["applied"] == 3, first
    assert sorted(i.match_id for i in first.items) == sorted(ids)
    key = first.idempotency_key
    assert key  # generated, and named so the request can be repeated
    await wait_for(lambda: len(stack.mail.messages) == 8 + 6)  # both prompts of each, again
    again = await bulk.run(stack.backend, request, by=ANA, idempotency_key=key)
    assert again.totals["applied"] == 3
    for match_id in ids:
        assert (await _kinds(stack, match_id)).count("resent") == 2
    assert (await _kinds(stack, elsewhere[0])).count("resent") == 0
    assert len(stack.mail.messages) == 14


async def test_a_selection_past_the_bound_is_refused_with_how_to_narrow(stack, monkeypatch):
    workshop, _ = await _workshop(stack, 3)
    monkeypatch.setattr(bulk, "MAX_MATCHES", 2)
    with pytest.raises(bulk.TooMany, match="3 matches pass this filter; .* at most 2: narrow"):
        await bulk.select(stack.backend, filters=bulk.BulkFilter(workshop_id=workshop))


async def test_a_selection_reads_every_page(stack, monkeypatch):
    workshop, ids = await _workshop(stack, 5)
    monkeypatch.setattr(bulk, "MAX_LIMIT", 2)  # three pages
    found = await bulk.select(stack.backend, filters=bulk.BulkFilter(workshop_id=workshop))
    assert sorted(i for i, _ in found) == sorted(ids)


def test_the_bulk_filter_is_the_list_filter_without_paging():
    assert set(bulk.BulkFilter.model_fields) == set(MatchFilter.model_fields) - {
        "sort",
        "limit",
        "offset",
        "after",
    }
