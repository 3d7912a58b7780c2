"""The Temporal dev server process stopped (SIGTERM) and started again on the same SQLite file
and port, with open matches: every match takes an action afterwards, none emails twice."""

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from domain.lifecycle import events as ev
from services import steering
from services.intake import submit_eoi
from tests.reliability.harness import (
    MailServer,
    TemporalServer,
    Worker,
    backend_of,
    eoi_for,
    history_rows,
    matchmaker_env,
    outbox,
    seconds,
)
from tests.support import migrated_postgres, wait_for

pytestmark = pytest.mark.reliability

MATCHES = 30
ACT_TIMEOUT = 60  # per action, after the restart


async def test_open_matches_are_steerable_after_the_temporal_server_restarts(
    tmp_path: Path, postgres, figures
):
    server = TemporalServer(tmp_path, db_file=tmp_path / "temporal.db", name="temporal-restarted")
    mail = MailServer().start()
    database_url = await migrated_postgres(postgres)
    task_queue = f"rel-restart-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        tmp_path,
        matchmaker_env(
            temporal_target=server.target,
            task_queue=task_queue,
            database_url=database_url,
            smtp_port=mail.port,
        ),
    )
    try:
        server.start()
        client = await server.ready()
        worker.start()
        await worker.ready()
        async with backend_of(client, database_url, task_queue) as backend:
            match_ids = [
                (await submit_eoi(backend, eoi=eoi_for(f"T{i}"))).match_id for i in range(MATCHES)
            ]

            async def introduced():  # every match recorded and its two emails sent
                rows = await outbox(backend, match_ids)
                return len(rows) == 2 * MATCHES and all(r.status == "sent" for r in rows)

            await wait_for(introduced, timeout=120, interval=0.5)
            sent_before = len(mail.handler.delivered())

            stopping = time.monotonic()
            code = await server.astop(timeout=60)
            stopped = time.monotonic()
            server.start()
            await server.ready()  # the same file and port
            up = time.monotonic()
            worker_survived = worker.alive
            if not worker_survived:
                worker.start()
                await worker.ready()

            async def note(match_id: str) -> float | str:
                action = ev.AddNote(text="Checked after the Temporal restart", by="ana")
                try:
                    await asyncio.wait_for(
                        steering.act(backend, match_id=match_id, action=action, by="reliability"),
                        timeout=ACT_TIMEOUT,
                    )
                except Exception as exc:  # noqa: BLE001 - counted and named below
                    return f"{type(exc).__name__}: {exc}"[:200]
                return time.monotonic() - up

            outcomes = await asyncio.gather(*(note(m) for m in match_ids))
            acted = time.monotonic()
            steerable = [o for o in outcomes if isinstance(o, float)]
            failures = [o for o in outcomes if isinstance(o, str)]

            async def notes_recorded():
                for match_id in match_ids:
                    kinds = [r.kind for r in await history_rows(backend, match_id)]
                    if "note" not in kinds:
                        return False
                return True

            with_notes = await wait_for(notes_recorded, timeout=60, interval=0.5)
            copies = mail.handler.copies()
            figures.update(
                matches=MATCHES,
                server_stop_s=round(stopped - stopping, 1),
                server_exit_code=code,
                server_down_to_up_s=round(up - stopped, 1),
                worker_survived_the_restart=worker_survived,
                steerable=f"{len(steerable)}/{MATCHES}",
                up_to_action_accepted_s=seconds(steerable),
                up_to_all_actions_s=round(acted - up, 1),
                failures=failures[:3],
                notes_recorded=bool(with_notes),
                emails_before=sent_before,
                emails_received_twice=sum(c > 1 for c in copies.values()),
            )
            assert len(steerable) == MATCHES, failures[:3]
            assert len(mail.handler.delivered()) == sent_before  # a note sends nothing
            assert all(c == 1 for c in copies.values())
    finally:
        await asyncio.gather(worker.astop(), server.astop())
        mail.stop()
