"""Benchmark: partners' answers through `POST /respond/<token>` against a bare Update.

Each answer is a real partner's: a match is started through intake, its introduction email
reaches a loopback SMTP catcher, and the adopter's answer is POSTed to the link in that email,
over HTTP to the app served by uvicorn (``--transport asgi``: in process, no socket). The
baseline, in the same run and on the same Temporal dev server, is a bare workflow that takes
one answer by Update (bench/bare.py ``BareAnswer``). Answers are sent one after the other;
prints p50/p99 of both and the ratios (docs/benchmarks.md).

    uv run python bench/answer.py --answers 1000 --rounds 3
"""

import argparse
import asyncio
import gc
import re
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from bench.bare import BareAnswer  # noqa: E402
from bench.cpu import own_cpu, server_cpu  # noqa: E402
from bench.drivers import to_visit_proposed  # noqa: E402
from bench.stack import BenchStack, app_client, bench_stack  # noqa: E402
from domain.model import ExpressionOfInterest  # noqa: E402
from infra.log import configure_logging  # noqa: E402
from infra.settings import Settings  # noqa: E402
from services.backend import Backend  # noqa: E402
from services.intake import submit_eoi  # noqa: E402
from workers.cli import exit_without_teardown  # noqa: E402
from workers.http import create_app  # noqa: E402
from workers.worker import WorkerLimits, build_worker, partner_links, workflow_runner  # noqa: E402

QUEUE = "bench-matchmaker"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "eoi.json"
ANSWER = {"decision": "confirm", "needs": "Rural clinics without a pharmacy", "exchange": "remote"}
REFERENCE = re.compile(r"\b(match-[A-Za-z0-9._-]+)")  # in whatever language the email is
LINK = re.compile(r"https?://[^/\s]+(/respond/[A-Za-z0-9_.\-]+)")


class Inbox:
    """The adopter's first link of each match, and the provider's links, read from the emails
    the SMTP catcher receives."""

    def __init__(self, adopter: str, provider: str = "") -> None:
        self.adopter, self.provider = adopter.lower(), provider.lower()
        self.links: dict[str, str] = {}
        self.provider_links: dict[str, list[str]] = {}
        self.invitations = 0  # emails carrying a calendar invitation
        self.total = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.receive(envelope.rcpt_tos, envelope.content)
        return "250 OK"

    def receive(self, recipients: list[str], content: bytes) -> None:
        """Take one email (its recipients and its bytes), as the SMTP catcher received it."""
        self.total += 1
        to = {r.lower() for r in recipients}
        if self.adopter in to or self.provider in to:
            message = message_from_bytes(content)
            parts = list(message.walk())
            self.invitations += any(p.get_content_type() == "text/calendar" for p in parts)
            text = next(p for p in parts if p.get_content_type() == "text/plain")
            body = text.get_payload(decode=True).decode()
            reference, link = REFERENCE.search(body), LINK.search(body)
            if reference and link and self.adopter in to and reference.group(1) not in self.links:
                self.links[reference.group(1)] = link.group(1)
            if reference and link and self.provider in to:
                self.provider_links.setdefault(reference.group(1), []).append(link.group(1))

    async def provider_link(self, match_id: str, number: int) -> str:
        """The path of the provider's ``number``-th link of the match, once it has come."""
        while len(self.provider_links.get(match_id, ())) < number:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        return self.provider_links[match_id][number - 1]

    async def link(self, match_id: str) -> str:
        """The path of the match's first link to the adopter, once its email has come."""
        while match_id not in self.links:  # noqa: ASYNC110 - filled by the SMTP thread
            await asyncio.sleep(0.02)
        return self.links[match_id]


SERVER_PORT = [""]  # the dev server's port, once started


def full_collections() -> int:
    """How many full (generation 2) garbage collections this process has run. Counted, not
    timed: a gc callback would also run inside workflow threads, where it could swallow the
    SDK's deadlock interrupt."""
    return gc.get_stats()[2]["collections"]


@dataclass
class Run:
    name: str
    latencies: list[float]
    seconds: float
    own_cpu: float = 0.0  # this process (app, worker, driver, SMTP catcher), during the run
    server_cpu: float = 0.0
    full_gcs: int = 0  # full garbage collections during the run

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, int(len(ordered) * q + 0.5) - 1)] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<10} {len(self.latencies):>5} answers in {self.seconds:7.2f} s  "
            f"p50 {self.percentile(0.5):6.1f} ms  p99 {self.percentile(0.99):6.1f} ms  "
            f"max {max(self.latencies) * 1000:6.1f} ms  CPU/answer: Python "
            f"{self.own_cpu / len(self.latencies) * 1000:5.1f} ms, server "
            f"{self.server_cpu / len(self.latencies) * 1000:5.1f} ms; "
            f"{self.full_gcs} full GCs"
        )


async def _gathered(items: list, do: Callable[[object], Awaitable[object]], width: int) -> list:  # type: ignore[type-arg]
    gate = asyncio.Semaphore(width)

    async def one(item: object) -> object:
        async with gate:
            return await do(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


async def _timed(
    name: str,
    calls: list[Callable[[], Awaitable[None]]],
    after: Callable[[int], Awaitable[None]] | None = None,
) -> Run:
    """Make the calls one after the other, each timed on its own (``after(i)``, untimed,
    once call ``i`` returned: with ``--settle``, until what the answer set off is done)."""
    gc.collect()  # the set-up's garbage is collected here, not on the run's clock
    latencies = []
    started, own, server = time.perf_counter(), own_cpu(), server_cpu(SERVER_PORT[0])
    collected = full_collections()
    for index, call in enumerate(calls):
        before = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - before)
        if after is not None:
            await after(index)
    return Run(
        name,
        latencies,
        time.perf_counter() - started,
        own_cpu=own_cpu() - own,
        server_cpu=server_cpu(SERVER_PORT[0]) - server,
        full_gcs=full_collections() - collected,
    )


async def settled(client, ids: list[str], width: int) -> None:  # type: ignore[no-untyped-def]
    """Return once none of the workflows has a workflow task or an activity pending: the
    set-up's work is done before the clock starts."""

    async def idle(workflow_id: object) -> None:
        handle = client.get_workflow_handle(str(workflow_id))
        while True:
            raw = (await handle.describe()).raw_description
            if not raw.HasField("pending_workflow_task") and not raw.pending_activities:
                return
            await asyncio.sleep(0.05)

    await _gathered(list(ids), idle, width)


async def bare_run(client, n: int, width: int, *, query: bool = False, settle: bool = False) -> Run:  # type: ignore[no-untyped-def]
    """N bare workflows started (not timed), then one Update each (timed); with ``query``,
    a query of the workflow's state before each Update, as the answer page makes."""

    async def start(_: object):  # type: ignore[no-untyped-def]
        return await client.start_workflow(
            BareAnswer.run, id=f"bare-{uuid.uuid4().hex[:12]}", task_queue="bench-bare"
        )

    handles = await _gathered(list(range(n)), start, width)
    await settled(client, [h.id for h in handles], width)

    def update(handle):  # type: ignore[no-untyped-def]
        async def call() -> None:
            if query:
                await handle.query(BareAnswer.state)
            await handle.execute_update(BareAnswer.answer, str(ANSWER))

        return call

    async def after(index: int) -> None:
        await settled(client, [handles[index].id], 1)

    name = "bare q+u" if query else "bare"
    run = await _timed(name, [update(h) for h in handles], after if settle else None)
    await asyncio.gather(*(h.result() for h in handles))
    return run


async def matchmaker_run(
    backend: Backend,
    http: httpx.AsyncClient,
    inbox: Inbox,
    links,
    n: int,
    width: int,
    *,
    settle: bool = False,
    answer: str = "introduction",
) -> Run:  # type: ignore[no-untyped-def]
    """N matches started through intake and their emails received (not timed), then the
    adopter's answer at each link (timed): one POST with the form a browser sends. With
    ``answer="visit"``, each match is first taken (untimed, by Update) to a proposed field
    visit, and the timed answer is the provider's confirmation at the link in their email: the
    one that sends both delegations their calendar invitation."""
    template = ExpressionOfInterest.model_validate_json(EXAMPLE.read_text())

    async def start(_: object) -> str:
        eoi = template.model_copy(update={"id": f"A-{uuid.uuid4().hex[:12]}"})
        await submit_eoi(backend, eoi=eoi)
        return eoi.match_id

    ids = await _gathered(list(range(n)), start, width)
    paths = [await inbox.link(match_id) for match_id in ids]
    form_answer = ANSWER
    if answer == "visit":
        await _gathered(ids, lambda match_id: to_visit_proposed(backend, str(match_id)), width)
        paths = [await inbox.provider_link(match_id, 2) for match_id in ids]
        form_answer = {"decision": "confirm"}
    await settled(backend.client, ids, width)

    def post(path: str):  # type: ignore[no-untyped-def]
        form = {"csrf": links.form_key(path.removeprefix("/respond/")), **form_answer}

        async def call() -> None:
            response = await http.post(path, data=form)
            if response.status_code != 200 or "your answer is recorded" not in response.text:
                raise RuntimeError(f"answer refused: {response.status_code} {response.text[:500]}")

        return call

    async def after(index: int) -> None:
        await settled(backend.client, [ids[index]], 1)

    return await _timed("matchmaker", [post(p) for p in paths], after if settle else None)


async def main(args: argparse.Namespace) -> None:
    configure_logging(level="WARNING", json=False)
    template = ExpressionOfInterest.model_validate_json(EXAMPLE.read_text())
    inbox = Inbox(template.adopter.contact.email, template.solution.contact.email)
    # the links lead to 127.0.0.1; one address sends every answer, so the per-address limit
    # of the partner pages is lifted (a real deployment sees many addresses)
    settings = Settings(
        task_queue=QUEUE,
        public_base_url="http://127.0.0.1",
        allowed_hosts=["127.0.0.1"],
        partner_answers_per_minute=10**9,
    )
    links = partner_links(settings)
    async with bench_stack(
        inbox, public_base_url=settings.public_base_url, db_file=args.db_file, links=links
    ) as stack:
        await measure(args, stack, settings, inbox, links)


async def measure(args, stack: BenchStack, settings: Settings, inbox: Inbox, links) -> None:  # type: ignore[no-untyped-def]
    """Warm both sides up, then bare, matchmaker, bare, …, bare; print each run and the
    ratios of each matchmaker run to the mean of the bare runs either side of it."""
    SERVER_PORT[0] = stack.server_port
    client = stack.client
    backend = Backend(client=client, sessions=stack.resources.sessions, task_queue=QUEUE)
    app = create_app(settings, backend=backend)
    # both workers keep the same number of workflows between their steps (the SDK's default,
    # 1,000: a run's matches stay in memory, as its bare workflows do), in the same runner
    sandboxed = args.sandbox == "on"
    mm_worker = build_worker(
        client,
        task_queue=QUEUE,
        resources=stack.resources,
        limits=WorkerLimits(max_cached_workflows=args.max_cached),
        sandboxed=sandboxed,
    )
    bare_worker = Worker(
        client,
        task_queue="bench-bare",
        workflows=[BareAnswer],
        max_cached_workflows=args.max_cached,
        workflow_runner=workflow_runner(sandboxed=sandboxed),
    )
    async with mm_worker, bare_worker, app_client(app, args.transport) as http:
        await bare_run(client, args.warm_up, args.width)  # warm-up, not reported
        await matchmaker_run(backend, http, inbox, links, args.warm_up, args.width)
        # for reference: the two round trips the answer page makes (a query of the state,
        # then the Update) on the bare workflow
        reference = await bare_run(client, args.answers, args.width, query=True, settle=args.settle)
        print(reference.line(), flush=True)
        runs = []
        for name in ["bare", *["matchmaker", "bare"] * args.rounds]:
            if name == "bare":
                run = await bare_run(client, args.answers, args.width, settle=args.settle)
            else:
                run = await matchmaker_run(
                    backend,
                    http,
                    inbox,
                    links,
                    args.answers,
                    args.width,
                    settle=args.settle,
                    answer=args.answer,
                )
            print(run.line(), flush=True)
            runs.append(run)
    bares, mms = runs[0::2], runs[1::2]
    for q, label in ((0.5, "p50"), (0.99, "p99")):
        ratios = [
            m.percentile(q) / statistics.mean((b.percentile(q), a.percentile(q)))
            for m, b, a in zip(mms, bares, bares[1:], strict=False)
        ]
        print(
            f"{label}: matchmaker / bare = {statistics.median(ratios):.2f} "
            f"(median of {len(ratios)}, min {min(ratios):.2f}, max {max(ratios):.2f})"
            + ("  target <= 1.5: " + ("met" if statistics.median(ratios) <= 1.5 else "NOT met"))
            * (label == "p99")
        )
    print(
        f"transport: {args.transport}; settle: {'yes' if args.settle else 'no'}; "
        f"workflow cache: {args.max_cached}, sandbox: {args.sandbox}, on both sides; "
        f"emails received by the SMTP catcher: {inbox.total} "
        f"({inbox.invitations} with a calendar invitation); answer: {args.answer}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1000, help="answers per measured run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="matchmaker runs, each between two bare runs"
    )
    parser.add_argument("--warm-up", type=int, default=20, help="answers of each side first")
    parser.add_argument(
        "--width", type=int, default=10, help="workflows started at once while setting up a run"
    )
    parser.add_argument(
        "--transport",
        choices=["http", "asgi"],
        default="http",
        help="http: uvicorn on loopback, as a browser reaches it; asgi: in process",
    )
    parser.add_argument(
        "--settle",
        action="store_true",
        help="after each answer, wait (untimed) until what it set off is done: no answer "
        "competes with the previous one's emails and records",
    )
    parser.add_argument(
        "--max-cached",
        type=int,
        default=1000,
        help="workflows each worker keeps between steps, on both sides alike (the SDK's "
        "default; a match's deployment keeps MATCHMAKER_WORKER_MAX_CACHED_WORKFLOWS, 250)",
    )
    parser.add_argument(
        "--sandbox",
        choices=["on", "off"],
        default="off",
        help="the workflow sandbox, on both sides alike: off as a production worker runs "
        "(docker-compose.yml), on as the tests and the dev stack run",
    )
    parser.add_argument("--db-file", action="store_true", help="persist the dev server in SQLite")
    parser.add_argument(
        "--answer",
        choices=["introduction", "visit"],
        default="introduction",
        help="introduction: the adopter confirms interest; visit: the provider confirms a "
        "proposed field visit, which sends both delegations a calendar invitation",
    )
    asyncio.run(main(parser.parse_args()))
    exit_without_teardown(0)
