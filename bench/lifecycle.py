"""Benchmark: N matches through the whole happy path on a local Temporal dev server.

Matchmaker (real rules, SQLite read model, SMTP to a loopback catcher) is compared, in the
same run and on the same server, with a bare workflow that performs the same number of
activities, updates and timers and nothing else. Prints both throughputs and their ratio.

    uv run python bench/lifecycle.py --matches 200 --concurrency 50
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller  # noqa: E402
from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.client import Client, WorkflowUpdateFailedError  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from activities.mail import SmtpMailer  # noqa: E402
from activities.notifications import MailIdentity  # noqa: E402
from activities.store.engine import make_engine, make_sessionmaker, upgrade_database  # noqa: E402
from api.intake import submit_eoi  # noqa: E402
from bench.bare import CHECKIN_SECONDS, BareLifecycle, BarePlan, Call, noop  # noqa: E402
from domain.enums import Party  # noqa: E402
from domain.lifecycle import answers as a  # noqa: E402
from domain.lifecycle import events as ev  # noqa: E402
from domain.model import ExpressionOfInterest  # noqa: E402
from domain.policy import TimingPolicy  # noqa: E402
from workers.cli import exit_without_teardown  # noqa: E402
from workers.log import configure_logging  # noqa: E402
from workers.ports import free_port  # noqa: E402
from workers.temporal import binary_path  # noqa: E402
from workers.worker import Resources, activities_of, build_worker  # noqa: E402
from workflows.match_lifecycle import MatchLifecycle  # noqa: E402
from workflows.search_attributes import ALL_KEYS  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "eoi.json"


REFUSED = [0]


# -- drivers -------------------------------------------------------------------------------------
async def _until_accepted(call: Callable[[], Awaitable[object]], latencies: list[float]) -> None:
    """Send an update, retrying while the workflow refuses it because it is not due yet."""
    while True:
        started = time.perf_counter()
        try:
            await call()
        except WorkflowUpdateFailedError:
            REFUSED[0] += 1
            await asyncio.sleep(0.1)
            continue
        latencies.append(time.perf_counter() - started)
        return


async def drive_match(
    client: Client,
    task_queue: str,
    policy: TimingPolicy,
    latencies: list[float],
    *,
    settle: float = 0.0,
) -> str:
    """One match through the happy path, each partner answering once their prompt is open
    (``settle``: wait before the first answer, so the start's effects are done)."""
    eoi = ExpressionOfInterest.model_validate_json(EXAMPLE.read_text()).model_copy(
        update={"id": f"B-{uuid.uuid4().hex[:12]}"}
    )
    await submit_eoi(client, eoi=eoi, task_queue=task_queue, policy=policy)
    handle = client.get_workflow_handle_for(MatchLifecycle.run, eoi.match_id)
    await asyncio.sleep(settle)
    today = time.strftime("%Y-%m-%d")
    steps = [
        (
            "introduction_adopter-1",
            Party.ADOPTER,
            a.InterestAnswer(decision="confirm", needs="rural access", exchange="remote"),
        ),
        (
            "introduction_provider-2",
            Party.PROVIDER,
            a.ShareAnswer(decision="accept", exchange="remote"),
        ),
        (
            "adaptation_plan-3",
            Party.ADOPTER,
            a.AdaptationPlanAnswer(customisations="forms", target_pilot_date=today),
        ),
        ("check_in-4", Party.ADOPTER, a.CheckInAnswer(status="piloted")),
        (
            "outcome_report-5",
            Party.ADOPTER,
            a.OutcomeReport(
                result="scaled",
                people_reached=1000,
                time_saved_days=1,
                cost_saved_usd=2,
                visits_saved=1,
                consent_to_publish=True,
            ),
        ),
        ("outcome_confirmation-6", Party.PROVIDER, a.OutcomeConfirmation(confirmed=True)),
    ]
    shift = 0  # prompts opened beyond the happy path's (a missed check-in) shift the numbers
    for prompt_id, party, answer in steps:
        kind, number = prompt_id.rsplit("-", 1)
        current = {"id": f"{kind}-{int(number) + shift}"}
        if prompt_id.startswith("check_in"):
            await asyncio.sleep(CHECKIN_SECONDS)  # the partner answers once the check-in is due

        async def send(current=current, party=party, answer=answer) -> object:
            event = ev.Answered(prompt_id=current["id"], party=party, answer=answer)
            try:
                return await handle.execute_update(MatchLifecycle.answer, event)
            except WorkflowUpdateFailedError:
                # Refused: not open yet, or, on a slow run, a check-in missed and replaced by
                # the next one (which shifts the numbers of every later prompt): ask the match
                # which prompt of this kind is open, as a partner reads it from the email.
                kind = current["id"].rsplit("-", 1)[0]
                state = await handle.query(MatchLifecycle.state)
                current["id"] = next(
                    (p.id for p in state.open_prompts() if p.kind == kind), current["id"]
                )
                raise

        await _until_accepted(send, latencies)
        shift = int(current["id"].rsplit("-", 1)[1]) - int(number)
    result = await handle.result()
    assert result.status == "completed", result
    return eoi.match_id


async def drive_bare(
    client: Client, task_queue: str, shape: "Shape", latencies: list[float], *, noop: bool = False
) -> str:
    """Run the bare workflow through the sample match's steps, with its activities (inputs
    re-keyed to a new EOI id, so every row and email is new) or with no-ops."""
    token = f"B-{uuid.uuid4().hex[:12]}"

    def calls(group: list[Call]) -> list[Call]:
        if noop:
            return [Call(activity="noop") for _ in group]
        return [Call(activity=c.activity, input=c.input.replace(shape.token, token)) for c in group]

    updates = [group for kind, group in shape.groups if kind == "update"]
    kinds = [kind for kind, _ in shape.groups[1:]]
    before_timer = kinds[: kinds.index("timer")].count("update") if "timer" in kinds else None
    plan = BarePlan(
        start=calls(shape.groups[0][1]),
        updates=[calls(group) for group in updates],
        updates_before_timer=before_timer,
        after_timer=calls(next((g for k, g in shape.groups if k == "timer"), [])),
    )
    handle = await client.start_workflow(
        BareLifecycle.run, plan, id=f"bare-{token}", task_queue=task_queue
    )
    for index in range(len(updates)):
        if index == before_timer:
            await asyncio.sleep(CHECKIN_SECONDS)  # as the match's driver does
        await _until_accepted(
            lambda i=index: handle.execute_update(BareLifecycle.step, i), latencies
        )
    await handle.result()
    return handle.id


@dataclass
class Shape:
    """A finished match's steps: the activities (type and JSON input) after its start, after
    each update and after its timer; ``token`` is its EOI id, replaced in every copy."""

    token: str
    groups: list[tuple[str, list[Call]]]

    @property
    def activities(self) -> int:
        return sum(len(group) for _, group in self.groups)

    @property
    def updates(self) -> int:
        return sum(1 for kind, _ in self.groups if kind == "update")

    def __str__(self) -> str:
        return " → ".join(f"{kind}: {len(group)}" for kind, group in self.groups)


async def shape_of(client: Client, workflow_id: str, token: str) -> Shape:
    """Read a finished match's history: the activities it ran after start, each update, timer."""
    groups: list[tuple[str, list[Call]]] = [("start", [])]
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            groups.append(("update", []))
        elif event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            groups.append(("timer", []))
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            [payload] = attrs.input.payloads
            groups[-1][1].append(
                Call(activity=attrs.activity_type.name, input=payload.data.decode())
            )
    return Shape(token=token, groups=groups)


def _server_cpu() -> float:
    """CPU seconds used so far by the Temporal dev server (read from /proc)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"start-dev" in stat.read_bytes():
                fields = (stat.parent / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return total


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


@dataclass
class Run:
    name: str
    workflows: int
    seconds: float
    steps_per_workflow: int
    latencies: list[float]
    worker_cpu: float = 0.0
    server_cpu: float = 0.0

    @property
    def per_second(self) -> float:
        return self.workflows / self.seconds

    @property
    def steps_per_second(self) -> float:
        return self.workflows * self.steps_per_workflow / self.seconds

    def line(self) -> str:
        lat = sorted(self.latencies)
        p50 = lat[len(lat) // 2] * 1000 if lat else 0
        p99 = lat[int(len(lat) * 0.99) - 1] * 1000 if lat else 0
        return (
            f"{self.name:<12} {self.workflows:>5} workflows in {self.seconds:7.2f} s  "
            f"{self.per_second:7.2f} wf/s  {self.steps_per_second:8.1f} steps/s  "
            f"update p50 {p50:6.1f} ms  p99 {p99:7.1f} ms  "
            f"CPU/workflow: worker+driver {self.worker_cpu / self.workflows * 1000:5.0f} ms, "
            f"server {self.server_cpu / self.workflows * 1000:5.0f} ms"
        )


async def measure(
    name: str, n: int, concurrency: int, steps: int, drive: Callable[[list[float]], Awaitable[str]]
) -> Run:
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await drive(latencies)

    started, own, server = time.perf_counter(), _own_cpu(), _server_cpu()
    REFUSED[0] = 0
    await asyncio.gather(*(one() for _ in range(n)))
    print(f"{name}: {REFUSED[0] / n:.1f} refused updates per workflow")
    return Run(
        name,
        n,
        time.perf_counter() - started,
        steps,
        latencies,
        worker_cpu=_own_cpu() - own,
        server_cpu=_server_cpu() - server,
    )


async def main(args: argparse.Namespace) -> None:
    configure_logging(level="WARNING", json=False)
    workdir = Path(tempfile.mkdtemp(prefix="matchmaker-bench-"))
    db_url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await asyncio.to_thread(upgrade_database, db_url)
    received = 0

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            nonlocal received
            received += 1
            return "250 OK"

    smtp_port = free_port()
    smtp = Controller(Sink(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    extra = ["--db-filename", str(workdir / "temporal.db")] if args.db_file else []
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(binary_path("temporal")),
        data_converter=pydantic_data_converter,
        search_attributes=ALL_KEYS,
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=extra,
    )
    engine = make_engine(db_url)
    resources = Resources(
        engine=engine,
        sessions=make_sessionmaker(engine),
        mailer=SmtpMailer(host="127.0.0.1", port=smtp_port),
        identity=MailIdentity(
            sender="matchmaker@ssn4psi.org",
            sender_name="Matchmaker",
            secretariat_email="secretariat@ssn4psi.org",
            public_base_url="http://127.0.0.1:8000",
        ),
    )
    policy = TimingPolicy(
        reminder_days=(1,),
        escalation_day=2,
        lapse_day=3,
        checkin_interval_days=CHECKIN_SECONDS / 86400,
        checkin_reminder_days=CHECKIN_SECONDS / 86400 / 2,
    )
    try:
        client = env.client
        mm_worker = build_worker(client, task_queue="bench-matchmaker", resources=resources)
        bare_worker = Worker(
            client,
            task_queue="bench-bare",
            workflows=[BareLifecycle],
            activities=[noop, *activities_of(resources)],
        )
        async with mm_worker, bare_worker:
            sample = await drive_match(client, "bench-matchmaker", policy, [], settle=1.0)
            shape = await shape_of(client, sample, token=sample.removeprefix("match-"))
            steps = shape.activities + shape.updates
            print(f"happy path per match: {shape.activities} activities, {shape.updates} updates")
            print(f"  shape: {shape}")
            await measure(
                "warm-up",
                args.warm_up,
                args.warm_up,
                steps,
                lambda lat: drive_bare(client, "bench-bare", shape, lat),
            )
            drivers = {
                "bare": lambda lat: drive_bare(client, "bench-bare", shape, lat),
                "matchmaker": lambda lat: drive_match(client, "bench-matchmaker", policy, lat),
                "no-op": lambda lat: drive_bare(client, "bench-bare", shape, lat, noop=True),
            }
            order = ["bare", "matchmaker", "bare", "no-op"] if args.only is None else [args.only]
            runs = [
                await measure(name, args.matches, args.concurrency, steps, drivers[name])
                for name in order
            ]
        for run in runs:
            print(run.line())
        if args.only is not None:
            return
        bare = statistics.mean(r.per_second for r in runs if r.name == "bare")
        mm = next(r.per_second for r in runs if r.name == "matchmaker")
        floor = next(r.per_second for r in runs if r.name == "no-op")
        ratio = mm / bare
        print(f"emails received by the SMTP catcher: {received}", flush=True)
        print(
            f"ratio matchmaker / bare = {ratio:.3f}  "
            f"(target >= 0.85: {'met' if ratio >= 0.85 else 'NOT met'})"
        )
        print(
            f"for reference: matchmaker / no-op activities = {mm / floor:.3f}, "
            f"bare / no-op activities = {bare / floor:.3f} (the cost of the work itself)"
        )
    finally:
        await env.shutdown()
        await engine.dispose()
        smtp.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--only",
        choices=["bare", "matchmaker", "no-op"],
        help="measure one side only (for profiling)",
    )
    parser.add_argument("--warm-up", type=int, default=10, help="bare runs before measuring")
    parser.add_argument(
        "--database-url",
        help="the read model (default: a new SQLite file); e.g. an empty PostgreSQL database",
    )
    parser.add_argument("--db-file", action="store_true", help="persist the dev server in SQLite")
    asyncio.run(main(parser.parse_args()))
    exit_without_teardown(0)  # as `matchmaker eoi submit` does
