"""Activities that record matches, their history and case studies in the database."""

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.case_study import render_case_study
from activities.contracts import (
    DraftCaseStudyInput,
    DraftCaseStudyResult,
    RecordHistoryInput,
    RecordHistoryResult,
    RecordMatchInput,
    RecordMatchResult,
)
from activities.failures import database_errors
from domain.policy import SECONDS_PER_DAY
from store import writes as repository

logger = structlog.get_logger()


class MatchRecords:
    """Writes the read model; every method is one unit of work with one commit, and idempotent."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, day_seconds: float = SECONDS_PER_DAY
    ) -> None:
        self._sessions = sessions
        self._day_seconds = day_seconds  # days in stage are the stack's calendar days

    @activity.defn
    async def record_match(self, data: RecordMatchInput) -> RecordMatchResult:
        """Store the EOI, its reference data, the match and its first history entries."""
        match_id = data.eoi.match_id
        log = logger.bind(workflow_id=data.workflow_id, match_id=match_id)
        with database_errors("recording the match"):
            async with self._sessions() as session:
                created = await repository.create_match(
                    session,
                    eoi=data.eoi,
                    workflow_id=data.workflow_id,
                    stage=data.snapshot.stage,
                    status=data.snapshot.status,
                    next_deadline=data.snapshot.next_deadline,
                )
                # the workflow's position, whether intake showed the match first or not (the
                # row as created knows neither whom the match waits on nor its attention)
                await repository.record_step(
                    session,
                    match_id=match_id,
                    entries=[e.model_dump() for e in data.entries],
                    **data.snapshot.model_dump(),
                    day_seconds=self._day_seconds,
                )
                await session.commit()
        log.info("match recorded", created=created)
        return RecordMatchResult(created=created)

    @activity.defn
    async def record_history(self, data: RecordHistoryInput) -> RecordHistoryResult:
        """Append history entries and move the match's current state with them."""
        log = logger.bind(workflow_id=activity.info().workflow_id, match_id=data.match_id)
        with database_errors("recording the history"):
            async with self._sessions() as session:
                appended = await repository.record_step(
                    session,
                    match_id=data.match_id,
                    entries=[e.model_dump() for e in data.entries],
                    **data.snapshot.model_dump(),
                    day_seconds=self._day_seconds,
                )
                await session.commit()
        log.info(
            "history recorded",
            kinds=[e.kind for e in data.entries],
            appended=appended,
            stage=data.snapshot.stage,
            status=data.snapshot.status,
        )
        return RecordHistoryResult(appended=appended)

    @activity.defn
    async def draft_case_study(self, data: DraftCaseStudyInput) -> DraftCaseStudyResult:
        """Draft a case study for The South-South Matchmaker from a completed match."""
        state = data.state
        log = logger.bind(workflow_id=activity.info().workflow_id, match_id=state.match_id)
        title, body = (data.title, data.body) if data.body else render_case_study(state)
        with database_errors("drafting the case study"):
            async with self._sessions() as session:
                case_id, created = await repository.save_case_study(
                    session,
                    match_id=state.match_id,
                    title=title,
                    focus_area=state.eoi.solution.focus_area.value,
                    body=body,
                )
                await session.commit()
        log.info("case study drafted", case_study_id=case_id, created=created)
        return DraftCaseStudyResult(case_study_id=case_id, created=created)
