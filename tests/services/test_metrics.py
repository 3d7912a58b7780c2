"""The figures read from the database for Prometheus and /healthz, on both backends."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.metrics import outbox_verdict, store_figures
from store import writes
from store.tables import OutboxRow
from tests.support import record_eoi, unique_eoi

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _email(match_id: str, status: str, age: timedelta) -> OutboxRow:
    key = uuid.uuid4().hex
    return OutboxRow(
        business_key=key,
        message_id=f"<{key}@ssn4psi.org>",
        match_id=match_id,
        kind="introduction_adopter",
        recipient="someone@example.org",
        subject="s",
        status=status,
        created_at=NOW - age,
    )


async def test_an_empty_database_reads_as_nothing_waiting(sessions):
    figures = await store_figures(sessions, now=NOW)
    assert figures.matches == {} and figures.outbox == {}
    assert figures.oldest_pending_seconds is None
    assert outbox_verdict(figures, threshold_seconds=1) == "ok"


async def test_matches_by_stage_and_status_and_the_outbox_by_status(sessions):
    first = await record_eoi(sessions)
    await record_eoi(sessions)
    paused = unique_eoi()
    async with sessions() as session:
        await writes.create_match(
            session,
            eoi=paused,
            workflow_id=paused.match_id,
            stage="field_visit",
            status="paused",
            next_deadline=None,
        )
        session.add_all(
            [
                _email(first.match_id, "sent", timedelta(days=3)),  # old but sent: not waiting
                _email(first.match_id, "bounced", timedelta(days=2)),
                _email(first.match_id, "pending", timedelta(hours=2)),
                _email(first.match_id, "sending", timedelta(minutes=5)),
            ]
        )
        await session.commit()

    figures = await store_figures(sessions, now=NOW)

    assert figures.matches == {("follow_up", "active"): 2, ("field_visit", "paused"): 1}
    assert figures.outbox == {"sent": 1, "bounced": 1, "pending": 1, "sending": 1}
    assert figures.oldest_pending_seconds == pytest.approx(7200)
    verdict = outbox_verdict(figures, threshold_seconds=900)
    assert verdict.startswith("behind") and "2 waiting emails" in verdict and "7200 s" in verdict
    assert outbox_verdict(figures, threshold_seconds=7201) == "ok"
