"""Case studies for *The South-South Matchmaker*: list, read, edit, review, publish, unpublish,
and the compiled volume of the published ones.

The workflow drafts a case study when a match is completed and both partners agreed to publish
(the adopter's ``consent_to_publish`` and the provider's confirmation: domain/lifecycle/
partners.py), so every row here is a consented one. The Secretariat then edits the Markdown
(kept beside the generated draft, never over it), marks it reviewed and publishes it:

    draft --review--> reviewed --publish--> published --unpublish--> reviewed
      ^                  |
      +------ edit ------+      (an edit of a reviewed case sends it back to draft)

A published case is frozen: unpublish it to edit it. Every change names the key's user and
bumps the revision; a change made against an older revision is refused (409).
"""

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import Role
from domain.enums import FocusArea
from domain.lifecycle.case_study import country_name
from domain.model import ExpressionOfInterest, Identifier
from domain.text import printable
from domain.volume import CaseFacts, Partner, compile_volume, split_case
from services.access import AccessError, normal_email
from services.errors import CaseStudyConflict, CaseStudyNotFound
from services.outages import outages_refused
from store import case_studies as store
from store import queries
from store.queries import MAX_LIMIT, MAX_OFFSET
from store.tables import CaseStudyRow

MARKDOWN_MAX = 100_000  # characters of an edited case study (a long one is ~10,000)
CaseStatus = Literal["draft", "reviewed", "published"]
Markdown = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MARKDOWN_MAX),
    AfterValidator(printable),
]

REVISION_MAX = 2**31 - 1  # what an INTEGER column holds on both backends


class CaseStudyFilter(BaseModel):
    """Which case studies to list: every criterion given must hold; one page of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: CaseStatus | None = None
    focus_area: FocusArea | None = None
    workshop: Identifier | None = Field(default=None, description="the workshop's id")
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class CaseStudyEdit(BaseModel):
    """New Markdown for a case study, made from the revision the editor read."""

    model_config = ConfigDict(extra="forbid")

    markdown: Markdown = Field(
        description="the whole case study; `## Context`, `## The solution`, "
        "`## The adaptation`, `## Results`, `## Lessons`, `## Contacts`"
    )
    revision: int = Field(
        ge=1, le=REVISION_MAX, description="the revision the edit was made from (409 if stale)"
    )


class CaseStudySummary(BaseModel):
    """A case study in a list: who did what to it, when, without its text."""

    match_id: str
    workshop_id: str
    title: str
    focus_area: FocusArea
    status: CaseStatus
    revision: int
    edited: bool = Field(description="whether the Secretariat edited the generated draft")
    created_at: datetime
    edited_by: str | None
    edited_at: datetime | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    published_by: str | None
    published_at: datetime | None


class CaseStudyRead(CaseStudySummary):
    """A case study with its Markdown (the edit, or the draft while there is none)."""

    markdown: str
    draft: str = Field(description="the draft as the workflow generated it, never edited")


class CaseStudyList(BaseModel):
    items: list[CaseStudySummary]
    total: int
    limit: int
    offset: int


def _summary(row: CaseStudyRow, workshop_id: str) -> dict[str, Any]:
    markdown = row.edited_body if row.edited_body is not None else row.body
    title, _ = split_case(markdown)
    return {
        "match_id": row.match_id,
        "workshop_id": workshop_id,
        "title": title or row.title,
        "focus_area": row.focus_area,
        "status": row.status,
        "revision": row.revision,
        "edited": row.edited_body is not None,
        "created_at": row.created_at,
        "edited_by": row.edited_by,
        "edited_at": row.edited_at,
        "reviewed_by": row.reviewed_by,
        "reviewed_at": row.reviewed_at,
        "published_by": row.published_by,
        "published_at": row.published_at,
    }


def _read(row: CaseStudyRow, workshop_id: str) -> CaseStudyRead:
    markdown = row.edited_body if row.edited_body is not None else row.body
    return CaseStudyRead(**_summary(row, workshop_id), markdown=markdown, draft=row.body)


@outages_refused()
async def list_case_studies(
    sessions: async_sessionmaker[AsyncSession], *, filters: CaseStudyFilter | None = None
) -> CaseStudyList:
    """One page of the case studies that pass the filters, newest first."""
    filters = filters or CaseStudyFilter()
    async with sessions() as session:
        rows, total = await store.list_case_studies(
            session,
            status=filters.status,
            focus_area=filters.focus_area.value if filters.focus_area else None,
            workshop_id=filters.workshop,
            limit=filters.limit,
            offset=filters.offset,
        )
        items = [CaseStudySummary(**_summary(row, workshop)) for row, workshop in rows]
    return CaseStudyList(items=items, total=total, limit=filters.limit, offset=filters.offset)


@outages_refused()
async def get_case_study(
    sessions: async_sessionmaker[AsyncSession], *, match_id: str
) -> CaseStudyRead:
    """One case study with its Markdown and generated draft."""
    async with sessions() as session:
        found = await store.get_case_study(session, match_id=match_id)
        if found is None:
            raise CaseStudyNotFound(_missing(match_id))
        return _read(*found)


def _missing(match_id: str) -> str:
    return (
        f"no case study for match {match_id!r}: one is drafted only when a match is completed "
        "and its partners consented to publish"
    )


@outages_refused()
async def edit(
    sessions: async_sessionmaker[AsyncSession], *, match_id: str, change: CaseStudyEdit, actor: str
) -> CaseStudyRead:
    """Keep an edit made from the current revision; a reviewed case goes back to draft."""
    async with sessions() as session:
        kept = await store.edit_case_study(
            session,
            match_id=match_id,
            markdown=change.markdown,
            revision=change.revision,
            actor=actor,
            at=datetime.now(UTC),
        )
        if not kept:
            await _explain(session, match_id=match_id, revision=change.revision, doing="edit")
        await session.commit()
    return await get_case_study(sessions, match_id=match_id)


# what each move needs, what it leads to, and what to say when the status is not the one
MOVES: dict[str, tuple[CaseStatus, CaseStatus, str]] = {
    "review": ("draft", "reviewed", "only a draft can be marked reviewed"),
    "publish": ("reviewed", "published", "only a reviewed case study can be published"),
    "unpublish": ("published", "reviewed", "only a published case study can be unpublished"),
}


@outages_refused()
async def move(
    sessions: async_sessionmaker[AsyncSession],
    *,
    match_id: str,
    step: Literal["review", "publish", "unpublish"],
    actor: str,
    revision: int | None = None,
) -> CaseStudyRead:
    """Mark a draft reviewed, publish a reviewed case study or unpublish a published one (at
    ``revision`` if given)."""
    from_status, to_status, _ = MOVES[step]
    async with sessions() as session:
        moved = await store.move_case_study(
            session,
            match_id=match_id,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            at=datetime.now(UTC),
            revision=revision,
        )
        if not moved:
            await _explain(session, match_id=match_id, revision=revision, doing=step)
        await session.commit()
    return await get_case_study(sessions, match_id=match_id)


async def _explain(session: Any, *, match_id: str, revision: int | None, doing: str) -> None:
    """Raise the reason a change was not made: no such case study, a stale revision, or a
    status that does not allow it."""
    found = await store.get_case_study(session, match_id=match_id)
    if found is None:
        raise CaseStudyNotFound(_missing(match_id))
    row = found[0]
    if revision is not None and revision > row.revision:
        raise CaseStudyConflict(
            f"the case study has no revision {revision} (it is at revision {row.revision}); "
            f"read it again and redo your {doing} on the current text"
        )
    if revision is not None and row.revision != revision:
        who = f" by {row.edited_by}" if row.edited_by and row.edited_at else ""
        raise CaseStudyConflict(
            f"the case study changed since revision {revision} (now revision {row.revision}"
            f"{who}); read it again and redo your {doing} on the current text"
        )
    if doing == "edit":
        raise CaseStudyConflict(
            "a published case study is frozen: unpublish it first, then edit, review and "
            "publish it again"
        )
    message = MOVES[doing][2]
    raise CaseStudyConflict(f"{message}; this one is {row.status}")


@outages_refused()
async def staff_actor(sessions: async_sessionmaker[AsyncSession], *, email: str) -> str:
    """The actor a command-line user acts as: a user of the API with at least the staff role."""
    async with sessions() as session:
        user = await queries.get_user(session, email=normal_email(email))
    if user is None:
        raise AccessError(f"no user {email!r}; add one with `matchmaker users add`")
    if not Role(user.role).allows(Role.STAFF):
        raise AccessError(f"{user.email} is a {user.role}: changing case studies needs staff")
    return user.email


def _facts(row: CaseStudyRow, payload: dict[str, Any]) -> CaseFacts:
    markdown = row.edited_body if row.edited_body is not None else row.body
    facts = CaseFacts(
        match_id=row.match_id, title=row.title, focus_area=row.focus_area, markdown=markdown
    )
    try:
        eoi = ExpressionOfInterest.model_validate(payload)
    except ValueError:  # an EOI stored before a rule tightened: the Markdown stands alone
        return facts
    solution, adopter = eoi.solution, eoi.adopter
    return facts.model_copy(
        update={
            "solution": solution.title,
            "workshop": f"{eoi.workshop.title} ({eoi.workshop.date.isoformat()})",
            "provider": Partner(
                institution=solution.provider.name,
                country=country_name(solution.provider.country),
                contact=solution.contact.name,
                email=str(solution.contact.email),
            ),
            "adopter": Partner(
                institution=adopter.institution.name,
                country=country_name(adopter.institution.country),
                contact=adopter.contact.name,
                email=str(adopter.contact.email),
            ),
        }
    )


@outages_refused()
async def volume(sessions: async_sessionmaker[AsyncSession], *, today: date | None = None) -> str:
    """The volume of the published case studies, in Markdown."""
    async with sessions() as session:
        rows = await store.published_with_eois(session)
        cases = [_facts(row, payload) for row, payload in rows]
    return compile_volume(cases, compiled_on=today or datetime.now(UTC).date())
