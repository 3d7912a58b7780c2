"""Benchmark: partners' answers on `make run`'s stack, while a workshop imports and without.

`matchmaker dev` is started as `make run` starts it, on free ports in a fresh data directory:
a supervisor, the Temporal dev server, and `matchmaker api`, `matchmaker worker` (with the
workflow sandbox), the codec server and the mail catcher, each a process of its own. The
benchmark finds the stack as any command does, by its state file (`.data/dev-stack.json`).
Each round:

1. Matches are submitted through the API (`POST /api/eois`) until N + M wait for their
   adopter (those left from the round before count); the adopter's introduction email of each
   is read from the stack's Maildir, and every match is left to go idle (untimed).
2. **quiet**: N adopters answer, one after the other, each POSTing the form at the link of their
   email and timed from the request to the "recorded" page (bench/answer.py's answer).
3. **import**: a workshop of R new EOIs (a CSV made from examples/workshop-2024.csv) is sent
   to `POST /api/imports` (`--via cli`: `matchmaker eoi import`, which finds the stack by its
   state file); from that moment until the import has returned and every imported match's two
   introduction emails have arrived, other adopters answer the same way, one after the other,
   as many as the import lasts (at most M).

Prints each round's p50/p99 of both, the ratio of the p99s, each process's CPU in the import
and the machine's load average, then the min and the median over the rounds, against the
target: p99 with the import ≤ 1 s and ≤ 1.5× the p99 without it (docs/benchmarks.md).

    uv run python bench/devstack.py --rows 500 --answers 100 --import-answers 300 --rounds 3
"""

import argparse
import asyncio
import csv
import io
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.answer import ANSWER, EXAMPLE, Inbox, Run, _gathered, settled  # noqa: E402
from domain.model import ExpressionOfInterest  # noqa: E402
from infra.log import configure_logging  # noqa: E402
from infra.settings import Settings  # noqa: E402
from infra.temporal import binary_path, connect  # noqa: E402
from workers.cli import exit_without_teardown  # noqa: E402
from workers.devstate import read_state, running_stack  # noqa: E402
from workers.ports import free_port  # noqa: E402
from workers.worker import partner_links  # noqa: E402

WORKSHOP = ROOT / "examples" / "workshop-2024.csv"
BANNER_END = b"Press Ctrl-C to stop."
PORT_OPTIONS = (
    "--temporal-port",
    "--ui-port",
    "--api-port",
    "--smtp-port",
    "--codec-port",
    "--api-metrics-port",
    "--sdk-metrics-port",
    "--worker-metrics-port",
)
STAGE_COLUMNS = ("current_stage", "field_visit_on", "adaptation_on", "outcome_on")
EMAILS_PER_NEW_MATCH = 2  # the introductions to the adopter and to the provider
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Maildir:
    """The stack's Maildir as its mail catcher fills it: each new message read once, by its
    envelope recipients (the catcher's X-RcptTo); the imported matches' emails are counted,
    the others handed to the answer benchmark's inbox, which keeps the adopters' links."""

    def __init__(self, path: Path, inbox: Inbox) -> None:
        self.new = path / "new"
        self.inbox = inbox
        self.seen: set[str] = set()
        self.imported: dict[str, int] = {}  # emails to the contacts of each import, by tag

    def read(self) -> None:
        for name in os.listdir(self.new):
            if name in self.seen:
                continue
            self.seen.add(name)
            content = (self.new / name).read_bytes()
            recipients = BytesHeaderParser().parsebytes(content).get("X-RcptTo", "")
            tag = next((t for t in self.imported if f".{t.lower()}." in recipients), None)
            if tag is not None:
                self.imported[tag] += 1
            else:
                self.inbox.receive(recipients.split(", "), content)

    async def link(self, match_id: str) -> str:
        """The path of the match's first link to the adopter, once its email has come."""
        while match_id not in self.inbox.links:
            self.read()
            await asyncio.sleep(0.05)  # the catcher writes files: nothing to await
        return self.inbox.links[match_id]


def workshop_csv(tag: str, rows: int) -> bytes:
    """A workshop of ``rows`` new EOIs (the example's rows in turn, none under way), each with
    contacts of its own whose addresses carry ``tag``."""
    with WORKSHOP.open(newline="") as file:
        examples = list(csv.DictReader(file))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(examples[0]))
    writer.writeheader()
    for i in range(rows):
        row = dict(examples[i % len(examples)])
        row.update({column: "" for column in STAGE_COLUMNS})
        row["eoi_id"] = f"{tag}-{i:04d}"
        row["workshop_id"] = f"ws-{tag}"
        row["workshop_title"] = f"Benchmark workshop {tag}"
        for party in ("provider", "adopter"):
            local, domain = row[f"{party}_contact_email"].split("@")
            row[f"{party}_contact_email"] = f"{local}.{tag.lower()}.{i}@{domain}"
        writer.writerow(row)
    return out.getvalue().encode()


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Stack:
    """`matchmaker dev` as a child of the benchmark: its output copied to a file."""

    workdir: Path
    process: asyncio.subprocess.Process | None = None
    copier: asyncio.Task[None] | None = None
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.workdir / ".data"

    async def start(self, env: dict[str, str]) -> None:
        ports = [str(free_port()) for _ in PORT_OPTIONS]
        options = [word for pair in zip(PORT_OPTIONS, ports, strict=True) for word in pair]
        self.process = await asyncio.create_subprocess_exec(
            str(binary_path("matchmaker")),
            "dev",
            "--data-dir",
            str(self.data_dir),
            *options,
            cwd=self.workdir,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            limit=1 << 20,
        )
        announced = asyncio.Event()
        self.copier = asyncio.create_task(self._copy(announced))
        await asyncio.wait_for(announced.wait(), timeout=300)
        state = read_state(self.data_dir)
        if self.process.returncode is not None or state is None:
            raise RuntimeError(f"the stack did not start: {self.log_tail()}")
        self.pids = {"supervisor": state.pid} | {
            name: int(entry["pid"])  # type: ignore[arg-type]
            for name, entry in state.processes.items()
        }

    async def _copy(self, announced: asyncio.Event) -> None:
        assert self.process is not None and self.process.stdout is not None
        with (self.workdir / "dev.log").open("wb") as log:  # noqa: ASYNC230 - a local file
            async for line in self.process.stdout:
                log.write(line)
                if BANNER_END in line:
                    announced.set()
        announced.set()  # ended without a banner: start() says so

    def log_tail(self) -> str:
        text = (self.workdir / "dev.log").read_text(errors="replace")
        return text[-3000:]

    def cpu(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    async def stop(self) -> int | None:
        """One Ctrl-C, as a person stops `make run`."""
        if self.process is None or self.process.returncode is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGINT)
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout=120)
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        if self.copier is not None:
            await self.copier
        return code


@dataclass
class Round:
    quiet: Run
    loaded: Run
    import_seconds: float
    rows: int
    ran_out: bool  # the import outlasted the answers prepared for it
    cpu: dict[str, float]
    load: tuple[float, float]  # the machine's 1-minute load average before and after

    @property
    def ratio(self) -> float:
        return self.loaded.percentile(0.99) / self.quiet.percentile(0.99)


class Bench:
    def __init__(self, args: argparse.Namespace, stack: Stack) -> None:
        self.args = args
        self.stack = stack
        settings = Settings(data_dir=stack.data_dir)
        found, _ = running_stack(settings)  # the stack's Temporal target, API port, …
        self.settings = Settings(data_dir=stack.data_dir, **found)
        state = read_state(stack.data_dir)
        assert state is not None
        self.api_url = state.api_url
        key = (stack.data_dir / "admin-api-key").read_text().strip()
        self.auth = {"Authorization": f"Bearer {key}"}
        self.links = partner_links(self.settings)
        self.template = ExpressionOfInterest.model_validate_json(EXAMPLE.read_text())
        inbox = Inbox(self.template.adopter.contact.email)
        self.maildir = Maildir(self.settings.mail_dir, inbox)

    async def run(self) -> list[Round]:
        self.client = await connect(self.settings)
        self.pool: list[str] = []  # links of matches waiting for their adopter's answer
        rounds = []
        async with httpx.AsyncClient(base_url=self.api_url, timeout=600) as http:
            await self.answers(http, await self.ready_matches(http, self.args.warm_up))
            for number in range(1, self.args.rounds + 1):
                rounds.append(await self.round(http, number))
                print(line(number, rounds[-1]), flush=True)
        return rounds

    async def ready_matches(self, http: httpx.AsyncClient, n: int) -> list[str]:
        """N matches submitted through the API, their adopter's link come, all idle: the
        paths of the links (untimed)."""

        async def submit(_: object) -> str:
            eoi = self.template.model_copy(update={"id": f"A-{uuid.uuid4().hex[:12]}"})
            response = await http.post(
                "/api/eois",
                content=eoi.model_dump_json(),
                headers={**self.auth, "content-type": "application/json"},
            )
            if response.status_code != 201:
                raise RuntimeError(f"EOI refused: {response.status_code} {response.text[:300]}")
            return eoi.match_id

        ids = await _gathered(list(range(n)), submit, self.args.width)
        paths = [await self.maildir.link(match_id) for match_id in ids]
        await settled(self.client, ids, self.args.width)
        return paths

    async def answer(self, http: httpx.AsyncClient, path: str) -> float:
        """One adopter's answer at their link, as a browser sends the form; its seconds."""
        form = {"csrf": self.links.form_key(path.removeprefix("/respond/")), **ANSWER}
        before = time.perf_counter()
        response = await http.post(path, data=form)
        seconds = time.perf_counter() - before
        if response.status_code != 200 or "your answer is recorded" not in response.text:
            raise RuntimeError(f"answer refused: {response.status_code} {response.text[:500]}")
        return seconds

    async def answers(self, http: httpx.AsyncClient, paths: list[str]) -> list[float]:
        return [await self.answer(http, path) for path in paths]

    async def round(self, http: httpx.AsyncClient, number: int) -> Round:
        n = self.args.answers
        wanted = n + self.args.import_answers - len(self.pool)
        self.pool += await self.ready_matches(http, max(0, wanted))
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        # without the import, the newest matches answer (as a match just started does, kept
        # by the worker); with it, the oldest first (the import evicts them all the same)
        quiet_paths, self.pool = self.pool[len(self.pool) - n :], self.pool[: len(self.pool) - n]
        quiet = Run("quiet", await self.answers(http, quiet_paths), time.perf_counter() - started)

        tag = f"DS{uuid.uuid4().hex[:6]}-{number}"
        self.maildir.imported[tag] = 0
        expected = EMAILS_PER_NEW_MATCH * self.args.rows
        body = workshop_csv(tag, self.args.rows)
        cpu_before = self.stack.cpu()
        started = time.perf_counter()
        sending = asyncio.create_task(self.send_import(http, tag, body))

        def imported() -> bool:
            self.maildir.read()
            return sending.done() and self.maildir.imported[tag] >= expected

        latencies: list[float] = []
        while self.pool and not imported():
            latencies.append(await self.answer(http, self.pool.pop(0)))
        ran_out = not self.pool
        # the answers ran out first: the import's end, untimed (the catcher writes files:
        # there is no event to await)
        while not imported():  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        import_seconds = time.perf_counter() - started
        cpu = {k: v - cpu_before.get(k, 0.0) for k, v in self.stack.cpu().items()}
        await sending  # raises what went wrong with the import
        if not latencies:
            raise RuntimeError("the import was over before the first answer returned")
        loaded = Run("import", latencies, import_seconds)
        # what this round set off is done before the next one: the imported matches too
        ids = [f"match-{tag}-{i:04d}" for i in range(self.args.rows)]
        await settled(self.client, ids, self.args.width)
        load = (load_before, os.getloadavg()[0])
        return Round(quiet, loaded, import_seconds, self.args.rows, ran_out, cpu, load)

    async def send_import(self, http: httpx.AsyncClient, tag: str, body: bytes) -> None:
        if self.args.via == "api":
            response = await http.post(
                "/api/imports", content=body, headers={**self.auth, "content-type": "text/csv"}
            )
            if response.status_code != 201 or response.json()["started"] != self.args.rows:
                raise RuntimeError(f"import: {response.status_code} {response.text[:500]}")
            return
        file = self.stack.workdir / f"{tag}.csv"
        file.write_bytes(body)
        # as a person would run it beside `make run`: only the data directory is known
        env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHMAKER_")}
        if "MATCHMAKER_PAYLOAD_KEYS" in os.environ:  # the stack was given the same key
            env["MATCHMAKER_PAYLOAD_KEYS"] = os.environ["MATCHMAKER_PAYLOAD_KEYS"]
        env["MATCHMAKER_DATA_DIR"] = str(self.stack.data_dir)
        process = await asyncio.create_subprocess_exec(
            str(binary_path("matchmaker")),
            "eoi",
            "import",
            str(file),
            "--json",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        if process.returncode != 0 or f'"started": {self.args.rows}' not in out.decode():
            raise RuntimeError(f"import: {process.returncode} {err.decode()[-500:]}")


def line(number: int, r: Round) -> str:
    cpu = ", ".join(f"{name} {seconds:.1f}" for name, seconds in r.cpu.items())
    return (
        f"round {number}: quiet {len(r.quiet.latencies)} answers p50 "
        f"{r.quiet.percentile(0.5):.1f} ms p99 {r.quiet.percentile(0.99):.1f} ms | import of "
        f"{r.rows} rows in {r.import_seconds:.1f} s: {len(r.loaded.latencies)} answers p50 "
        f"{r.loaded.percentile(0.5):.1f} ms p99 {r.loaded.percentile(0.99):.1f} ms max "
        f"{max(r.loaded.latencies) * 1000:.1f} ms{' (ran out of answers)' * r.ran_out} | "
        f"p99 ratio {r.ratio:.2f}\n  CPU seconds in the import: {cpu}; load average "
        f"{r.load[0]:.1f} -> {r.load[1]:.1f} ({os.cpu_count()} cores)"
    )


def summary(rounds: list[Round]) -> list[str]:
    def spread(label: str, values: list[float], unit: str = " ms", digits: int = 1) -> str:
        return (
            f"{label}: min {min(values):.{digits}f}{unit}, median "
            f"{statistics.median(values):.{digits}f}{unit}"
        )

    quiet99 = [r.quiet.percentile(0.99) for r in rounds]
    loaded99 = [r.loaded.percentile(0.99) for r in rounds]
    ratios = [r.ratio for r in rounds]
    met = statistics.median(loaded99) <= 1000 and statistics.median(ratios) <= 1.5
    return [
        f"over {len(rounds)} rounds:",
        "  " + spread("quiet p50", [r.quiet.percentile(0.5) for r in rounds]),
        "  " + spread("quiet p99", quiet99),
        "  " + spread("import p50", [r.loaded.percentile(0.5) for r in rounds]),
        "  " + spread("import p99", loaded99),
        "  " + spread("p99 import / quiet", ratios, unit="", digits=2),
        "target (median p99 with the import <= 1000 ms and <= 1.5x without it): "
        + ("met" if met else "NOT met"),
    ]


async def main(args: argparse.Namespace) -> int:
    configure_logging(level="WARNING", json=False)
    workdir = Path(tempfile.mkdtemp(prefix="matchmaker-devstack-"))
    stack = Stack(workdir)
    # one address sends every answer: the partner pages' per-address limit is lifted (a real
    # deployment sees many addresses)
    env = {**os.environ, "MATCHMAKER_PARTNER_ANSWERS_PER_MINUTE": str(10**9)}
    try:
        await stack.start(env)
        names = ", ".join(f"{name} {pid}" for name, pid in stack.pids.items())
        print(
            f"stack: matchmaker dev in {workdir} (pids: {names}); {args.answers} answers "
            f"without the import, then as many as it lasts (at most {args.import_answers}), "
            f"one after the other; import of {args.rows} rows via {args.via}",
            flush=True,
        )
        bench = Bench(args, stack)
        rounds = await bench.run()
    finally:
        code = await stack.stop()
    for text in summary(rounds):
        print(text)
    emails = len(bench.maildir.seen)
    print(f"emails caught by the stack: {emails}; the stack stopped with exit code {code}")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500, help="EOIs in each round's workshop")
    parser.add_argument(
        "--answers",
        type=int,
        default=100,
        help="answers without the import, per round",
    )
    parser.add_argument(
        "--import-answers",
        type=int,
        default=300,
        help="matches ready to answer while the import runs (those not needed wait for the "
        "next round); as many are answered as the import lasts",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm-up", type=int, default=10, help="answers before the rounds")
    parser.add_argument(
        "--width", type=int, default=10, help="matches submitted at once while setting up"
    )
    parser.add_argument(
        "--via",
        choices=["api", "cli"],
        default="api",
        help="api: POST /api/imports (the API process starts the matches); cli: "
        "`matchmaker eoi import` in a process of its own",
    )
    exit_without_teardown(asyncio.run(main(parser.parse_args())))
