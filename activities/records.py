"""Activities that record matches and their history in the database."""

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity

from activities.contracts import (
    RecordHistoryInput,
    RecordHistoryResult,
    RecordMatchInput,
    RecordMatchResult,
)
from activities.store import repository

logger = structlog.get_logger()


class MatchRecords:
    """Writes the read model; every method is one unit of work with one commit, and idempotent."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    @activity.defn
    async def record_match(self, data: RecordMatchInput) -> RecordMatchResult:
        """Store the EOI, its reference data, the match and its first history entry."""
        match_id = data.eoi.match_id
        log = logger.bind(workflow_id=data.workflow_id, match_id=match_id)
        async with self._sessions() as session:
            await repository.save_eoi(session, eoi=data.eoi)
            created = await repository.create_match(
                session,
                eoi=data.eoi,
                workflow_id=data.workflow_id,
                stage=data.stage,
                status=data.status,
                next_deadline=data.next_deadline,
            )
            await repository.append_history(
                session, match_id=match_id, **data.first_entry.model_dump()
            )
            await session.commit()
        log.info("match recorded", created=created)
        return RecordMatchResult(created=created)

    @activity.defn
    async def record_history(self, data: RecordHistoryInput) -> RecordHistoryResult:
        """Append one history entry and move the match's current state with it."""
        log = logger.bind(workflow_id=activity.info().workflow_id, match_id=data.match_id)
        async with self._sessions() as session:
            appended = await repository.append_history(
                session, match_id=data.match_id, **data.entry.model_dump()
            )
            await repository.update_match(
                session,
                match_id=data.match_id,
                stage=data.stage,
                status=data.status,
                next_deadline=data.next_deadline,
                close_reason=data.close_reason,
            )
            await session.commit()
        log.info("history recorded", seq=data.entry.seq, kind=data.entry.kind, appended=appended)
        return RecordHistoryResult(appended=appended)
