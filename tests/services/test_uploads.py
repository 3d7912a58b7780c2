"""The console's uploads in the database (SQLite and PostgreSQL): found by their owner alone
and read back whole, the newest kept, claimed once whichever replica asks, the import's
progress and end written as it runs, an import whose replica stopped seen as stalled."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from services import uploads
from services.imports import ImportRowResult, ImportSummary, validate
from store.tables import ConsoleUploadRow
from tests.support import EXAMPLES, wait_for

OWNER = uploads.owner_of("the session's csrf secret")


def workshop() -> bytes:
    prefix = f"U{uuid.uuid4().hex[:6]}"
    return (EXAMPLES / "workshop-2024.csv").read_text().replace("BK24-", f"{prefix}-").encode()


async def _hold(sessions, owner: str = OWNER) -> uploads.HeldUpload:  # type: ignore[no-untyped-def]
    data = workshop()
    return await uploads.hold(
        sessions, owner=owner, name="bangkok.csv", fmt="csv", data=data, parsed=validate(data)
    )


async def _age(sessions, upload_id: str, by: timedelta) -> None:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        await session.execute(
            update(ConsoleUploadRow)
            .where(ConsoleUploadRow.id == upload_id)
            .values(updated_at=datetime.now(UTC) - by)
        )
        await session.commit()


async def test_an_upload_is_found_by_its_owner_alone_and_read_back_whole(sessions):
    data = workshop()
    parsed = validate(data)
    held = await uploads.hold(
        sessions, owner=OWNER, name="bangkok.csv", fmt="csv", data=data, parsed=parsed
    )
    found = await uploads.held(sessions, upload_id=held.id, owner=OWNER, with_rows=True)
    assert found is not None and found.parsed == parsed
    assert (found.name, found.size, found.state, found.to_start) == (
        "bangkok.csv",
        len(data),
        "checked",
        4,
    )
    assert found.workshop_id == "ws-2024-bangkok" and found.digest == held.digest
    assert (await uploads.held(sessions, upload_id=held.id, owner=OWNER)).parsed is None  # type: ignore[union-attr]
    assert await uploads.held(sessions, upload_id=held.id, owner=uploads.owner_of("other")) is None
    assert await uploads.held(sessions, upload_id="no-such-upload", owner=OWNER) is None


async def test_the_newest_uploads_are_held_and_old_ones_expire(sessions, monkeypatch):
    monkeypatch.setattr(uploads, "HELD_MAX", 3)
    first, second = await _hold(sessions), await _hold(sessions)
    assert await uploads.claim(sessions, upload_id=first.id, owner=OWNER)  # running: kept
    for _ in range(3):
        await _hold(sessions)
    assert await uploads.held(sessions, upload_id=first.id, owner=OWNER) is not None
    assert await uploads.held(sessions, upload_id=second.id, owner=OWNER) is None
    await _age(sessions, first.id, uploads.HOLD + timedelta(seconds=1))
    assert await uploads.held(sessions, upload_id=first.id, owner=OWNER) is None


async def test_an_import_is_claimed_once_whichever_replica_asks(replicas):
    held = await _hold(replicas[0])
    claims = await asyncio.gather(
        *(uploads.claim(replicas[n % 2], upload_id=held.id, owner=OWNER) for n in range(6))
    )
    assert claims.count(True) == 1
    assert not await uploads.claim(replicas[0], upload_id=held.id, owner=uploads.owner_of("x"))


async def test_the_import_writes_its_progress_as_it_runs_then_its_end(sessions, monkeypatch):
    held = await _hold(sessions)
    release = asyncio.Event()

    async def import_file(backend, *, parsed, skip_invalid, on_row):  # type: ignore[no-untyped-def]
        for row in parsed.rows[:3]:
            on_row(ImportRowResult(line=row.line, eoi_id=row.eoi.id, outcome="started"))
        await release.wait()
        on_row(ImportRowResult(line=5, outcome="refused", reason="the workflow service is down"))
        return ImportSummary(format="csv", dry_run=False, rows=4, started=3, refused=1)

    monkeypatch.setattr(uploads.imports, "import_file", import_file)
    backend = type("Backend", (), {"sessions": sessions})()
    assert await uploads.claim(sessions, upload_id=held.id, owner=OWNER)
    run = asyncio.create_task(
        uploads.run_import(
            backend,
            upload_id=held.id,
            parsed=validate(workshop()),
            skip_invalid=False,
            beat_seconds=0.05,
        )
    )

    async def read() -> uploads.HeldUpload:
        found = await uploads.held(sessions, upload_id=held.id, owner=OWNER)
        assert found is not None
        return found

    running = await wait_for(lambda: _when(read(), lambda h: h.done == 3))
    assert running.state == "running" and running.started == 3 and not running.finished
    assert not running.stalled()
    release.set()
    await run
    done = await read()
    assert (done.state, done.done, done.started, done.refused) == ("done", 4, 3, 1)
    assert done.finished and done.summary is not None and done.summary.refused == 1


async def test_a_failed_import_says_why(sessions, monkeypatch):
    held = await _hold(sessions)

    async def import_file(backend, **_):  # type: ignore[no-untyped-def]
        raise RuntimeError("the sky fell")

    monkeypatch.setattr(uploads.imports, "import_file", import_file)
    await uploads.claim(sessions, upload_id=held.id, owner=OWNER)
    backend = type("Backend", (), {"sessions": sessions})()
    await uploads.run_import(
        backend, upload_id=held.id, parsed=validate(workshop()), skip_invalid=False
    )
    failed = await uploads.held(sessions, upload_id=held.id, owner=OWNER)
    assert failed is not None and failed.state == "failed"
    assert failed.failure == "The import stopped: the sky fell"


async def test_an_import_whose_replica_went_quiet_is_stalled(sessions):
    held = await _hold(sessions)
    await uploads.claim(sessions, upload_id=held.id, owner=OWNER)
    fresh = await uploads.held(sessions, upload_id=held.id, owner=OWNER)
    assert fresh is not None and not fresh.stalled()
    await _age(sessions, held.id, uploads.STALLED_AFTER + timedelta(seconds=1))
    quiet = await uploads.held(sessions, upload_id=held.id, owner=OWNER)
    assert quiet is not None and quiet.stalled() and not quiet.finished
    checked = await _hold(sessions)
    await _age(sessions, checked.id, uploads.STALLED_AFTER + timedelta(seconds=1))
    assert not (await uploads.held(sessions, upload_id=checked.id, owner=OWNER)).stalled()  # type: ignore[union-attr]


async def _when(value, condition):  # type: ignore[no-untyped-def]
    found = await value
    return found if condition(found) else None
