"""Case studies under review: reading them and the Secretariat's changes (edit, review,
publish, unpublish). One session in, no commits, like ``queries`` and ``writes``.

Every change is one compare-and-set statement on the row's ``revision`` (and status), so two
editors cannot both win, and the workflow's ``writes.save_case_study`` (insert unless present)
never touches a row that exists: a regenerated draft cannot overwrite an edit.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.engine import rowcount
from store.tables import CaseStudyRow, EoiRow, MatchRow

Status = Literal["draft", "reviewed", "published"]


async def list_case_studies(
    session: AsyncSession,
    *,
    status: str | None = None,
    focus_area: str | None = None,
    workshop_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[tuple[CaseStudyRow, str]], int]:
    """One page of case studies (newest first) with their match's workshop, and how many pass
    the filters in all."""
    query = select(CaseStudyRow, MatchRow.workshop_id).join(
        MatchRow, MatchRow.id == CaseStudyRow.match_id
    )
    if status is not None:
        query = query.where(CaseStudyRow.status == status)
    if focus_area is not None:
        query = query.where(CaseStudyRow.focus_area == focus_area)
    if workshop_id is not None:
        query = query.where(MatchRow.workshop_id == workshop_id)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    page = query.order_by(CaseStudyRow.created_at.desc(), CaseStudyRow.id.desc())
    rows = (await session.execute(page.limit(limit).offset(offset))).all()
    return [(row, workshop) for row, workshop in rows], total


async def get_case_study(
    session: AsyncSession, *, match_id: str
) -> tuple[CaseStudyRow, str] | None:
    """The case study of a match with its workshop, or None."""
    found = (
        await session.execute(
            select(CaseStudyRow, MatchRow.workshop_id)
            .join(MatchRow, MatchRow.id == CaseStudyRow.match_id)
            .where(CaseStudyRow.match_id == match_id)
        )
    ).one_or_none()
    return None if found is None else (found[0], found[1])


async def published_with_eois(
    session: AsyncSession,
) -> Sequence[tuple[CaseStudyRow, dict[str, Any]]]:
    """Every published case study with the EOI its match came from (as submitted)."""
    rows = (
        await session.execute(
            select(CaseStudyRow, EoiRow.payload)
            .join(MatchRow, MatchRow.id == CaseStudyRow.match_id)
            .join(EoiRow, EoiRow.id == MatchRow.eoi_id)
            .where(CaseStudyRow.status == "published")
            .order_by(CaseStudyRow.match_id)
        )
    ).all()
    return [(row, payload) for row, payload in rows]


async def edit_case_study(
    session: AsyncSession, *, match_id: str, markdown: str, revision: int, actor: str, at: datetime
) -> bool:
    """Keep an edit of a case study not published, if its revision is still ``revision``; it
    goes back to draft (the review was of other text). Tell whether it was kept."""
    table = CaseStudyRow.__table__
    result = await session.execute(
        update(table)
        .where(
            table.c.match_id == match_id,
            table.c.revision == revision,
            table.c.status != "published",
        )
        .values(
            edited_body=markdown,
            edited_by=actor,
            edited_at=at,
            status="draft",
            reviewed_by=None,
            reviewed_at=None,
            revision=table.c.revision + 1,
        )
    )
    return rowcount(result) == 1


async def move_case_study(
    session: AsyncSession,
    *,
    match_id: str,
    from_status: Status,
    to_status: Status,
    actor: str,
    at: datetime,
    revision: int | None = None,
) -> bool:
    """Move a case study from one status to the next (at that revision, if given), naming who
    and when; tell whether it moved."""
    table = CaseStudyRow.__table__
    values: dict[str, Any] = {"status": to_status, "revision": table.c.revision + 1}
    if to_status == "reviewed" and from_status == "draft":
        values |= {"reviewed_by": actor, "reviewed_at": at}
    elif to_status == "published":
        values |= {"published_by": actor, "published_at": at}
    elif from_status == "published":  # unpublished: the review still holds, the text is the same
        values |= {"published_by": None, "published_at": None}
    conditions = [table.c.match_id == match_id, table.c.status == from_status]
    if revision is not None:
        conditions.append(table.c.revision == revision)
    result = await session.execute(update(table).where(*conditions).values(values))
    return rowcount(result) == 1
