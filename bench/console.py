"""The Secretariat's console at scale: its pages rendered over N matches (10,000 by default).

Seeds the matches as bench/monitor.py does (bench/seed.py) (straight into the store), gives the match that is
timed a timeline of 30 entries and 10 emails, signs a staff user in (a real console session,
its cookie on every request), then renders each page through the real ASGI app in process
(httpx ASGITransport): the overview (summary, funnels, attention, stalled; once with the
funnels kept, once after a match changed), the matches list with typical filters, a match page
(its live state asked of a Temporal test server, which answers that the workflow is not there:
a seeded match has none) and an action form. Each case ``--repeat`` times after 2 warm-up
requests; min / p50 / p99 in ms, and the median CPU time of this process per request (the
database server's is not in it); the target is p99 ≤ 200 ms per page. The load average is
printed: on a shared machine the p99 is mostly waiting for a core.

    uv run python bench/console.py                       # 10,000 matches, both databases
    uv run python bench/console.py --matches 1000 --repeat 5 --backends sqlite
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from bench.seed import quantile, seed, touch  # noqa: E402
from domain.access import Role  # noqa: E402
from infra.heap import freeze_startup_heap  # noqa: E402
from infra.log import configure_logging  # noqa: E402
from infra.settings import Settings  # noqa: E402
from services import access, console_auth  # noqa: E402
from services.backend import Backend  # noqa: E402
from store.engine import make_engine, make_sessionmaker, upgrade_database  # noqa: E402
from store.tables import MatchHistoryRow, OutboxRow  # noqa: E402
from web.console.auth import COOKIE  # noqa: E402
from workers.http import create_app  # noqa: E402

TARGET_MS = 200.0
TIMED_MATCH = "match-B0000100"


@dataclass
class Case:
    name: str
    path: str
    params: dict[str, str]
    after_change: bool = False  # a match changes before each request (no funnel kept applies)


def cases(workshops: int) -> list[Case]:
    ws = f"ws-{workshops // 2:04d}"
    return [
        Case("overview", "/console", {}),
        Case("overview, after a change", "/console", {}, after_change=True),
        Case("matches: newest first", "/console/matches", {}),
        Case("matches: a workshop", "/console/matches", {"workshop_id": ws}),
        Case("matches: stage + status", "/console/matches", {"stage": "adaptation", "status": "active"}),
        Case("matches: needs attention by deadline", "/console/matches",
             {"needs_attention": "true", "sort": "next_deadline"}),
        Case("matches: overdue, waiting on provider", "/console/matches",
             {"overdue": "true", "waiting_on": "provider"}),
        Case("matches: free text", "/console/matches", {"text": "irembo"}),
        Case("matches: 200 a page, page 10", "/console/matches",
             {"limit": "200", "offset": "1800", "sort": "stage"}),
        Case("matches: table only (htmx)", "/console/matches", {"stage": "field_visit"}),
        Case("match page", f"/console/matches/{TIMED_MATCH}", {}),
        Case("action form (extend a deadline)", f"/console/matches/{TIMED_MATCH}/act/extend-deadline", {}),
    ]  # fmt: skip


async def timeline(sessions) -> None:  # type: ignore[no-untyped-def]
    """Give the timed match what a busy match has: 30 history entries and 10 emails."""
    start = datetime.now(UTC) - timedelta(days=90)
    async with sessions() as session:
        await session.execute(
            insert(MatchHistoryRow),
            [
                {
                    "match_id": TIMED_MATCH, "seq": k + 1, "kind": "note_added",
                    "stage": "follow_up", "actor": "secretariat:ana@ssn4psi.org",
                    "summary": f"Entry {k}: called the focal point", "data": {"k": k},
                    "occurred_at": start + timedelta(days=k), "recorded_at": start,
                }
                for k in range(30)
            ],
        )  # fmt: skip
        await session.execute(
            insert(OutboxRow),
            [
                {
                    "business_key": f"bench-{k}", "message_id": f"<bench-{k}@ssn4psi.org>",
                    "match_id": TIMED_MATCH, "kind": "reminder", "recipient": f"c{k}@example.org",
                    "subject": f"Reminder {k}", "status": "sent", "attempts": 1,
                    "created_at": start, "sent_at": start + timedelta(days=k),
                }
                for k in range(10)
            ],
        )  # fmt: skip
        await session.commit()


async def measure(
    client: httpx.AsyncClient, case: Case, repeat: int, sessions
) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Wall-clock times and this process's CPU times (all its threads: SQLite's too) per
    request, in ms: on a busy machine the wall clock includes waiting for a core."""
    headers = {"HX-Request": "true", "HX-Target": "results"} if "htmx" in case.name else {}
    for _ in range(2):  # warm-up: imports, template compilation, query plans
        response = await client.get(case.path, params=case.params, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{case.name}: {response.status_code} {response.text[:300]}")
    times, cpu = [], []
    for _ in range(repeat):
        if case.after_change:
            await touch(sessions)
        began, began_cpu = time.perf_counter(), time.process_time()
        response = await client.get(case.path, params=case.params, headers=headers)
        times.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        assert response.status_code == 200, response.text[:300]
    return times, cpu


async def run_backend(name: str, url: str, args: argparse.Namespace, temporal) -> bool:  # type: ignore[no-untyped-def]
    """Seed, measure, print one table; tell whether every page met the target."""
    await asyncio.to_thread(upgrade_database, url)
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        began = time.perf_counter()
        await seed(sessions, matches=args.matches, workshops=args.workshops)
        await timeline(sessions)
        if engine.dialect.name == "postgresql":
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(text("VACUUM ANALYZE"))
        print(
            f"\n{name}: {args.matches:,} matches seeded in {time.perf_counter() - began:.1f} s",
            flush=True,
        )
        email = "bench-staff@ssn4psi.org"
        await access.add_user(sessions, email=email, name="Bench staff", role=Role.STAFF)
        await console_auth.set_password(sessions, email=email, password="bench password 123")
        signed = await console_auth.sign_in(
            sessions, email=email, password="bench password 123", lifetime=timedelta(hours=1)
        )
        settings = Settings(database_url=url, task_queue="bench")
        backend = Backend(client=temporal.client, sessions=sessions, task_queue="bench")
        app = create_app(settings, backend=backend)
        freeze_startup_heap()  # as `matchmaker api` does once its app is built
        met = True
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://localhost",
            cookies={COOKIE: signed.token},
        ) as client:
            print(f"{'page':42} {'min':>8} {'p50':>8} {'p99':>8} {'cpu p50':>8}  target")
            for case in cases(args.workshops):
                times, cpu = await measure(client, case, args.repeat, sessions)
                p50, p99 = statistics.median(times), quantile(times, 0.99)
                ok = p99 <= TARGET_MS
                met = met and ok
                print(
                    f"{case.name:42} {min(times):8.2f} {p50:8.2f} {p99:8.2f} "
                    f"{statistics.median(cpu):8.2f}  "
                    f"p99 ≤ {TARGET_MS:g} ms: {'met' if ok else 'MISSED'}",
                    flush=True,
                )
        return met
    finally:
        await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    from tests.support import create_database, start_postgres, start_test_server

    configure_logging(level="WARNING", json=False)
    print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"{args.matches:,} matches in {args.workshops} workshops; {args.repeat} timed requests "
        "per page after 2 warm-up requests; times in ms through the ASGI app in process, "
        "signed in as staff"
    )
    results = {}
    temporal = await start_test_server()
    try:
        if "sqlite" in args.backends:
            with tempfile.TemporaryDirectory() as directory:
                url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
                results["sqlite"] = await run_backend("SQLite", url, args, temporal)
        if "postgresql" in args.backends:
            server = start_postgres()
            if server is None:
                print("\nPostgreSQL: not installed (apt-get install postgresql); skipped")
            else:
                try:
                    url = await create_database(server)
                    results["postgresql"] = await run_backend("PostgreSQL", url, args, temporal)
                finally:
                    server.stop()
    finally:
        await temporal.shutdown()
    print(
        f"\ntarget (p99 ≤ {TARGET_MS:g} ms per page): "
        + ", ".join(f"{k} {'met' if v else 'missed'}" for k, v in results.items())
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=10_000)
    parser.add_argument("--workshops", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=50, help="timed requests per page")
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    asyncio.run(main(parser.parse_args()))
