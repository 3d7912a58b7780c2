"""The list and the funnel at scale (migration 0006p) on SQLite and PostgreSQL: free text
through its trigram index, kept in step with the matches; a count that stops at its cap; the
funnel reading its narrow covering index."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text

from store import queries, reports
from store.queries import MatchFilter
from store.reports import ReportFilter
from store.tables import MatchRow
from tests.support import record_eoi, unique_eoi

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _named(adopter: str):  # type: ignore[no-untyped-def]
    eoi = unique_eoi()
    institution = eoi.adopter.institution.model_copy(update={"name": adopter})
    return eoi.model_copy(
        update={"adopter": eoi.adopter.model_copy(update={"institution": institution})}
    )


async def _found(sessions, needle: str) -> tuple[set[str], int, bool]:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        rows, total, capped, _ = await queries.list_matches(
            session, filters=MatchFilter(text=needle), now=NOW
        )
    return {r.id for r in rows}, total, capped


@pytest.mark.parametrize("fts_at_most", [0, 1_000_000])
async def test_free_text_finds_a_substring_through_either_path(sessions, monkeypatch, fts_at_most):
    # 0: every needle is "common" (read in order); a million: every one goes through the
    # trigram table first (SQLite). Both must find the same matches.
    monkeypatch.setattr(queries, "FTS_AT_MOST", fts_at_most)
    rare = await record_eoi(sessions, _named('Agence Zébrée 50% "Qx"'))
    other = await record_eoi(sessions, _named("Ministry of Lands"))
    assert await _found(sessions, "zébrée") == ({rare.match_id}, 1, False)
    assert await _found(sessions, "ZÉBRÉE 50%") == ({rare.match_id}, 1, False)
    assert await _found(sessions, '50% "qx"') == ({rare.match_id}, 1, False)
    assert await _found(sessions, "50_") == (set(), 0, False)  # LIKE's wildcards are literal
    assert await _found(sessions, "of lands") == ({other.match_id}, 1, False)
    assert await _found(sessions, "zq") == (set(), 0, False)  # shorter than a trigram
    assert (await _found(sessions, "agence"))[0] == {rare.match_id}
    assert (await _found(sessions, "nowhere at all"))[1] == 0


async def test_the_trigram_index_follows_deleted_matches(sessions):
    gone = await record_eoi(sessions, _named("Quokka Bureau"))
    async with sessions() as session:
        await session.execute(MatchRow.__table__.delete().where(MatchRow.id == gone.match_id))
        await session.commit()
    assert await _found(sessions, "quokka") == (set(), 0, False)
    async with sessions() as session:
        if session.bind.dialect.name == "sqlite":
            left = await session.execute(text("SELECT count(*) FROM matches_text"))
            assert left.scalar_one() == 0


async def test_postgresql_has_the_trigram_index(sessions):
    async with sessions() as session:
        if session.bind.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's pg_trgm index")
        found = await session.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_matches_search_text_trgm'")
        )
        assert "gin_trgm_ops" in found.scalar_one()


async def test_the_count_stops_at_its_cap_past_the_page_and_says_so(sessions, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    for _ in range(6):
        await record_eoi(sessions)

    async def page(**criteria):  # type: ignore[no-untyped-def]
        async with sessions() as session:
            rows, total, capped, _ = await queries.list_matches(
                session, filters=MatchFilter(**criteria), now=NOW
            )
        return len(rows), total, capped

    assert await page(limit=1) == (1, 3, True)  # at least 3: the page and 2 past it
    assert await page(limit=2, offset=2) == (2, 6, False)  # 2 + 2 + 2 reach every match
    assert await page(limit=3) == (3, 5, True)
    assert await page(limit=50) == (6, 6, False)
    assert await page(stage="closed") == (0, 0, False)


async def test_the_funnel_reads_its_covering_index_on_sqlite(sessions):
    await record_eoi(sessions)
    async with sessions() as session:
        if session.bind.dialect.name != "sqlite":
            pytest.skip("SQLite's plan")
        await session.execute(text("ANALYZE"))
        sync = session.bind.sync_engine
        raw = (await (await session.connection()).get_raw_connection()).driver_connection
        captured: list[tuple[str, tuple]] = []
        for by in ("workshop", "adopter_country", "focus_area", "year"):
            captured.clear()

            def keep(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
                captured.append((statement, parameters))

            event.listen(sync, "before_cursor_execute", keep)
            try:
                counts = await reports.funnel_counts(session, by=by, filters=ReportFilter())
            finally:
                event.remove(sync, "before_cursor_execute", keep)
            assert sum(c.matches for c in counts) == 1
            statement, parameters = captured[-1]
            plan = await (
                await raw.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            ).fetchall()
            details = " ".join(str(step[3]) for step in plan)
            assert "COVERING INDEX ix_matches_funnel" in details, (by, details)
