"""The funnel's cells, moved by the writers of a match, give exactly the funnel the
straightforward SQL counts from the matches: random matches, imports at past dates over
several years, stage changes, closes, reopens and moves back, on SQLite and PostgreSQL; and
the migration's back-fill counts the same."""

import asyncio
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from domain.enums import CloseReason, FocusArea
from domain.funnel_cells import DIMENSIONS
from domain.reports import TIMED_STAGES, combine, funnel_row
from services import reports as services_reports
from services.backend import Backend
from store import funnel_cells, reports, writes
from store.reports import ReportFilter
from store.tables import FunnelCellRow
from tests.support import record_eoi, unique_eoi

YEARS = (None, 2024, 2025, 2026)
STAGES = [s.value for s in TIMED_STAGES]


def _eoi(rng: random.Random):  # type: ignore[no-untyped-def]
    eoi = unique_eoi()
    solution = rng.choice(["sol-a", "sol-b", "sol-c"])
    return eoi.model_copy(
        update={
            "workshop": eoi.workshop.model_copy(
                update={"id": rng.choice(["ws-1", "ws-2", "ws-3"])}
            ),
            "solution": eoi.solution.model_copy(
                update={
                    "id": solution,
                    "focus_area": list(FocusArea)["abc".index(solution[-1])],
                }
            ),
            "adopter": eoi.adopter.model_copy(
                update={
                    "institution": eoi.adopter.institution.model_copy(
                        update={"country": rng.choice(["KZ", "KE", "BR", "RW"])}
                    )
                }
            ),
        }
    )


def _history(rng: random.Random) -> list[dict]:
    """A past path imported at its dates (fractional days, entries in any order)."""
    at = datetime(rng.choice([2024, 2025, 2026]), 1, 1, tzinfo=UTC) + timedelta(
        days=rng.uniform(0, 300)
    )
    entries = [("match_recorded", "follow_up", at, {})]
    for stage in STAGES[1 : rng.randint(1, 4)]:
        at += timedelta(days=rng.uniform(0, 40))
        entries.append(("stage_entered", stage, at, {}))
        if stage == "field_visit" and rng.random() < 0.5:
            entries.append(("visit_recorded", stage, at, {"held": True}))
    rng.shuffle(entries)
    return [
        {
            "seq": n,
            "kind": k,
            "stage": s,
            "actor": "system",
            "summary": k,
            "data": d,
            "occurred_at": t,
        }
        for n, (k, s, t, d) in enumerate(entries, start=1)
    ]


async def _same_funnels(sessions) -> None:  # type: ignore[no-untyped-def]
    """The funnel the service answers from the cells (and from what it kept of them) is the
    one the straightforward SQL counts from the matches, for every grouping and year."""
    backend = Backend(client=None, sessions=sessions, task_queue="cells")  # type: ignore[arg-type]
    for by in DIMENSIONS:
        for year in YEARS:
            filters = ReportFilter(year=year)
            report = await services_reports.funnel(backend, by=by, filters=filters)
            async with sessions() as session:
                straight = await reports.funnel_counts(session, by=by, filters=filters)
            assert report.rows == [funnel_row(c) for c in straight], (by, year)
            assert report.total == funnel_row(combine(straight)), (by, year)


async def _cells(session) -> dict:  # type: ignore[no-untyped-def]
    rows = await session.execute(
        select(FunnelCellRow.by, FunnelCellRow.key, FunnelCellRow.year, FunnelCellRow.counts)
    )
    return {(b, k, y): c for b, k, y, c in rows if c["matches"]}


async def _close(sessions, match_id: str, reason: str, at: datetime) -> None:  # type: ignore[no-untyped-def]
    """Close a match as its workflow records a step: entries and position in one write."""
    async with sessions() as session:
        await writes.record_step(
            session,
            match_id=match_id,
            entries=[
                {
                    "seq": 90,
                    "kind": "closed",
                    "stage": "follow_up",
                    "actor": "system",
                    "summary": "closed",
                    "data": {"reason": reason},
                    "occurred_at": at,
                }
            ],
            stage="closed",
            status="closed",
            next_deadline=None,
            close_reason=reason,
        )
        await session.commit()


async def test_the_cells_give_the_funnel_the_matches_give(sessions):
    rng = random.Random(7)
    ids = []
    for _ in range(30):
        eoi = await record_eoi(sessions, _eoi(rng))
        ids.append(eoi.match_id)
    await _same_funnels(sessions)  # new matches: no milestones yet, this year
    imported = rng.sample(ids, 24)
    for match_id in imported:  # matches already under way, imported at their past dates
        async with sessions() as session:
            await writes.append_history_entries(session, match_id=match_id, entries=_history(rng))
            await session.commit()
    await _same_funnels(sessions)
    closed = rng.sample(imported, 12)
    for match_id in closed:
        reason = rng.choice([r.value for r in CloseReason])
        await _close(
            sessions,
            match_id,
            reason,
            datetime(2026, 6, 1, tzinfo=UTC) + timedelta(hours=rng.uniform(0, 900)),
        )
    await _same_funnels(sessions)
    for match_id in closed[:6]:  # reopened, or moved back a stage
        async with sessions() as session:
            await writes.update_match(
                session,
                match_id=match_id,
                stage=rng.choice(STAGES),
                status="active",
                next_deadline=None,
            )
            await session.commit()
    for match_id in closed[6:9]:  # closed again, for another reason
        async with sessions() as session:
            await writes.update_match(
                session,
                match_id=match_id,
                stage="closed",
                status="closed",
                next_deadline=None,
                close_reason="declined",
            )
            await session.commit()
    await _same_funnels(sessions)
    async with sessions() as session:
        kept = await _cells(session)
        assert await funnel_cells.rebuild(session) > 0
        assert await _cells(session) == kept
        await session.commit()
    await _same_funnels(sessions)  # every cell made again: nothing kept from before applies


async def test_the_migration_back_fills_the_cells(sessions, database_url):
    from alembic import command

    from store.engine import alembic_config

    rng = random.Random(11)
    for _ in range(8):
        eoi = await record_eoi(sessions, _eoi(rng))
        async with sessions() as session:
            await writes.append_history_entries(
                session, match_id=eoi.match_id, entries=_history(rng)
            )
            await session.commit()
    async with sessions() as session:
        kept = await _cells(session)
    assert kept
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0006p")
    await asyncio.to_thread(command.upgrade, config, "head")
    async with sessions() as session:
        assert await _cells(session) == kept
    await _same_funnels(sessions)
