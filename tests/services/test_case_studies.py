"""Case studies under review, on SQLite and PostgreSQL: the edit beside the generated draft,
the revision that refuses a stale edit, review and publication, and the volume."""

from datetime import date

import pytest

from domain.enums import FocusArea
from services import case_studies
from services.access import AccessError, add_user
from services.case_studies import CaseStudyEdit, CaseStudyFilter
from services.errors import CaseStudyConflict, CaseStudyNotFound
from store import writes
from tests.support import example_eoi, record_eoi, unique_eoi

DRAFT = "# Generated title\n\n## The match\nWhat happened.\n\n## Results\n- People reached: 10\n"
EDIT = "# Edited title\n\n## Context\nThe editor's words.\n\n## Results\n- People reached: 12\n"


async def drafted(sessions, *, eoi=None, body: str = DRAFT) -> str:  # type: ignore[no-untyped-def]
    """A match with its generated case study, as the workflow's activity stores it."""
    eoi = await record_eoi(sessions, eoi)
    async with sessions() as session:
        await writes.save_case_study(
            session,
            match_id=eoi.match_id,
            title="Generated title",
            focus_area=eoi.solution.focus_area.value,
            body=body,
        )
        await session.commit()
    return eoi.match_id


async def test_a_regenerated_draft_never_overwrites_an_edit(sessions):
    match_id = await drafted(sessions)
    change = CaseStudyEdit(markdown=EDIT, revision=1)
    edited = await case_studies.edit(sessions, match_id=match_id, change=change, actor="ana@x.org")
    # the workflow's activity runs again (a retry, a replay): same match, a new draft
    async with sessions() as session:
        _, created = await writes.save_case_study(
            session, match_id=match_id, title="Other", focus_area="future_of_work", body="# New\n"
        )
        await session.commit()
    assert not created
    after = await case_studies.get_case_study(sessions, match_id=match_id)
    assert after == edited
    assert (after.markdown, after.draft, after.title) == (EDIT, DRAFT, "Edited title")
    assert (after.edited_by, after.revision, after.edited) == ("ana@x.org", 2, True)


async def test_an_edit_from_an_old_revision_is_refused_and_changes_nothing(sessions):
    match_id = await drafted(sessions)
    first = CaseStudyEdit(markdown=EDIT, revision=1)
    await case_studies.edit(sessions, match_id=match_id, change=first, actor="ana@x.org")
    stale = CaseStudyEdit(markdown="# Lost\n", revision=1)
    with pytest.raises(CaseStudyConflict, match="changed since revision 1 .now revision 2"):
        await case_studies.edit(sessions, match_id=match_id, change=stale, actor="ben@x.org")
    case = await case_studies.get_case_study(sessions, match_id=match_id)
    assert (case.markdown, case.edited_by, case.revision) == (EDIT, "ana@x.org", 2)


async def test_review_publish_unpublish_and_an_edit_sends_a_reviewed_case_back(sessions):
    match_id = await drafted(sessions)
    with pytest.raises(CaseStudyConflict, match="only a reviewed case study can be published"):
        await case_studies.move(sessions, match_id=match_id, step="publish", actor="a@x.org")
    reviewed = await case_studies.move(sessions, match_id=match_id, step="review", actor="a@x.org")
    assert (reviewed.status, reviewed.reviewed_by, reviewed.revision) == ("reviewed", "a@x.org", 2)
    # an edit of the reviewed text needs a new review
    change = CaseStudyEdit(markdown=EDIT, revision=2)
    back = await case_studies.edit(sessions, match_id=match_id, change=change, actor="b@x.org")
    assert (back.status, back.reviewed_by, back.revision) == ("draft", None, 3)
    await case_studies.move(sessions, match_id=match_id, step="review", actor="a@x.org")
    with pytest.raises(CaseStudyConflict, match="changed since revision 3"):
        await case_studies.move(
            sessions, match_id=match_id, step="publish", actor="a@x.org", revision=3
        )
    published = await case_studies.move(
        sessions, match_id=match_id, step="publish", actor="c@x.org", revision=4
    )
    assert (published.status, published.published_by) == ("published", "c@x.org")
    assert published.published_at is not None and published.reviewed_by == "a@x.org"
    frozen = CaseStudyEdit(markdown="# Late\n", revision=5)
    with pytest.raises(CaseStudyConflict, match="published case study is frozen"):
        await case_studies.edit(sessions, match_id=match_id, change=frozen, actor="b@x.org")
    out = await case_studies.move(sessions, match_id=match_id, step="unpublish", actor="a@x.org")
    assert (out.status, out.published_by, out.markdown) == ("reviewed", None, EDIT)


async def test_an_unknown_case_study_is_named(sessions):
    with pytest.raises(CaseStudyNotFound, match="consented to publish"):
        await case_studies.get_case_study(sessions, match_id="match-nothing")
    with pytest.raises(CaseStudyNotFound):
        await case_studies.move(sessions, match_id="match-nothing", step="review", actor="a@x.org")


async def test_the_list_filters_and_pages(sessions):
    work = unique_eoi().model_copy(
        update={
            "solution": example_eoi().solution.model_copy(
                update={"focus_area": FocusArea.FUTURE_OF_WORK}
            )
        }
    )
    other = await drafted(sessions, eoi=work)
    first = await drafted(sessions)
    await case_studies.move(sessions, match_id=first, step="review", actor="a@x.org")
    everything = await case_studies.list_case_studies(sessions)
    assert everything.total == 2 and {c.match_id for c in everything.items} == {first, other}
    reviewed = await case_studies.list_case_studies(
        sessions, filters=CaseStudyFilter(status="reviewed")
    )
    assert [c.match_id for c in reviewed.items] == [first]
    by_area = await case_studies.list_case_studies(
        sessions, filters=CaseStudyFilter(focus_area=FocusArea.FUTURE_OF_WORK)
    )
    assert [c.match_id for c in by_area.items] == [other]
    workshop = example_eoi().workshop.id
    page = await case_studies.list_case_studies(
        sessions, filters=CaseStudyFilter(workshop=workshop, limit=1, offset=1)
    )
    assert (page.total, len(page.items), page.limit, page.offset) == (2, 1, 1, 1)
    none = await case_studies.list_case_studies(sessions, filters=CaseStudyFilter(workshop="x"))
    assert none.total == 0 and none.items == []


async def test_the_volume_holds_the_published_cases_only_with_their_contacts(sessions):
    published = await drafted(sessions, body=EDIT.replace("Edited title", "Published one"))
    await drafted(sessions, body=DRAFT.replace("Generated title", "Still a draft"))
    await case_studies.move(sessions, match_id=published, step="review", actor="a@x.org")
    await case_studies.move(sessions, match_id=published, step="publish", actor="a@x.org")
    text = await case_studies.volume(sessions, today=date(2026, 11, 23))
    assert "1 case study, compiled on 2026-11-23." in text
    assert "### 1. Published one" in text and "Still a draft" not in text
    eoi = example_eoi()
    assert f"{eoi.solution.contact.name} ({eoi.solution.contact.email})" in text
    assert "## Future of Public Service" in text


async def test_the_command_line_acts_as_a_staff_user_only(sessions):
    from domain.access import Role

    await add_user(sessions, email="ana@ssn4psi.org", name="Ana", role=Role.STAFF)
    await add_user(sessions, email="vic@ssn4psi.org", name="Vic", role=Role.VIEWER)
    assert await case_studies.staff_actor(sessions, email="Ana@SSN4PSI.org") == "ana@ssn4psi.org"
    with pytest.raises(AccessError, match="is a viewer"):
        await case_studies.staff_actor(sessions, email="vic@ssn4psi.org")
    with pytest.raises(AccessError, match="no user"):
        await case_studies.staff_actor(sessions, email="someone@ssn4psi.org")


async def test_migration_0005c_keeps_the_drafts_already_written(sessions, database_url):
    """Down to 0004 and up again: a draft written before the migration reads as a draft at
    revision 1, not edited; the downgrade keeps the draft itself."""
    import asyncio

    from alembic import command
    from sqlalchemy import text

    from store.engine import alembic_config

    match_id = await drafted(sessions)
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0004")
    async with sessions() as session:
        body = (
            await session.execute(
                text("SELECT body FROM case_studies WHERE match_id = :m"), {"m": match_id}
            )
        ).scalar_one()
    assert body == DRAFT
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "head")
    case = await case_studies.get_case_study(sessions, match_id=match_id)
    assert (case.status, case.revision, case.edited, case.markdown) == ("draft", 1, False, DRAFT)


async def test_the_workflows_activity_drafting_again_leaves_the_edit(sessions):
    """The activity of a completed, consented match, run again after an edit (a retry, or the
    workflow replayed on another worker), keeps the Secretariat's text and status."""
    from temporalio.testing import ActivityEnvironment

    from activities.contracts import DraftCaseStudyInput
    from activities.records import MatchRecords
    from tests.domain.test_case_study import complete, visited

    driver = visited(2)
    body = complete(driver)
    state = driver.state
    await record_eoi(sessions, state.eoi)
    draft = DraftCaseStudyInput(state=state, title="Generated", body=body)
    first = await ActivityEnvironment().run(MatchRecords(sessions).draft_case_study, draft)
    assert first.created
    change = CaseStudyEdit(markdown=EDIT, revision=1)
    await case_studies.edit(sessions, match_id=state.match_id, change=change, actor="a@x.org")
    await case_studies.move(sessions, match_id=state.match_id, step="review", actor="a@x.org")
    again = await ActivityEnvironment().run(MatchRecords(sessions).draft_case_study, draft)
    assert not again.created and again.case_study_id == first.case_study_id
    case = await case_studies.get_case_study(sessions, match_id=state.match_id)
    assert (case.markdown, case.draft, case.status, case.revision) == (EDIT, body, "reviewed", 3)
