"""The console's uploads: a workshop file checked, held for its confirmation, then its import's
progress, all in the database, so that whichever API replica a request reaches finds them.

The import itself runs as a task of the replica that started it. That task writes its counts
every ``BEAT_SECONDS``: the write is its heartbeat. An import whose heartbeat is older than
``STALLED_AFTER`` lost its replica (stopped or killed); its page says so instead of waiting
for ever, and importing the same file again starts the rest (rows already started are
recognised). Uploads not written for ``HOLD`` are deleted by the next upload."""

import asyncio
import contextlib
import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.imports import ParsedImport
from services import imports
from services.backend import Backend
from services.imports import Format, ImportRowResult, ImportSummary
from services.outages import outages_refused
from store import uploads as store
from store.tables import ConsoleUploadRow
from store.units import run_unit

logger = structlog.get_logger()

HOLD = timedelta(minutes=30)  # an upload (or a finished import) is kept this long
HELD_MAX = 20  # uploads held at once, besides imports running (the oldest goes first)
BEAT_SECONDS = 2.0
STALLED_AFTER = timedelta(seconds=30)
NAME_MAX = 200


@dataclass(frozen=True)
class HeldUpload:
    """An upload as a page shows it: the file, and where its import stands."""

    id: str
    name: str
    format: str
    digest: str
    size: int
    state: str  # checked, running, done or failed
    to_start: int
    done: int
    started: int
    already_present: int
    refused: int
    workshop_id: str | None
    summary: ImportSummary | None
    failure: str | None
    updated_at: datetime
    parsed: ParsedImport | None = None  # read only when asked for

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def stalled(self, now: datetime | None = None) -> bool:
        """Whether a running import stopped writing: the replica running it is gone."""
        now = now or datetime.now(UTC)
        return self.state == "running" and now - self.updated_at > STALLED_AFTER


def owner_of(csrf_secret: str) -> str:
    """Who may see an upload: the uploading session (the SHA-256 of its CSRF secret)."""
    return hashlib.sha256(csrf_secret.encode()).hexdigest()


def _view(row: ConsoleUploadRow, *, with_rows: bool) -> HeldUpload:
    return HeldUpload(
        id=row.id,
        name=row.name,
        format=row.format,
        digest=row.digest,
        size=row.size,
        state=row.state,
        to_start=row.to_start,
        done=row.done,
        started=row.started,
        already_present=row.already_present,
        refused=row.refused,
        workshop_id=row.workshop_id,
        summary=None if row.summary is None else ImportSummary.model_validate(row.summary),
        failure=row.failure,
        updated_at=row.updated_at,
        parsed=ParsedImport.model_validate(row.parsed) if with_rows else None,
    )


@outages_refused()
async def hold(
    sessions: async_sessionmaker[AsyncSession],
    *,
    owner: str,
    name: str,
    fmt: Format,
    data: bytes,
    parsed: ParsedImport,
) -> HeldUpload:
    """Keep a checked file for its owner's confirmation (clearing out old uploads)."""
    now = datetime.now(UTC)
    values = {
        "id": secrets.token_urlsafe(16),
        "owner": owner,
        "name": name[:NAME_MAX],
        "format": fmt,
        "digest": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "parsed": parsed.model_dump(mode="json"),
        "workshop_id": parsed.rows[0].eoi.workshop.id if parsed.rows else None,
        "state": "checked",
        "to_start": len(parsed.rows),
        "done": 0,
        "started": 0,
        "already_present": 0,
        "refused": 0,
        "held_at": now,
        "updated_at": now,
    }

    async def work(session: AsyncSession) -> None:
        await store.forget_uploads(session, before=now - HOLD)
        await store.add_upload(session, keep=HELD_MAX, **values)

    await run_unit(sessions, work)
    row = ConsoleUploadRow(**values)
    return _view(row, with_rows=False)


@outages_refused()
async def held(
    sessions: async_sessionmaker[AsyncSession],
    *,
    upload_id: str,
    owner: str,
    with_rows: bool = False,
) -> HeldUpload | None:
    """An upload of that owner (None for an unknown id, an expired one or another's)."""
    async with sessions() as session:
        row = await store.get_upload(session, upload_id=upload_id, with_rows=with_rows)
        if row is None or not secrets.compare_digest(row.owner, owner):
            return None
        if datetime.now(UTC) - row.updated_at > HOLD:
            return None  # deleted by the next upload
        return _view(row, with_rows=with_rows)


@outages_refused()
async def claim(sessions: async_sessionmaker[AsyncSession], *, upload_id: str, owner: str) -> bool:
    """Take a checked upload's import for this replica; False when one was already started."""

    async def work(session: AsyncSession) -> bool:
        return await store.claim_upload(
            session, upload_id=upload_id, owner=owner, now=datetime.now(UTC)
        )

    return await run_unit(sessions, work)


def _counts(done: list[ImportRowResult]) -> dict[str, int]:
    outcomes = Counter(result.outcome for result in done)
    return {
        "done": len(done),
        "started": outcomes["started"],
        "already_present": outcomes["already_present"],
        "refused": outcomes["refused"],
    }


async def _write(
    sessions: async_sessionmaker[AsyncSession], upload_id: str, **values: object
) -> None:
    async def work(session: AsyncSession) -> None:
        await store.save_progress(session, upload_id=upload_id, now=datetime.now(UTC), **values)

    await run_unit(sessions, work)


async def run_import(
    backend: Backend,
    *,
    upload_id: str,
    parsed: ParsedImport,
    skip_invalid: bool,
    beat_seconds: float = BEAT_SECONDS,
) -> None:
    """Import a claimed upload, writing its counts every ``beat_seconds`` and its end."""
    done: list[ImportRowResult] = []

    async def beat() -> None:
        while True:
            await asyncio.sleep(beat_seconds)
            try:
                await _write(backend.sessions, upload_id, **_counts(done))
            except Exception as exc:  # noqa: BLE001 - the next beat tries again
                logger.warning("console import progress not written", error=type(exc).__name__)

    beating = asyncio.create_task(beat())
    end: dict[str, object]
    try:
        summary = await imports.import_file(
            backend, parsed=parsed, skip_invalid=skip_invalid, on_row=done.append
        )
        end = {"state": "done", "summary": summary.model_dump(mode="json")}
    except imports.ImportInvalid as exc:
        end = {"state": "failed", "failure": str(exc)}
    except Exception as exc:  # noqa: BLE001 - the page says it; the log has the kind
        logger.warning("console import failed", error=type(exc).__name__)
        end = {"state": "failed", "failure": f"The import stopped: {exc}"}
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating  # no count of an earlier beat lands after the end
    await _finish(backend.sessions, upload_id, {**_counts(done), **end}, beat_seconds)


async def _finish(
    sessions: async_sessionmaker[AsyncSession],
    upload_id: str,
    values: dict[str, object],
    pause: float,
) -> None:
    """Write the import's end; while the database is down, try again for a while (meanwhile
    its page shows it running, then stalled)."""
    for attempt in range(1, 31):
        try:
            await _write(sessions, upload_id, **values)
            return
        except Exception as exc:  # noqa: BLE001 - told in the log, tried again
            logger.warning(
                "console import end not written", error=type(exc).__name__, attempt=attempt
            )
            await asyncio.sleep(pause)
