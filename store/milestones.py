"""The milestones of a match (when it entered each stage, its last movement, its outcome's
figures), kept on its row from the history entries the writers append, and the funnel's
cells moved with them."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.policy import SECONDS_PER_DAY
from domain.reports import Milestones, advance
from store import funnel_cells
from store.tables import MatchRow

MILESTONE_COLUMNS = tuple(Milestones.model_fields)


async def advance_milestones(
    session: AsyncSession,
    *,
    match_id: str,
    entries: Sequence[dict[str, Any]],
    day_seconds: float = SECONDS_PER_DAY,
) -> None:
    """Keep the match's milestones (the funnel's facts) true to the entries just recorded, in
    the same unit of work, and the funnel's cells with them; entries recorded twice change
    nothing (``advance`` is idempotent)."""
    table = MatchRow.__table__
    row = await funnel_cells.match_row(session, match_id=match_id, columns=MILESTONE_COLUMNS)
    if row is None or not entries:
        return
    after = advanced(row, entries, day_seconds=day_seconds)
    if after:
        await session.execute(update(table).where(table.c.id == match_id).values(**after))
        await funnel_cells.move(
            session,
            before=funnel_cells.facts(row),
            after=funnel_cells.facts({**row, **after}),
        )


def advanced(
    row: Mapping[str, Any],
    entries: Sequence[dict[str, Any]],
    *,
    day_seconds: float = SECONDS_PER_DAY,
) -> dict[str, Any]:
    """The milestone columns that the entries move on a match's row (empty: none); days are
    the stack's (``day_seconds`` long)."""
    before = Milestones(**{c: row[c] for c in MILESTONE_COLUMNS})
    after = advance(before, entries, day_seconds=day_seconds)
    return {} if after == before else after.model_dump()
