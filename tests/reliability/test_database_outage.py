"""PostgreSQL stopped and started again under the worker and API processes: answers and
actions still return meanwhile (they are Temporal updates), reads say the database is
unavailable, and once it is back every decision the workflows made is in match_history."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from services import steering
from tests.reliability.conftest import figures_for
from tests.reliability.harness import (
    Api,
    Figures,
    MailServer,
    Worker,
    backend_of,
    eoi_for,
    history_rows,
    matchmaker_env,
    outbox,
    pg_start,
    pg_stop,
    seconds,
)
from tests.support import migrated_postgres, start_postgres, wait_for

pytestmark = pytest.mark.reliability

MATCHES = 6


@dataclass
class Call:
    what: str
    status: int
    seconds: float
    body: str = ""


@dataclass
class Read:
    status: int | str  # the HTTP status, or the error when no answer came
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


async def _read(api: Api, url: str, method: str = "GET", body: Any = None) -> Read:
    """One request on a connection of its own (a failed request may close a kept one)."""
    async with httpx.AsyncClient(base_url=api.url, headers=api.headers, timeout=60) as http:
        try:
            response = await http.request(method, url, json=body)
        except httpx.HTTPError as exc:
            return Read(status=f"{type(exc).__name__}: no answer")
    try:
        content = response.json()
    except ValueError:
        content = response.text[:300]
    return Read(status=response.status_code, headers=dict(response.headers), body=content)


@dataclass
class Outage:
    match_ids: list[str]
    during: list[Call] = field(default_factory=list)  # answers and actions
    reads: dict[str, Read] = field(default_factory=dict)
    lost: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    entries: int = 0
    list_after: int | None = None
    emails: dict[str, str] = field(default_factory=dict)  # business key → status
    copies: list[int] = field(default_factory=list)  # copies received of each
    figures: Figures | None = None


async def _post(http: httpx.AsyncClient, what: str, url: str, body: dict[str, Any]) -> Call:
    started = time.monotonic()
    response = await http.post(url, json=body)
    return Call(what, response.status_code, time.monotonic() - started, response.text[:300])


async def _prompt(http: httpx.AsyncClient, match_id: str, party: str) -> str:
    state = (await http.get(f"/api/matches/{match_id}/state")).json()
    [prompt] = [p for p in state["prompts"] if p["party"] == party and p["status"] == "open"]
    return prompt["id"]


async def _act_meanwhile(http: httpx.AsyncClient, match_ids: list[str]) -> list[Call]:
    """A partner's answer and a Secretariat action on each match: one declines, one is
    paused, the others go on to the field visit (an email to send), each with a note."""
    calls = []
    for i, match_id in enumerate(match_ids):
        base = f"/api/matches/{match_id}"
        adopter = await _prompt(http, match_id, "adopter")
        decision = {"decision": "decline", "reason": "no budget this year"} if i == 0 else {}
        answer = {"kind": "introduction_adopter", "decision": "confirm", "needs": "rural access"}
        calls.append(
            await _post(
                http,
                "adopter answers",
                f"{base}/answers",
                {"prompt_id": adopter, "party": "adopter", "answer": {**answer, **decision}},
            )
        )
        if i == 0:
            continue
        if i == 1:
            body = {"reason": "elections in the adopter country", "by": "ana"}
            calls.append(await _post(http, "pause", f"{base}/actions/pause", body))
        else:
            provider = await _prompt(http, match_id, "provider")
            body = {
                "prompt_id": provider,
                "party": "provider",
                "answer": {"kind": "introduction_provider", "decision": "accept"},
            }
            calls.append(await _post(http, "provider answers", f"{base}/answers", body))
        body = {"text": f"Called the partners during the outage ({i})", "by": "ana"}
        calls.append(await _post(http, "note", f"{base}/actions/note", body))
    return calls


def _failed(worker: Worker, since: int, attempts: dict[str, int]) -> bool:
    """Has the worker logged, since ``since``, each activity type failing its given attempt?"""
    failed = {
        kind
        for line in worker.output()[since:].splitlines()
        if "Completing activity as failed" in line
        for kind, attempt in attempts.items()
        if f"'activity_type': '{kind}', 'attempt': {attempt}," in line
    }
    return failed == set(attempts)


async def _missing(backend, match_ids: list[str]) -> tuple[dict[str, list[tuple[int, str]]], int]:
    """Each match's history entries (seq, kind) that the workflow holds and the table lacks."""
    missing, entries = {}, 0
    for match_id in match_ids:
        state = await steering.live_state(backend, match_id=match_id)
        held = {(h.seq, h.kind) for h in state.history}
        rows = {(r.seq, r.kind) for r in await history_rows(backend, match_id)}
        entries += len(held)
        if held - rows:
            missing[match_id] = sorted(held - rows)
    return missing, entries


@pytest.fixture(scope="module")
async def outage(
    reliability_dir: Path, temporal_server, temporal_client, tmp_path_factory
) -> AsyncIterator[Outage]:
    """Run the whole scenario once; the tests below look at what it observed."""
    server = start_postgres()  # a cluster of its own: it is stopped and started
    if server is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    directory = reliability_dir / "database-outage"
    directory.mkdir()
    figures = figures_for("database_outage", directory, tmp_path_factory)
    mail = MailServer().start()
    database_url = await migrated_postgres(server)
    task_queue = f"rel-db-{uuid.uuid4().hex[:8]}"
    env = matchmaker_env(
        temporal_target=temporal_server.target,
        task_queue=task_queue,
        database_url=database_url,
        smtp_port=mail.port,
    )
    worker, api = Worker(directory, env), Api(directory, env)
    try:
        worker.start()
        api.start()
        await asyncio.gather(worker.ready(), api.ready())
        async with (
            backend_of(temporal_client, database_url, task_queue) as backend,
            httpx.AsyncClient(base_url=api.url, headers=api.headers, timeout=60) as http,
        ):
            match_ids = []
            for _ in range(MATCHES):
                created = await http.post("/api/eois", json=eoi_for("D").model_dump(mode="json"))
                assert created.status_code == 201, created.text
                match_ids.append(created.json()["match_id"])

            async def settled() -> bool:  # recorded, and the introductions sent
                rows = await outbox(backend, match_ids)
                sent = len(rows) == 2 * MATCHES and all(r.status == "sent" for r in rows)
                return sent and not (await _missing(backend, match_ids))[0]

            # (an email the server takes just before the database stops is sent again: its
            # 'sent' cannot be recorded; this scenario is about what happens during the outage)
            await wait_for(settled, timeout=60)
            result = Outage(match_ids=match_ids, figures=figures)
            since = len(worker.output())
            await asyncio.to_thread(pg_stop, server)
            stopped = time.monotonic()
            try:
                result.during = await _act_meanwhile(http, match_ids)
                for name, url in (
                    ("list", "/api/matches"),
                    ("detail", f"/api/matches/{match_ids[0]}"),
                    ("state", f"/api/matches/{match_ids[-1]}/state"),
                    ("healthz", "/healthz"),
                ):
                    result.reads[name] = await _read(api, url)
                late = eoi_for("D-late")
                result.reads["submit"] = await _read(
                    api, "/api/eois", "POST", late.model_dump(mode="json")
                )
                match_ids.append(late.match_id)  # started, whatever the read model said
                # the worker meets the outage: recording a decision fails, and its retry
                # too; claiming an email fails
                await wait_for(
                    lambda: _failed(worker, since, {"record_history": 2, "send_email": 1}),
                    timeout=60,
                    interval=0.2,
                )
            finally:
                await asyncio.to_thread(pg_start, server)
            restarted = time.monotonic()

            async def all_recorded() -> bool:
                result.lost, result.entries = await _missing(backend, match_ids)
                return not result.lost

            with contextlib.suppress(TimeoutError):  # the tests name what is missing
                await wait_for(all_recorded, timeout=120, interval=0.5)
            recovered = time.monotonic()

            async def listed() -> bool:
                status = (await _read(api, "/api/matches")).status
                result.list_after = status if isinstance(status, int) else None
                return status == 200

            with contextlib.suppress(TimeoutError):
                await wait_for(listed, timeout=60, interval=0.5)

            async def emails_sent() -> bool:
                rows = await outbox(backend, match_ids)
                result.emails = {r.business_key: r.status for r in rows}
                copies = mail.handler.copies()
                result.copies = [copies[r.message_id] for r in rows]
                return all(r.status == "sent" for r in rows)

            with contextlib.suppress(TimeoutError):
                await wait_for(emails_sent, timeout=90, interval=0.5)
            sent = time.monotonic()
            figures.update(
                matches=len(match_ids),
                database_down_s=round(restarted - stopped, 1),
                calls_during_outage=len(result.during),
                calls_answered_200=sum(c.status == 200 for c in result.during),
                call_seconds=seconds([c.seconds for c in result.during]),
                reads_during_outage={k: r.status for k, r in result.reads.items()},
                list_retry_after=result.reads["list"].headers.get("retry-after"),
                history_entries=result.entries,
                history_entries_lost=sum(len(v) for v in result.lost.values()),
                restart_to_all_recorded_s=round(recovered - restarted, 1),
                list_after_restart=result.list_after,
                emails=len(result.emails),
                emails_sent=sum(v == "sent" for v in result.emails.values()),
                emails_received_twice=sum(c > 1 for c in result.copies),
                restart_to_all_emails_sent_s=round(sent - restarted, 1),
            )
            yield result
    finally:
        await asyncio.gather(worker.astop(), api.astop())
        mail.stop()
        server.stop()
        figures.show()


def test_answers_and_actions_return_during_the_outage(outage: Outage):
    refused = [c for c in outage.during if c.status != 200]
    assert not refused, refused
    assert len(outage.during) == 3 * MATCHES - 2


def test_the_live_state_answers_during_the_outage(outage: Outage):
    assert outage.reads["state"].status == 200


def test_health_says_the_database_is_unreachable(outage: Outage):
    health = outage.reads["healthz"]
    assert health.status == 503
    assert health.body["database"].startswith("unreachable")
    assert health.body["temporal"] == "ok"


def test_reading_matches_answers_503_during_the_outage(outage: Outage):
    assert outage.reads["list"].status == 503
    assert outage.reads["detail"].status == 503


def test_no_history_entry_is_lost(outage: Outage):
    assert outage.lost == {}
    assert outage.entries > 0
    # the EOI submitted during the outage is a match, recorded by its workflow
    assert len(outage.match_ids) == MATCHES + 1


def test_the_api_reads_again_once_the_database_is_back(outage: Outage):
    assert outage.list_after == 200


def test_every_email_goes_out_once_the_database_is_back(outage: Outage):
    assert [k for k, status in outage.emails.items() if status != "sent"] == []
    assert "visit_proposal" in " ".join(outage.emails)  # decided during the outage
    assert set(outage.copies) == {1}
