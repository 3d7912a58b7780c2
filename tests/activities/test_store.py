import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from store import outbox, queries
from store import writes as repository
from store.engine import alembic_config
from store.tables import ContactRow, EoiRow, InstitutionRow, MatchHistoryRow
from tests.support import example_eoi, unique_eoi

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


async def test_migrations_match_the_models(database_url):
    # alembic check raises when the tables in code and the migrated schema differ
    await asyncio.to_thread(command.check, alembic_config(database_url))


async def _record(session, eoi, *, deadline=NOW + timedelta(days=7)):
    return await repository.create_match(
        session,
        eoi=eoi,
        workflow_id=eoi.match_id,
        stage="follow_up",
        status="active",
        next_deadline=deadline,
    )


async def test_recording_an_eoi_twice_stores_it_once(sessions):
    eoi = unique_eoi()
    async with sessions() as session:
        assert await _record(session, eoi) is True
        await session.commit()
    async with sessions() as session:
        assert await _record(session, eoi) is False
        await session.commit()
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(EoiRow))).scalar_one() == 1
        assert (
            await session.execute(select(func.count()).select_from(ContactRow))
        ).scalar_one() == 2
        assert (
            await session.execute(select(func.count()).select_from(InstitutionRow))
        ).scalar_one() == 2
        match = await queries.get_match(session, match_id=eoi.match_id)
        assert match is not None
        assert match.next_deadline == NOW + timedelta(days=7)
        assert match.summary == eoi.summary()


async def test_reference_data_is_shared_between_eois(sessions):
    first, second = unique_eoi(), unique_eoi()
    async with sessions() as session:
        await _record(session, first)
        await _record(session, second)
        await session.commit()
        # same provider, same adopter institution: one row each, two EOIs
        assert (
            await session.execute(select(func.count()).select_from(InstitutionRow))
        ).scalar_one() == 2
        assert (await session.execute(select(func.count()).select_from(EoiRow))).scalar_one() == 2


def _crossed(eoi):
    """The EOI with its institutions and contacts in each other's roles."""
    provider, adopter = eoi.solution, eoi.adopter
    return eoi.model_copy(
        update={
            "solution": provider.model_copy(
                update={"provider": adopter.institution, "contact": adopter.contact}
            ),
            "adopter": adopter.model_copy(
                update={"institution": provider.provider, "contact": provider.contact}
            ),
        }
    )


def _fresh_parties(eoi):
    """The EOI with a solution, institutions and contacts no other EOI has."""
    tag = uuid.uuid4().hex[:8]
    provider, adopter = eoi.solution, eoi.adopter
    return eoi.model_copy(
        update={
            "solution": provider.model_copy(
                update={
                    "id": f"sol-{tag}",
                    "provider": provider.provider.model_copy(update={"name": f"Agency {tag} P"}),
                    "contact": provider.contact.model_copy(update={"email": f"p-{tag}@gov.test"}),
                }
            ),
            "adopter": adopter.model_copy(
                update={
                    "institution": adopter.institution.model_copy(
                        update={"name": f"Agency {tag} A"}
                    ),
                    "contact": adopter.contact.model_copy(update={"email": f"a-{tag}@gov.test"}),
                }
            ),
        }
    )


async def test_matches_whose_partners_swap_roles_are_recorded_at_once(sessions):
    # Each pair of EOIs names the same two institutions and contacts, new ones, in swapped
    # roles, and all are recorded at once. Taken in the order of their roles, two writers
    # would each insert one institution and wait on the other's (a deadlock, which PostgreSQL
    # ends by failing one of them); taken in one order, the second waits and goes on.
    async with sessions() as session:
        await _record(session, unique_eoi())  # the workshop exists: no writer waits on it
        await session.commit()
    eois = []
    for _ in range(8):
        first = _fresh_parties(unique_eoi())
        second = _crossed(first).model_copy(
            update={
                "id": unique_eoi().id,
                "solution": _crossed(first).solution.model_copy(
                    update={"id": f"{first.solution.id}-x"}
                ),
            }
        )
        eois += [first, second]

    async def record(eoi):
        async with sessions() as session:
            assert await _record(session, eoi) is True
            await session.commit()

    await asyncio.gather(*(record(eoi) for eoi in eois))
    async with sessions() as session:
        count = select(func.count()).select_from
        assert (await session.execute(count(InstitutionRow))).scalar_one() == 2 + 16
        assert (await session.execute(count(ContactRow))).scalar_one() == 2 + 16
        assert (await session.execute(count(EoiRow))).scalar_one() == 1 + 16


async def test_reference_rows_are_inserted_in_one_order_whatever_their_roles(sessions, monkeypatch):
    inserted: list[tuple[str, list]] = []
    insert_ignore = repository._insert_ignore

    async def spy(session, table, values):
        inserted.append((table.__tablename__, values))
        return await insert_ignore(session, table, values)

    monkeypatch.setattr(repository, "_insert_ignore", spy)
    eoi = unique_eoi()
    for each in (eoi, _crossed(eoi)):
        inserted.clear()
        async with sessions() as session:
            await _record(session, each)
            await session.commit()
        rows = dict(inserted)
        assert [(r["name_key"], r["country"]) for r in rows["institutions"]] == sorted(
            (i.name.casefold(), i.country) for i in (eoi.solution.provider, eoi.adopter.institution)
        )
        assert [r["email"] for r in rows["contacts"]] == sorted(
            (eoi.solution.contact.email, eoi.adopter.contact.email)
        )


async def test_a_step_is_recorded_once_with_its_position(sessions):
    eoi = unique_eoi()
    entry = {
        "seq": 2,
        "kind": "answered",
        "stage": "follow_up",
        "actor": "adopter",
        "summary": "interested",
        "data": {},
        "occurred_at": NOW,
    }
    position = {"stage": "field_visit", "status": "active", "next_deadline": None}
    async with sessions() as session:
        await _record(session, eoi)
        step = dict(match_id=eoi.match_id, entries=[entry], waiting_on=["provider"], **position)
        assert await repository.record_step(session, **step) == 1
        assert await repository.record_step(session, **step) == 0  # the same step again
        await session.commit()
    async with sessions() as session:
        match = await queries.get_match(session, match_id=eoi.match_id)
        assert (match.stage, match.status, match.next_deadline) == ("field_visit", "active", None)
        assert match.waiting_on == "provider"
        count = select(func.count()).select_from(MatchHistoryRow)
        assert (await session.execute(count)).scalar_one() == 1


async def test_history_is_idempotent_per_sequence_number(sessions):
    eoi = unique_eoi()
    entry = dict(
        kind="match_recorded",
        stage="follow_up",
        actor="secretariat",
        summary="s",
        data={"a": 1},
        occurred_at=NOW,
    )
    async with sessions() as session:
        await _record(session, eoi)
        assert (
            await repository.append_history_entries(
                session, match_id=eoi.match_id, entries=[{"seq": 1, **entry}]
            )
            == 1
        )
        await session.commit()
    async with sessions() as session:
        # a retried activity appends the same entry again: nothing changes
        assert (
            await repository.append_history_entries(
                session, match_id=eoi.match_id, entries=[{"seq": 1, **entry}]
            )
            == 0
        )
        assert (
            await repository.append_history_entries(
                session, match_id=eoi.match_id, entries=[{"seq": 2, **entry}]
            )
            == 1
        )
        await session.commit()
    async with sessions() as session:
        rows = await queries.list_history(session, match_id=eoi.match_id)
        assert [r.seq for r in rows] == [1, 2]
        assert rows[0].occurred_at == NOW
        count = (
            await session.execute(select(func.count()).select_from(MatchHistoryRow))
        ).scalar_one()
        assert count == 2


async def test_a_decisions_entries_are_appended_in_one_statement_skipping_known_ones(sessions):
    eoi = unique_eoi()

    def entry(seq: int) -> dict:
        return dict(
            seq=seq,
            kind="answered",
            stage="follow_up",
            actor="adopter",
            summary=f"entry {seq}",
            data={},
            occurred_at=NOW,
        )

    async with sessions() as session:
        await _record(session, eoi)
        appended = await repository.append_history_entries(
            session, match_id=eoi.match_id, entries=[entry(1), entry(2)]
        )
        await session.commit()
    assert appended == 2
    async with sessions() as session:
        # a retry that overlaps what is stored: only the new entry is counted and kept
        appended = await repository.append_history_entries(
            session, match_id=eoi.match_id, entries=[entry(2), entry(3)]
        )
        assert (
            await repository.append_history_entries(session, match_id=eoi.match_id, entries=[]) == 0
        )
        await session.commit()
    assert appended == 1
    async with sessions() as session:
        rows = await queries.list_history(session, match_id=eoi.match_id)
        assert [(r.seq, r.summary) for r in rows] == [
            (1, "entry 1"),
            (2, "entry 2"),
            (3, "entry 3"),
        ]


def _email(eoi, *, message_id: str) -> dict:
    """The outbox fields of one prompt email of a match."""
    return dict(
        business_key=f"{eoi.match_id}/follow_up/p-1/a@x.org/1",
        message_id=message_id,
        match_id=eoi.match_id,
        kind="introduction_adopter",
        recipient="a@x.org",
        subject="Hello",
    )


async def test_an_outbox_row_counts_attempts_until_it_is_sent(sessions):
    eoi = unique_eoi()
    email = _email(eoi, message_id="<m@x.org>")
    async with sessions() as session:
        await _record(session, eoi)
        first = await outbox.claim_outbox(session, **email)
        second = await outbox.claim_outbox(session, **email)
        assert first.id == second.id and not first.already_sent and not second.already_sent
        await outbox.mark_outbox(session, row_id=first.id, status="sent", error=None)
        await session.commit()
    async with sessions() as session:
        third = await outbox.claim_outbox(session, **email)
        assert third.already_sent and third.id == first.id and third.message_id == "<m@x.org>"
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
        assert row.attempts == 2 and row.status == "sent" and row.sent_at is not None


async def test_an_email_given_up_stays_failed_unless_it_was_sent_after_all(sessions):
    eoi = unique_eoi()
    email = _email(eoi, message_id="<f@x.org>")
    async with sessions() as session:
        await _record(session, eoi)
        claim = await outbox.claim_outbox(session, **email)
        assert await outbox.fail_outbox(
            session, business_key=email["business_key"], error="not delivered within 24 hours"
        )
        # the attempt still running at the bound fails again: the row stays given up
        await outbox.mark_outbox(session, row_id=claim.id, status="pending", error="421")
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
        assert (row.status, row.last_error) == ("failed", "not delivered within 24 hours")
        # or it got through after all: that is the truth, and a sent row is never given up
        await outbox.mark_outbox(session, row_id=claim.id, status="sent", error=None)
        assert not await outbox.fail_outbox(
            session, business_key=email["business_key"], error="late"
        )
        await session.commit()
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
        assert row.status == "sent" and row.sent_at is not None


async def test_list_matches_filters_and_pages(sessions):
    kz = [unique_eoi() for _ in range(3)]
    other = example_eoi(
        id="OTHER-1", workshop={"id": "ws-other", "title": "Dhaka workshop", "date": "2022-03-01"}
    )
    async with sessions() as session:
        for eoi in [*kz, other]:
            await _record(session, eoi)
        await repository.update_match(
            session,
            match_id=kz[0].match_id,
            stage="closed",
            status="closed",
            next_deadline=None,
            close_reason="lapsed",
        )
        await session.commit()
    async with sessions() as session:
        rows, total = await _list(session, workshop_id="ws-2021-nur-sultan", limit=2)
        assert total == 3 and len(rows) == 2
        rows, total = await _list(session, stage="closed")
        assert total == 1 and rows[0].id == kz[0].match_id and rows[0].close_reason == "lapsed"
        _, total = await _list(session, focus_area="future_of_work")
        assert total == 0


async def _list(session, **criteria):
    rows, total, _, _ = await queries.list_matches(
        session, filters=queries.MatchFilter(**criteria), now=NOW
    )
    return rows, total


async def test_a_claim_turns_the_row_sending_and_tells_the_status_before(sessions):
    eoi = unique_eoi()
    email = _email(eoi, message_id="<s@x.org>")

    async def status() -> str:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
        return row.status

    async with sessions() as session:
        await _record(session, eoi)
        first = await outbox.claim_outbox(session, **email)
        assert first.previous_status is None and await status() == "sending"
        # a transient failure puts it back to pending; the next attempt sees that
        await outbox.mark_outbox(session, row_id=first.id, status="pending", error="451")
        second = await outbox.claim_outbox(session, **email)
        assert second.previous_status == "pending" and await status() == "sending"
        # an attempt that died mid-conversation left it sending: the next one is told
        third = await outbox.claim_outbox(session, **email)
        assert third.previous_status == "sending" and not third.already_sent
        assert {first.id, second.id, third.id} == {first.id}
        await outbox.mark_outbox(session, row_id=third.id, status="sent", error=None)
        fourth = await outbox.claim_outbox(session, **email)
        assert fourth.already_sent and fourth.previous_status == "sent"
        await session.commit()
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
        assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)


async def test_a_claim_leaves_a_bounced_row_to_a_new_attempt_and_a_failed_row_failed(sessions):
    bounced, failed = unique_eoi(), unique_eoi()
    async with sessions() as session:
        for eoi in (bounced, failed):
            await _record(session, eoi)
        claim = await outbox.claim_outbox(session, **_email(bounced, message_id="<b@x.org>"))
        await outbox.mark_outbox(session, row_id=claim.id, status="bounced", error="550")
        again = await outbox.claim_outbox(session, **_email(bounced, message_id="<b@x.org>"))
        assert again.previous_status == "bounced"
        email = _email(failed, message_id="<f2@x.org>")
        claim = await outbox.claim_outbox(session, **email)
        await outbox.mark_outbox(session, row_id=claim.id, status="failed", error="poison")
        again = await outbox.claim_outbox(session, **email)
        assert again.previous_status == "failed"
        await session.commit()
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=bounced.match_id)
        assert row.status == "sending"
        [row] = await queries.list_outbox(session, match_id=failed.match_id)
        assert (row.status, row.attempts) == ("failed", 2)


async def test_a_long_subject_is_stored_whole(sessions):
    eoi = unique_eoi()
    email = {**_email(eoi, message_id="<l@x.org>"), "subject": "Support requested " + "x" * 400}
    async with sessions() as session:
        await _record(session, eoi)
        await outbox.claim_outbox(session, **email)
        await session.commit()
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
        assert row.subject == email["subject"]


async def test_a_name_that_casefolds_longer_than_itself_is_stored(sessions):
    # "ß" casefolds to "ss": a name of 200 characters has a key of 400
    eoi = _fresh_parties(unique_eoi())
    long_name = "ß" * 200
    eoi = eoi.model_copy(
        update={
            "adopter": eoi.adopter.model_copy(
                update={
                    "institution": eoi.adopter.institution.model_copy(update={"name": long_name})
                }
            )
        }
    )
    async with sessions() as session:
        await _record(session, eoi)
        await session.commit()
        names = (await session.execute(select(InstitutionRow.name_key))).scalars().all()
    assert "ss" * 200 in names


async def test_a_failed_statement_does_not_carry_its_parameters(sessions):
    # an error's text reaches the logs: the names and addresses bound to it must not
    name = "Institution of Secret Name"
    async with sessions() as session:
        with pytest.raises(DBAPIError) as raised:
            await session.execute(
                text("INSERT INTO institutions (name, name_key, country) VALUES (:n, :k, :c)"),
                {"n": name, "k": None, "c": "KZ"},  # name_key may not be NULL
            )
    assert name not in str(raised.value)
