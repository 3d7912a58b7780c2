"""The monitor at scale: the match list with typical filters and the funnel report over N matches.

Seeds N matches (100,000 by default) straight into the store (bulk inserts of the tables the
workflows write: workshops, institutions, contacts, solutions, EOIs, matches with their
milestones), on SQLite and on PostgreSQL (a throwaway cluster, as the tests start one), then
times requests through the real ASGI app in process (httpx ASGITransport, a viewer's API key):
each case ``--repeat`` times after a warm-up, min / p50 / p99 in ms, and the ratio of its p50
to the baseline's (the same stack answering a list filtered to nothing through an index).

    uv run python bench/monitor.py                       # 100,000 matches, both databases
    uv run python bench/monitor.py --matches 2000 --repeat 5 --backends sqlite
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.seed import quantile, seed, touch  # noqa: E402
from domain.access import Role  # noqa: E402
from infra.log import configure_logging  # noqa: E402
from infra.settings import Settings  # noqa: E402
from services import access  # noqa: E402
from services.backend import Backend  # noqa: E402
from store.engine import make_engine, make_sessionmaker, upgrade_database  # noqa: E402
from workers.http import create_app  # noqa: E402
from workers.ports import free_port  # noqa: E402


@dataclass
class Case:
    name: str
    path: str
    params: dict[str, str]
    target_ms: float | None
    after_change: bool = False  # a match changes before each request (no funnel kept applies)
    keyset_at: int | None = None  # after= the cursor that ends the first this-many matches


def cases(workshops: int, matches: int = 100_000) -> list[Case]:
    ws = f"ws-{workshops // 2:04d}"
    lists = [
        ("workshop", {"workshop_id": ws}),
        ("stage + status", {"stage": "adaptation", "status": "active"}),
        ("overdue", {"overdue": "true"}),
        ("waiting on provider", {"waiting_on": "provider"}),
        ("needs attention", {"needs_attention": "true"}),
        ("free text", {"text": "irembo"}),
        ("country + focus area", {"adopter_country": "RW", "focus_area": "future_of_work"}),
    ]
    deep = {"sort": "next_deadline"}
    at = min(5000, matches // 2)  # a quick run with fewer matches pages as deep as it can
    funnels = [
        ("funnel by workshop", {"by": "workshop"}),
        ("funnel of a workshop by focus", {"by": "focus_area", "workshop_id": ws}),
        ("funnel by year", {"by": "year"}),
        ("funnel by adopter country", {"by": "adopter_country"}),
    ]
    return [
        Case("baseline (no match)", "/api/matches", {"workshop_id": "ws-none"}, None),
        *(Case(f"list: {n}", "/api/matches", p, 20.0) for n, p in lists),
        # a deep page: by keyset (after=, the target), and by offset (kept for compatibility)
        Case(f"list: sort deadline, after {at:,}", "/api/matches", deep, 20.0, keyset_at=at),
        Case(
            f"list: sort deadline, offset {at:,}", "/api/matches", {**deep, "offset": str(at)}, None
        ),
        *(Case(n, "/api/reports/funnel", p, 200.0) for n, p in funnels),
        *(Case(f"{n}, after a change", "/api/reports/funnel", p, 200.0, True) for n, p in funnels),
        Case("stalled 30 days", "/api/reports/stalled", {"days": "30"}, None),
        Case("network summary", "/api/reports/network", {}, None),
    ]


async def measure(client: httpx.AsyncClient, case: Case, repeat: int, sessions) -> list[float]:  # type: ignore[no-untyped-def]
    if case.keyset_at is not None:  # the cursor a reader paging on would hold there
        ending = await client.get(
            case.path, params={**case.params, "offset": case.keyset_at - 50, "limit": 50}
        )
        case.params = {**case.params, "after": ending.json()["next"]}
    for _ in range(2):  # warm-up: the first request of a kind pays for imports and plans
        response = await client.get(case.path, params=case.params)
        if response.status_code != 200:
            raise SystemExit(f"{case.name}: {response.status_code} {response.text[:300]}")
    times = []
    for _ in range(repeat):
        if case.after_change:
            await touch(sessions)
        began = time.perf_counter()
        response = await client.get(case.path, params=case.params)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200
    return times


async def run_backend(name: str, url: str, args: argparse.Namespace) -> bool:
    """Seed, measure, print one table; tell whether every target was met."""
    await asyncio.to_thread(upgrade_database, url)
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        began = time.perf_counter()
        await seed(sessions, matches=args.matches, workshops=args.workshops)
        if engine.dialect.name == "postgresql":
            # what autovacuum does to a table after many inserts: the visibility map lets the
            # funnel read its covering index alone (an index-only scan)
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(text("VACUUM ANALYZE matches"))
        print(
            f"\n{name}: {args.matches:,} matches seeded in {time.perf_counter() - began:.1f} s",
            flush=True,
        )
        email = "bench-viewer@ssn4psi.org"
        await access.add_user(sessions, email=email, name="Bench viewer", role=Role.VIEWER)
        token = (await access.create_key(sessions, email=email)).token
        settings = Settings(database_url=url, temporal_target=f"127.0.0.1:{free_port()}")
        backend = Backend(client=None, sessions=sessions, task_queue="bench")  # type: ignore[arg-type]
        app = create_app(settings, backend=backend)
        transport = httpx.ASGITransport(app=app)
        met = True
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://localhost",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            print(f"{'case':46} {'min':>8} {'p50':>8} {'p99':>8}  {'/base':>6}  target")
            base = None
            for case in cases(args.workshops, args.matches):
                times = await measure(client, case, args.repeat, sessions)
                p50, p99 = statistics.median(times), quantile(times, 0.99)
                base = base or p50
                verdict = ""
                if case.target_ms is not None:
                    ok = p99 <= case.target_ms
                    met = met and ok
                    verdict = f"p99 ≤ {case.target_ms:g} ms: {'met' if ok else 'MISSED'}"
                print(
                    f"{case.name:46} {min(times):8.2f} {p50:8.2f} {p99:8.2f}  "
                    f"{p50 / base:6.2f}  {verdict}",
                    flush=True,
                )
        return met
    finally:
        await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    configure_logging(level="WARNING", json=False)
    print(
        f"{args.matches:,} matches in {args.workshops} workshops; {args.repeat} timed requests "
        "per case after 2 warm-up requests; times in ms through the ASGI app in process"
    )
    results = {}
    if "sqlite" in args.backends:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
            results["sqlite"] = await run_backend("SQLite", url, args)
    if "postgresql" in args.backends:
        from tests.support import create_database, start_postgres

        server = start_postgres()
        if server is None:
            print("\nPostgreSQL: not installed (apt-get install postgresql); skipped")
        else:
            try:
                url = await create_database(server)
                results["postgresql"] = await run_backend("PostgreSQL", url, args)
            finally:
                server.stop()
    print(
        "\ntargets (p99: list ≤ 20 ms, funnel ≤ 200 ms): "
        + ", ".join(f"{k} {'met' if v else 'missed'}" for k, v in results.items())
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=100_000)
    parser.add_argument("--workshops", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=100, help="timed requests per case")
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    asyncio.run(main(parser.parse_args()))
