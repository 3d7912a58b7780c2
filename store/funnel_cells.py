"""The funnel's cells (funnel_cells, 0007f): moved by every writer of a match in its unit of
work, read by the funnel instead of every match, rebuilt from the matches by the back-fill."""

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import bindparam, delete, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain import funnel_cells as rule
from domain.funnel_cells import ALL_YEARS, FACT_COLUMNS, Cell, FunnelFacts, first_version
from domain.reports import FunnelBy, FunnelCounts
from store.tables import FunnelCellRow, MatchRow

_cells = FunnelCellRow.__table__
_matches = MatchRow.__table__


async def match_row(
    session: AsyncSession, *, match_id: str, columns: tuple[str, ...] = ()
) -> Mapping[str, Any] | None:
    """A match's funnel columns (and any others asked for), or None when there is none."""
    wanted = dict.fromkeys((*FACT_COLUMNS, *columns))
    row = (
        await session.execute(
            select(*(_matches.c[c] for c in wanted)).where(_matches.c.id == match_id)
        )
    ).one_or_none()
    # a RowMapping read by column name (its keys are the names selected)
    return None if row is None else cast(Mapping[str, Any], row._mapping)


def facts(row: Mapping[str, Any] | None) -> FunnelFacts | None:
    return None if row is None else rule.facts(row)


def facts_of_new(row: Mapping[str, Any]) -> FunnelFacts:
    """A new match's facts from the row inserted: no milestones yet."""
    return rule.facts({**dict.fromkeys(FACT_COLUMNS), **row})


def _insert_ignore(session: AsyncSession) -> Any:
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(_cells).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(_cells).on_conflict_do_nothing()


async def move(
    session: AsyncSession, *, before: FunnelFacts | None, after: FunnelFacts | None
) -> None:
    """Move a match's counts from the cells of its facts before to those after, in the
    caller's unit of work. The cells are created empty if missing, then locked in one order
    (PostgreSQL: FOR UPDATE; SQLite has one writer), so concurrent writers add up, never
    overwrite, and never deadlock on each other's cells."""
    moved = rule.changes(before, after)
    if not moved:
        return
    wanted = sorted(moved)
    await session.execute(
        _insert_ignore(session),
        [
            {"by": b, "key": k, "year": y, "counts": rule.empty(), "version": first_version()}
            for b, k, y in wanted
        ],
    )
    rows = await session.execute(
        select(_cells.c.by, _cells.c.key, _cells.c.year, _cells.c.counts)
        .where(tuple_(_cells.c.by, _cells.c.key, _cells.c.year).in_(wanted))
        .order_by(_cells.c.by, _cells.c.key, _cells.c.year)
        .with_for_update()
    )
    values = [
        {"b": b, "k": k, "y": y, "c": rule.apply(counts, moved[(b, k, y)])}
        for b, k, y, counts in rows
    ]
    await session.execute(
        update(_cells)
        .where(
            _cells.c.by == bindparam("b"),
            _cells.c.key == bindparam("k"),
            _cells.c.year == bindparam("y"),
        )
        .values(counts=bindparam("c"), version=_cells.c.version + 1),
        values,
    )


async def rebuild(session: AsyncSession) -> int:
    """Every cell counted again from the matches (the back-fill, and after bulk loads that
    bypass the writers); return how many cells there are."""
    await session.execute(delete(_cells))
    rows = await session.execute(select(*(_matches.c[c] for c in FACT_COLUMNS)))
    cells = rule.aggregate(rule.facts(cast(Mapping[str, Any], r._mapping)) for r in rows)
    if cells:
        await session.execute(
            insert(_cells),
            [
                {"by": b, "key": k, "year": y, "counts": c, "version": first_version()}
                for (b, k, y), c in cells.items()
            ],
        )
    return len(cells)


async def versions(session: AsyncSession, *, by: FunnelBy, year: int | None) -> dict[Cell, int]:
    """The version of every cell of ``by`` and of the years (every match, or those started in
    ``year``): what a funnel is made of, told without reading the counts."""
    rows = await session.execute(
        select(_cells.c.by, _cells.c.key, _cells.c.year, _cells.c.version).where(
            _cells.c.by.in_((by, "year")), _cells.c.year == (ALL_YEARS if year is None else year)
        )
    )
    return {(b, k, y): v for b, k, y, v in rows}


async def counts(session: AsyncSession, *, cells: list[Cell]) -> dict[Cell, FunnelCounts]:
    """The counts of these cells."""
    found: dict[Cell, FunnelCounts] = {}
    for begin in range(0, len(cells), 500):
        chunk = cells[begin : begin + 500]
        rows = await session.execute(
            select(_cells.c.by, _cells.c.key, _cells.c.year, _cells.c.counts).where(
                tuple_(_cells.c.by, _cells.c.key, _cells.c.year).in_(chunk)
            )
        )
        found.update({(b, k, y): rule.counts_of(k, c) for b, k, y, c in rows})
    return found
