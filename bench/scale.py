"""Benchmark: ten thousand open matches against one worker process of bounded memory.

One run starts a local Temporal dev server, a loopback SMTP catcher, a migrated read model
(a throwaway PostgreSQL cluster, or ``--backend sqlite``) and **the production worker as its own process** (`matchmaker worker`, configured through
its environment as an operator would, with the workflow cache of ``--max-cached``), then opens
``--matches`` matches through ``services.intake`` (``--width`` at once). Every match sends its
two introduction emails and waits on its partners. The worker's resident memory (VmRSS, read
from /proc) is sampled all along; once every introduction email has reached the catcher, every
match is queried for its state (most of them are no longer in the worker's cache and are
rebuilt from their history to answer). Prints the start time, the memory at each tenth and its
ratio to the worker's own memory after a warm-up in the same run, and the queries' latency.

    uv run python bench/scale.py --matches 10000
"""

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio.api.enums.v1 import EventType, TaskQueueType  # noqa: E402
from temporalio.api.taskqueue.v1 import TaskQueue  # noqa: E402
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from bench.cpu import port_of  # noqa: E402
from bench.seed import quantile  # noqa: E402
from domain.model import ExpressionOfInterest, match_id_for  # noqa: E402
from infra.log import configure_logging  # noqa: E402
from infra.settings import Settings  # noqa: E402
from infra.temporal import binary_path, data_converter  # noqa: E402
from services.backend import Backend  # noqa: E402
from services.intake import submit_eoi  # noqa: E402
from store.engine import make_engine, make_sessionmaker, upgrade_database  # noqa: E402
from tests.support import create_database, start_postgres  # noqa: E402
from workers.cli import exit_without_teardown  # noqa: E402
from workers.ports import free_port  # noqa: E402
from workflows.match_lifecycle import MatchLifecycle  # noqa: E402
from workflows.search_attributes import ALL_KEYS  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "eoi.json"
TASK_QUEUE = "bench-scale"
MIB = 1024 * 1024
TARGET_MIB = 300
INTRODUCTION_TIMEOUT = 120.0  # seconds a match may take to send its introductions


class Received:
    """What the SMTP sink (its own process) received, read from its output line by line."""

    def __init__(self) -> None:
        self.total = 0
        self._arrived: dict[tuple[str, str], asyncio.Event] = {}

    def _event(self, match_id: str, recipient: str) -> asyncio.Event:
        return self._arrived.setdefault((match_id, recipient.lower()), asyncio.Event())

    async def read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            match_id, recipient = line.decode().split()
            self.total += 1
            self._event(match_id, recipient).set()

    async def wait(self, match_id: str, recipient: str) -> None:
        """Return once an email of the match has reached the recipient."""
        await self._event(match_id, recipient).wait()


async def start_sink(port: int) -> asyncio.subprocess.Process:
    """The SMTP sink in a process of its own: as a real relay, it takes no CPU time from this
    driver's event loop (in a thread here, every SMTP exchange waited for this process's GIL)."""
    sink = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("smtp_sink.py")),
        str(port),
        stdout=asyncio.subprocess.PIPE,
    )
    assert sink.stdout is not None
    if (await sink.stdout.readline()).strip() != b"ready":
        raise RuntimeError("the SMTP sink did not start")
    return sink


def rss(pid: int) -> int:
    """Resident memory of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class Sampler:
    """The worker's resident memory, every ``interval`` seconds, with the matches open then."""

    pid: int
    interval: float = 0.25
    opened: int = 0
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (t, opened, rss)

    async def run(self) -> None:
        started = time.perf_counter()
        while True:
            self.samples.append((time.perf_counter() - started, self.opened, rss(self.pid)))
            await asyncio.sleep(self.interval)

    def peak(self, since: float = 0.0) -> int:
        return max(value for t, _, value in self.samples if t >= since)

    def within(self, low: int, high: int) -> int:
        """The highest memory sampled while between ``low`` (excluded) and ``high`` matches
        were open."""
        return max((value for _, n, value in self.samples if low < n <= high), default=0)


def worker_environment(settings: dict[str, str]) -> dict[str, str]:
    """The worker's environment: this one, less any MATCHMAKER_ setting, plus the run's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHMAKER_")}
    env.update({f"MATCHMAKER_{name.upper()}": value for name, value in settings.items() if value})
    return env


async def start_worker(
    client: Client, settings: dict[str, str], log: Path
) -> asyncio.subprocess.Process:
    """`matchmaker worker` as an operator runs it; returns once it polls the task queue."""
    command = str(Path(sys.executable).parent / "matchmaker")
    with log.open("w") as out:  # noqa: ASYNC230 - before anything runs
        process = await asyncio.create_subprocess_exec(
            command, "worker", env=worker_environment(settings), stdout=out, stderr=out
        )
    deadline = time.monotonic() + 60
    while not await polled(client, settings["task_queue"]):
        if process.returncode is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the worker did not start: see {log}")
        await asyncio.sleep(0.2)
    return process


async def polled(client: Client, task_queue: str) -> bool:
    """Whether a worker polls the workflow task queue."""
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return bool(described.pollers)


async def in_parallel(count: int, width: int, do) -> list[float]:  # type: ignore[no-untyped-def]
    """Call ``do(i)`` for i < count, ``width`` at a time; return each call's seconds."""
    latencies: list[float] = []
    indices = iter(range(count))

    async def lane() -> None:
        for index in indices:
            started = time.perf_counter()
            await do(index)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(lane() for _ in range(width)))
    return latencies


async def open_matches(
    backend: Backend, inbox: Received, sampler: Sampler, ids: list[str], width: int
) -> float:
    """Open the matches, ``width`` at a time: each is submitted, then waited for until both its
    introduction emails have reached the catcher (it then waits on its partners). Returns the
    seconds until every match was waiting. As an import does, so the matches being started
    stay fewer than the worker's cache holds (started all at once, each would be evicted and
    rebuilt from its history at every step of its start)."""
    template = ExpressionOfInterest.model_validate_json(EXAMPLE.read_text())
    adopter, provider = template.adopter.contact.email, template.solution.contact.email
    started = time.perf_counter()
    step = max(1, len(ids) // 10)

    async def one(index: int) -> None:
        eoi = template.model_copy(update={"id": ids[index]})
        await submit_eoi(backend, eoi=eoi)
        sampler.opened += 1
        if sampler.opened % step == 0:
            print(
                f"  {sampler.opened:>6} open  {time.perf_counter() - started:7.1f} s  "
                f"worker {rss(sampler.pid) / MIB:6.1f} MiB  emails {inbox.total}",
                flush=True,
            )
        await asyncio.wait_for(inbox.wait(eoi.match_id, adopter), INTRODUCTION_TIMEOUT)
        await asyncio.wait_for(inbox.wait(eoi.match_id, provider), INTRODUCTION_TIMEOUT)

    await in_parallel(len(ids), width, one)
    return time.perf_counter() - started


async def print_timeline(client: Client, workflow_id: str) -> None:
    """The events of one match's history, with their time from its start."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    first = history.events[0].event_time.ToDatetime()
    for event in history.events:
        offset = (event.event_time.ToDatetime() - first).total_seconds()
        print(f"    {offset * 1000:8.1f} ms  {EventType.Name(event.event_type)}")


async def query_all(client: Client, ids: list[str], width: int) -> tuple[list[float], int]:
    """Query every match's state; return the latencies and how many answered with their id."""
    answered = 0

    async def one(index: int) -> None:
        nonlocal answered
        handle = client.get_workflow_handle_for(MatchLifecycle.run, match_id_for(ids[index]))
        state = await handle.query(MatchLifecycle.state)
        answered += state.eoi.id == ids[index]

    latencies = await in_parallel(len(ids), width, one)
    return latencies, answered


async def main(args: argparse.Namespace) -> int:
    configure_logging(level="WARNING", json=False)
    workdir = Path(tempfile.mkdtemp(prefix="matchmaker-scale-"))
    postgres = None
    if args.database_url:
        db_url = args.database_url
    elif args.backend == "sqlite":
        db_url = f"sqlite+aiosqlite:///{workdir / 'scale.db'}"
    else:
        postgres = start_postgres()
        if postgres is None:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
        db_url = await create_database(postgres)
    await asyncio.to_thread(upgrade_database, db_url)
    inbox = Received()
    smtp_port = free_port()
    sink = await start_sink(smtp_port)
    assert sink.stdout is not None
    reading = asyncio.create_task(inbox.read(sink.stdout))
    settings = Settings(env="dev", data_dir=workdir)  # the worker makes the same payload key
    extra = ["--db-filename", str(workdir / "temporal.db")] if args.db_file else []
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(binary_path("temporal")),
        data_converter=data_converter(settings),
        search_attributes=ALL_KEYS,
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=extra,
    )
    engine = make_engine(db_url)
    worker = await start_worker(
        env.client,
        {
            "env": "dev",
            "data_dir": str(workdir),
            "database_url": db_url,
            "temporal_target": f"127.0.0.1:{port_of(env.client)}",
            "task_queue": TASK_QUEUE,
            "smtp_port": str(smtp_port),
            "worker_max_cached_workflows": str(args.max_cached),
            "worker_workflow_sandbox": str(args.sandbox == "on").lower(),
            # the keys this process seals payloads with (none: both make the same dev key)
            "payload_keys": ",".join(k.get_secret_value() for k in settings.payload_keys),
            "log_level": "WARNING",
            "log_json": "false",
        },
        workdir / "worker.log",
    )
    sampler = Sampler(worker.pid)
    sampling = asyncio.create_task(sampler.run())
    try:
        backend = Backend(
            client=env.client, sessions=make_sessionmaker(engine), task_queue=TASK_QUEUE
        )
        run = uuid.uuid4().hex[:6]
        print(
            f"worker pid {worker.pid}: {rss(worker.pid) / MIB:.1f} MiB at start; "
            f"workflow cache {args.max_cached}, sandbox {args.sandbox}",
            flush=True,
        )
        # warm-up: the worker has imported and compiled what a match needs (its baseline)
        warm = [f"W{run}-{i:05d}" for i in range(args.warm_up)]
        await open_matches(backend, inbox, sampler, warm, args.width)
        await asyncio.sleep(2.0)
        baseline = rss(worker.pid)
        print(
            f"warm-up: {len(warm)} matches; worker {baseline / MIB:.1f} MiB (the baseline)",
            flush=True,
        )
        sampler.opened, mark = 0, sampler.samples[-1][0]
        ids = [f"S{run}-{i:05d}" for i in range(args.matches)]
        opened = await open_matches(backend, inbox, sampler, ids, args.width)
        opened_peak = sampler.peak(since=mark)
        print(
            f"opened {len(ids)} matches, each waiting on its partners: {opened:.1f} s "
            f"({len(ids) / opened:.1f} matches/s, {args.width} at once); "
            f"{inbox.total} emails in all",
            flush=True,
        )
        if args.timeline:
            await print_timeline(env.client, match_id_for(ids[len(ids) // 2]))
        bounds = [len(ids) * k // 10 for k in range(11)]
        tenths = [sampler.within(low, high) for low, high in itertools.pairwise(bounds)]
        print(
            "worker memory, the peak within each tenth of the matches opened (MiB): "
            + " ".join(f"{value / MIB:.0f}" for value in tenths),
            flush=True,
        )
        mark = sampler.samples[-1][0]
        queried = time.perf_counter()
        latencies, answered = await query_all(env.client, ids, args.width)
        queried = time.perf_counter() - queried
        query_peak = sampler.peak(since=mark)
        final = rss(worker.pid)
        print(
            f"queried {len(ids)}: {answered} answered with their own state in {queried:.1f} s "
            f"({len(ids) / queried:.1f}/s, {args.width} at once); "
            f"p50 {statistics.median(latencies) * 1000:.1f} ms, "
            f"p99 {quantile(latencies, 0.99) * 1000:.1f} ms, "
            f"max {max(latencies) * 1000:.1f} ms; worker peak {query_peak / MIB:.1f} MiB",
            flush=True,
        )
        peak = max(opened_peak, query_peak)
        growth = (tenths[-1] - tenths[1]) / MIB
        print(
            f"worker memory: baseline {baseline / MIB:.1f} MiB, peak {peak / MIB:.1f} MiB "
            f"({peak / baseline:.2f}x baseline), end {final / MIB:.1f} MiB; the last tenth's peak "
            f"against the second's: {growth:+.1f} MiB",
            flush=True,
        )
        met = peak <= TARGET_MIB * MIB and answered == len(ids)
        print(
            f"target: peak <= {TARGET_MIB} MiB and every match answers: "
            + ("met" if met else "NOT met"),
            flush=True,
        )
        return 0 if answered == len(ids) else 1
    finally:
        sampling.cancel()
        worker.terminate()
        try:
            await asyncio.wait_for(worker.wait(), 30)
        except TimeoutError:
            worker.kill()
        await env.shutdown()
        await engine.dispose()
        reading.cancel()
        sink.terminate()
        await sink.wait()
        if postgres is not None:
            postgres.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=10_000, help="matches to open")
    parser.add_argument("--warm-up", type=int, default=50, help="matches opened first")
    parser.add_argument(
        "--width", type=int, default=100, help="matches being started (or queried) at once"
    )
    parser.add_argument(
        "--max-cached",
        type=int,
        default=Settings.model_fields["worker_max_cached_workflows"].default,
        help="the worker's workflow cache (MATCHMAKER_WORKER_MAX_CACHED_WORKFLOWS)",
    )
    parser.add_argument(
        "--sandbox",
        choices=["on", "off"],
        default="off",
        help="the workflow sandbox (MATCHMAKER_WORKER_WORKFLOW_SANDBOX): off as docker-compose.yml "
        "runs a worker",
    )
    parser.add_argument(
        "--backend",
        choices=["postgresql", "sqlite"],
        default="postgresql",
        help="the read model: a throwaway PostgreSQL cluster (as in production) or a SQLite file",
    )
    parser.add_argument("--database-url", help="an existing read model instead of --backend")
    parser.add_argument(
        "--timeline", action="store_true", help="print the history of one match, timed"
    )
    parser.add_argument("--db-file", action="store_true", help="persist the dev server in SQLite")
    exit_without_teardown(asyncio.run(main(parser.parse_args())))
