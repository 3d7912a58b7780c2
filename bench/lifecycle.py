"""Benchmark: N matches through the whole happy path on a local Temporal dev server.

Matchmaker (real rules, SQLite read model, SMTP to a loopback catcher) is compared, in the
same run and on the same server, with a bare workflow that runs the same activities with the
same inputs, the same updates and the same timer, and nothing else; and, for reference, with
that bare workflow on no-op activities. Prints the throughputs and their ratios
(docs/benchmarks.md).

    uv run python bench/lifecycle.py --matches 200 --concurrency 50
"""

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from bench.bare import CHECKIN_SECONDS, BareLifecycle, noop  # noqa: E402
from bench.cpu import own_cpu, server_cpu  # noqa: E402
from bench.drivers import INBOX, Tally, drive_bare, drive_match, shape_of  # noqa: E402
from bench.stack import BenchStack, bench_stack  # noqa: E402
from domain.policy import TimingPolicy  # noqa: E402
from infra.log import configure_logging  # noqa: E402
from services.backend import Backend  # noqa: E402
from workers.cli import exit_without_teardown  # noqa: E402
from workers.worker import activities_of, build_worker  # noqa: E402

SERVER_PORT = [""]  # the dev server's port, once started


@dataclass
class Run:
    name: str
    workflows: int
    seconds: float
    steps_per_workflow: int
    tally: Tally
    worker_cpu: float = 0.0
    server_cpu: float = 0.0
    workflow_ids: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.workflows / self.seconds

    @property
    def steps_per_second(self) -> float:
        return self.workflows * self.steps_per_workflow / self.seconds

    def line(self) -> str:
        lat = sorted(self.tally.latencies)
        p50 = lat[len(lat) // 2] * 1000 if lat else 0
        p99 = lat[int(len(lat) * 0.99) - 1] * 1000 if lat else 0
        return (
            f"{self.name:<12} {self.workflows:>5} workflows in {self.seconds:7.2f} s  "
            f"{self.per_second:7.2f} wf/s  {self.steps_per_second:8.1f} steps/s  "
            f"update p50 {p50:6.1f} ms  p99 {p99:7.1f} ms  "
            f"CPU/workflow: worker+driver {self.worker_cpu / self.workflows * 1000:5.0f} ms, "
            f"server {self.server_cpu / self.workflows * 1000:5.0f} ms  "
            f"refused updates/workflow {self.tally.refused / self.workflows:.1f}"
        )


async def measure(
    name: str, n: int, concurrency: int, steps: int, drive: Callable[[Tally], Awaitable[str]]
) -> Run:
    tally = Tally()
    gate = asyncio.Semaphore(concurrency)

    ids: list[str] = []

    async def one() -> None:
        async with gate:
            ids.append(await drive(tally))

    gc.collect()  # the previous run's garbage is collected here, not on this run's clock
    started, own, server = time.perf_counter(), own_cpu(), server_cpu(SERVER_PORT[0])
    await asyncio.gather(*(one() for _ in range(n)))
    return Run(
        name,
        n,
        time.perf_counter() - started,
        steps,
        tally,
        worker_cpu=own_cpu() - own,
        server_cpu=server_cpu(SERVER_PORT[0]) - server,
        workflow_ids=ids,
    )


async def history_profile(client, run: Run, sample: int = 20) -> str:  # type: ignore[no-untyped-def]
    """Mean history events per workflow, by type, over the run's last workflows."""
    counts: Counter[str] = Counter()
    ids = run.workflow_ids[-sample:]
    for workflow_id in ids:
        async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
            counts[EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")] += 1
    total = sum(counts.values()) / len(ids)
    parts = ", ".join(f"{k.lower()} {v / len(ids):.1f}" for k, v in sorted(counts.items()))
    return f"{run.name:<12} {total:.0f} events/workflow: {parts}"


async def main(args: argparse.Namespace) -> None:
    configure_logging(level="WARNING", json=False)

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            INBOX.receive(envelope.content, envelope.rcpt_tos)
            return "250 OK"

    async with bench_stack(
        Sink(),
        public_base_url="http://127.0.0.1:8000",
        database_url=args.database_url,
        db_file=args.db_file,
    ) as stack:
        await measure_all(args, stack)


async def measure_all(args: argparse.Namespace, stack: BenchStack) -> None:
    """bare, matchmaker, bare, …, matchmaker, bare, then no-op; print the ratios."""
    SERVER_PORT[0] = stack.server_port
    client, resources = stack.client, stack.resources
    policy = TimingPolicy(
        reminder_days=(1,),
        escalation_day=2,
        lapse_day=3,
        checkin_interval_days=CHECKIN_SECONDS / 86400,
        checkin_reminder_days=CHECKIN_SECONDS * 0.95 / 86400,  # after the partner answered
    )
    mm_worker = build_worker(client, task_queue="bench-matchmaker", resources=resources)
    bare_worker = Worker(
        client,
        task_queue="bench-bare",
        workflows=[BareLifecycle],
        activities=[noop, *activities_of(resources)],
    )
    async with mm_worker, bare_worker:
        mm = Backend(client=client, sessions=resources.sessions, task_queue="bench-matchmaker")
        sample = await drive_match(mm, policy, Tally(), settle=1.0)
        shape = await shape_of(client, sample, token=sample.removeprefix("match-"))
        steps = shape.activities + shape.updates
        print(f"happy path per match: {shape.activities} activities, {shape.updates} updates")
        print(f"  shape: {shape}")
        await measure(
            "warm-up",
            args.warm_up,
            args.warm_up,
            steps,
            lambda tally: drive_bare(client, "bench-bare", shape, tally),
        )
        drivers = {
            "bare": lambda tally: drive_bare(client, "bench-bare", shape, tally),
            "matchmaker": lambda tally: drive_match(mm, policy, tally),
            "no-op": lambda tally: drive_bare(client, "bench-bare", shape, tally, noop=True),
        }
        # Every matchmaker run sits between two bare runs (the database grows, and on a
        # shared machine the load changes from one run to the next): with --rounds R,
        # bare, matchmaker, bare, …, matchmaker, bare, then no-op.
        order = (
            ["bare", *["matchmaker", "bare"] * args.rounds, "no-op"]
            if args.only is None
            else [args.only]
        )
        runs = [
            await measure(name, args.matches, args.concurrency, steps, drivers[name])
            for name in order
        ]
        if args.events:
            for run in {r.name: r for r in runs}.values():
                print(await history_profile(client, run))
    for run in runs:
        print(run.line())
    if args.only is not None:
        return
    bares = [r for r in runs if r.name == "bare"]
    mms = [r for r in runs if r.name == "matchmaker"]
    bare = statistics.mean(r.per_second for r in bares)
    mm = statistics.mean(r.per_second for r in mms)
    floor = next(r.per_second for r in runs if r.name == "no-op")
    # each matchmaker run against the mean of the bare runs just before and after it
    ratios = [
        m.per_second / statistics.mean((b.per_second, a.per_second))
        for m, b, a in zip(mms, bares, bares[1:], strict=False)
    ]
    cpu = [
        m.worker_cpu
        / m.workflows
        / statistics.mean((b.worker_cpu / b.workflows, a.worker_cpu / a.workflows))
        for m, b, a in zip(mms, bares, bares[1:], strict=False)
    ]
    ratio = statistics.median(ratios)
    print(f"emails received by the SMTP catcher: {INBOX.total}", flush=True)
    print(
        f"ratio matchmaker / bare = {ratio:.3f}  "
        f"(target >= 0.85: {'met' if ratio >= 0.85 else 'NOT met'})"
        + (
            f"  median of {len(ratios)}, min {min(ratios):.3f}, max {max(ratios):.3f}"
            if len(ratios) > 1
            else ""
        )
    )
    print(
        "Python CPU per workflow, matchmaker / bare = "
        + ", ".join(f"{c:.2f}" for c in cpu)
        + " (worker+driver; rises with a run's length on a loaded machine)"
    )
    print(
        f"for reference: matchmaker / no-op activities = {mm / floor:.3f}, "
        f"bare / no-op activities = {bare / floor:.3f} (the cost of the work itself)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--only",
        choices=["bare", "matchmaker", "no-op"],
        help="measure one side only (for profiling)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="matchmaker runs, each between two bare runs; the ratio is their median",
    )
    parser.add_argument("--warm-up", type=int, default=10, help="bare runs before measuring")
    parser.add_argument(
        "--events", action="store_true", help="print each side's history events per workflow"
    )
    parser.add_argument(
        "--database-url",
        help="the read model (default: a new SQLite file); e.g. an empty PostgreSQL database",
    )
    parser.add_argument("--db-file", action="store_true", help="persist the dev server in SQLite")
    asyncio.run(main(parser.parse_args()))
    exit_without_teardown(0)  # as `matchmaker eoi submit` does
