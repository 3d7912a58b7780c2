"""The report queries on SQLite and PostgreSQL: milestones kept by the history writer, the
funnel's counts, the stalled matches and the network's figures."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from domain.reports import funnel_row
from store import reports, writes
from store.reports import ReportFilter
from store.tables import MatchRow
from tests.support import record_eoi, unique_eoi

T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
OUTCOME = {
    "people_reached": 500,
    "time_saved_days": 3.0,
    "cost_saved_usd": 2.0,
    "visits_saved": 1.0,
}


def _at(days: float) -> datetime:
    return T0 + timedelta(days=days)


async def _match(sessions, workshop: str, path: list[tuple[str, str, float, dict]]) -> str:
    eoi = unique_eoi()
    eoi = eoi.model_copy(update={"workshop": eoi.workshop.model_copy(update={"id": workshop})})
    await record_eoi(sessions, eoi)
    entries = [
        {
            "seq": n,
            "kind": kind,
            "stage": stage,
            "actor": "system",
            "summary": kind,
            "data": data,
            "occurred_at": _at(day),
        }
        for n, (kind, stage, day, data) in enumerate(path, start=1)
    ]
    async with sessions() as session:
        await writes.append_history_entries(session, match_id=eoi.match_id, entries=entries)
        last = path[-1]
        if last[0] == "closed":
            await writes.update_match(
                session,
                match_id=eoi.match_id,
                stage="closed",
                status="closed",
                next_deadline=None,
                close_reason=last[3]["reason"],
            )
        await session.commit()
    return eoi.match_id


START = [("match_recorded", "follow_up", 0, {})]
VISITED = [
    *START,
    ("stage_entered", "field_visit", 4, {}),
    ("visit_recorded", "field_visit", 9, {"held": True}),
]
COMPLETED = [
    *VISITED,
    ("stage_entered", "adaptation", 10, {}),
    ("stage_entered", "outcome", 30, {}),
    ("outcome_recorded", "outcome", 32, {"outcome": OUTCOME}),
    ("closed", "outcome", 32, {"reason": "completed"}),
]


async def test_the_funnel_counts_what_the_history_recorded(sessions):
    await _match(sessions, "ws-a", COMPLETED)
    await _match(sessions, "ws-a", VISITED)
    declined = await _match(
        sessions, "ws-a", [*START, ("closed", "follow_up", 2, {"reason": "declined"})]
    )
    await _match(sessions, "ws-b", START)
    async with sessions() as session:
        row = await session.get(MatchRow, declined)
        assert row.follow_up_at == T0 and row.closed_at == _at(2) and row.days_follow_up == 2
        counts = await reports.funnel_counts(session, by="workshop", filters=ReportFilter())
        by_year = await reports.funnel_counts(session, by="year", filters=ReportFilter())
        only_b = await reports.funnel_counts(
            session, by="focus_area", filters=ReportFilter(workshop_id="ws-b")
        )
    assert [c.key for c in counts] == ["ws-a", "ws-b"]
    a = funnel_row(counts[0])
    assert [s.reached for s in a.steps] == [3, 2, 1, 1, 1]
    assert a.steps[1].conversion == 2 / 3 and a.open == 1
    # follow-up: 4, 4 and 2 days; field visit: 6; adaptation 20; outcome 2
    assert [s.median_days for s in a.steps] == [4, 6, 20, 2, None]
    assert a.close_reasons == {"completed": 1, "declined": 1}
    assert [(c.key, c.matches) for c in by_year] == [("2025", 4)]
    assert [(c.key, c.matches) for c in only_b] == [("future_of_public_service", 1)]


async def test_stalled_and_network(sessions):
    moving = await _match(sessions, "ws-s", [*START, ("stage_entered", "field_visit", 40, {})])
    still = await _match(sessions, "ws-s", [*START, ("escalated", "follow_up", 40, {})])
    await _match(sessions, "ws-s", COMPLETED)
    async with sessions() as session:
        rows, total = await reports.stalled_matches(
            session, before=_at(35), filters=ReportFilter(workshop_id="ws-s")
        )
        assert [r.id for r in rows] == [still] and total == 1
        rows, total = await reports.stalled_matches(
            session, before=_at(41), filters=ReportFilter(workshop_id="ws-s")
        )
        assert [r.id for r in rows] == [still, moving] and total == 2
        figures = await reports.network_figures(session, filters=ReportFilter(workshop_id="ws-s"))
        assert (await session.execute(select(MatchRow.id))).all()
    assert figures["opportunities"] == 3 and figures["workshops"] == 1
    assert figures["field_visits"] == 1 and figures["adaptations"] == 1
    assert figures["outcomes"] == 1 and figures["people_reached"] == 500
    assert figures["countries"] == 2 and figures["institutions"] == 2
    assert figures["time_saved_days"] == {3.0: 1}


async def test_the_migration_back_fills_the_milestones_from_the_history(sessions, database_url):
    import asyncio

    from alembic import command

    from store.engine import alembic_config

    done = await _match(sessions, "ws-m", COMPLETED)
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0004")
    await asyncio.to_thread(command.upgrade, config, "0005r")
    async with sessions() as session:
        row = await session.get(MatchRow, done)
        counts = await reports.funnel_counts(
            session, by="workshop", filters=ReportFilter(workshop_id="ws-m")
        )
    assert row.follow_up_at == T0 and row.closed_at == _at(32) and row.visited_at == _at(9)
    assert (row.days_follow_up, row.days_adaptation, row.people_reached) == (4, 20, 500)
    assert [s.reached for s in funnel_row(counts[0]).steps] == [1, 1, 1, 1, 1]
