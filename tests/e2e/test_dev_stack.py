"""End to end: `matchmaker dev` on free ports, driven like a newcomer would."""

import contextlib
import json
import mailbox
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from email.header import decode_header, make_header
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.client import WorkflowExecutionStatus

from infra.settings import Settings
from infra.temporal import binary_path, connect
from tests.support import EXAMPLES, wait_for
from workers.ports import free_port
from workflows import search_attributes as sa
from workflows.match_lifecycle import MatchLifecycle

pytestmark = pytest.mark.e2e


BANNER_END = b"Press Ctrl-C to stop."
PROCESSES = {"temporal", "mail-catcher", "worker", "api", "codec-server"}


class DevStack:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = {
            name: free_port()
            for name in ("temporal", "ui", "api", "smtp", "codec", "metrics", "sdk", "worker")
        }
        self.process: subprocess.Popen | None = None
        self.seen_pids: set[int] = set()  # every process of the stack, to clean up after
        self._announced = threading.Event()
        self._log_file = data_dir.parent / "dev.log"

    @property
    def env(self) -> dict[str, str]:
        return {
            # no payload key given: the stack makes its own under the data dir
            **{k: v for k, v in os.environ.items() if k != "MATCHMAKER_PAYLOAD_KEYS"},
            "MATCHMAKER_DATA_DIR": str(self.data_dir),
            "MATCHMAKER_TEMPORAL_TARGET": f"127.0.0.1:{self.ports['temporal']}",
            "MATCHMAKER_TEMPORAL_UI_PORT": str(self.ports["ui"]),
            "MATCHMAKER_API_PORT": str(self.ports["api"]),
            "MATCHMAKER_SMTP_PORT": str(self.ports["smtp"]),
            "MATCHMAKER_CODEC_PORT": str(self.ports["codec"]),
            "MATCHMAKER_API_METRICS_PORT": str(self.ports["metrics"]),
            "MATCHMAKER_TEMPORAL_METRICS_PORT": str(self.ports["sdk"]),
            "MATCHMAKER_WORKER_METRICS_PORT": str(self.ports["worker"]),
            "MATCHMAKER_LOG_JSON": "true",
        }

    def settings(self) -> Settings:
        """The stack's settings as a client of it needs them (its payload key in data_dir)."""
        return Settings(
            env="dev",
            data_dir=self.data_dir,
            payload_keys=[],
            temporal_target=f"127.0.0.1:{self.ports['temporal']}",
        )

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    def start(self) -> None:
        """Start `matchmaker dev`; return once it printed its banner (its output is copied to
        the log by a thread, which tells when the banner's last line has come)."""
        self._announced.clear()
        self.process = subprocess.Popen(
            [str(binary_path("matchmaker")), "dev"],
            cwd=self.data_dir.parent,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        threading.Thread(target=self._copy_output, args=(self.process,), daemon=True).start()
        self._announced.wait(timeout=180)
        assert self.process.poll() is None and BANNER_END in self._log_file.read_bytes(), (
            f"no banner in 180 s:\n{self.log()}"
        )
        self.seen_pids |= set(self.processes().values())

    def _copy_output(self, process: subprocess.Popen) -> None:
        with self._log_file.open("ab") as log, process.stdout:  # both closed at the end
            for line in process.stdout:
                log.write(line)
                log.flush()
                if BANNER_END in line:
                    self._announced.set()
        self._announced.set()  # ended without a banner: whoever waits looks why

    def processes(self) -> dict[str, int]:
        """The stack's processes by name, as its state file names them."""
        state = json.loads((self.data_dir / "dev-stack.json").read_text())
        assert state["pid"] == self.process.pid
        return {name: entry["pid"] for name, entry in state["processes"].items()}

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=90)
        self.process = None
        return code

    def log(self, *, whole: bool = False) -> str:
        text = self._log_file.read_text(errors="replace")
        return text if whole else text[-4000:]

    @property
    def admin_key(self) -> str:
        return (self.data_dir / "admin-api-key").read_text().strip()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def mails(self) -> list:
        return list(mailbox.Maildir(self.data_dir / "mail", create=False))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _command(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


@pytest.fixture
def dev_stack(tmp_path: Path) -> Iterator[DevStack]:
    stack = DevStack(tmp_path / ".data")
    try:
        yield stack
    finally:
        if stack.process is not None:
            stack.process.kill()
            stack.process.wait()
        # its processes run in sessions of their own: make sure they are gone
        for pid in stack.seen_pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def test_newcomer_flow_submit_find_resubmit_restart(dev_stack: DevStack):
    dev_stack.start()
    # the banner came once every process answers: the API's health, at once
    assert httpx.get(f"{dev_stack.api}/healthz", timeout=10).status_code == 200
    # each part is a process of its own, through its production entry point, none of them
    # the supervisor
    processes = dev_stack.processes()
    assert set(processes) == PROCESSES
    assert len(set(processes.values())) == len(PROCESSES)
    assert dev_stack.process.pid not in processes.values()
    for name in ("api", "worker", "codec-server", "mail-catcher"):
        assert _command(processes[name])[-1] == name, _command(processes[name])
    assert _command(processes["temporal"])[1:3] == ["server", "start-dev"]
    # the first start made an admin key: kept for its owner only, printed this once
    key_file = dev_stack.data_dir / "admin-api-key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert dev_stack.log(whole=True).count(dev_stack.admin_key) == 1
    body = (EXAMPLES / "eoi.json").read_bytes()
    assert httpx.get(f"{dev_stack.api}/api/matches", timeout=10).status_code == 401
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(
        base_url=dev_stack.api, timeout=10, headers=dev_stack.auth
    ) as http:
        created = await http.post("/api/eois", content=body, headers=headers)
        assert created.status_code == 201, created.text
        match_id = created.json()["match_id"]
        assert match_id == "match-NS21-014"
        shown = await http.get(f"/api/matches/{match_id}")  # read your own write
        assert shown.status_code == 200, shown.text

        await wait_for(lambda: len(dev_stack.mails()) == 2, timeout=30)
        # the stack's metrics: the database's figures (the API's), the emails sent (the
        # worker's), and the worker's Temporal SDK's own
        metrics = httpx.get(f"http://127.0.0.1:{dev_stack.ports['metrics']}/metrics").text
        assert 'matchmaker_matches{stage="follow_up",status="active"} 1.0' in metrics
        worker = httpx.get(f"http://127.0.0.1:{dev_stack.ports['worker']}/metrics").text
        assert 'matchmaker_email_attempts_total{result="sent"} 2.0' in worker
        sdk = httpx.get(f"http://127.0.0.1:{dev_stack.ports['sdk']}/metrics").text
        assert "temporal_activity_execution_latency_bucket" in sdk
        client = await connect(dev_stack.settings())
        handle = client.get_workflow_handle(match_id)
        description = await handle.describe()
        assert description.status == WorkflowExecutionStatus.RUNNING
        assert description.typed_search_attributes.get(sa.MATCH_STAGE) == "follow_up"
        assert description.typed_search_attributes.get(sa.ADOPTER_COUNTRY) == "KZ"
        assert await description.static_summary() == (
            "Union Digital Centres: one-stop rural service delivery — BD → Agency for Civil Service Affairs, KZ"
        )
        found = await wait_for(
            lambda: _visible(
                client, "MatchStage = 'follow_up' AND WorkshopId = 'ws-2021-nur-sultan'"
            ),
            timeout=20,
        )
        assert [w.id for w in found] == [match_id]

        # the UI is wired to the codec server, which opens the input for an admin only
        ui = httpx.get(f"http://127.0.0.1:{dev_stack.ports['ui']}/api/v1/settings", timeout=10)
        endpoint = ui.json()["Codec"]["Endpoint"]
        assert endpoint.startswith(f"http://127.0.0.1:{dev_stack.ports['codec']}/ui/")
        history = await handle.fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes.input
        sealed = json_format.MessageToJson(started)
        assert "Farhana" not in sealed
        codec = f"http://127.0.0.1:{dev_stack.ports['codec']}"
        assert httpx.post(f"{codec}/decode", content=sealed, timeout=10).status_code == 401
        opened = httpx.post(f"{codec}/decode", content=sealed, headers=dev_stack.auth, timeout=10)
        assert opened.status_code == 200 and "Farhana" in str(
            json_format.Parse(opened.text, Payloads()).payloads[0].data
        )
        assert (dev_stack.data_dir / "payload-key").stat().st_mode & 0o777 == 0o600

        with sqlite3.connect(dev_stack.data_dir / "matchmaker.db") as db:
            assert db.execute(
                "select stage, status from matches where id = ?", (match_id,)
            ).fetchall() == [("follow_up", "active")]
        subjects = sorted(str(make_header(decode_header(m["Subject"]))) for m in dev_stack.mails())
        # the example's adopter speaks Russian, its provider English
        assert any("просим подтвердить" in s for s in subjects) and any(
            "will you share it?" in s for s in subjects
        )

        again = await http.post("/api/eois", content=body, headers=headers)
        assert again.status_code == 200 and again.json()["created"] is False

    time.sleep(1)
    assert len(dev_stack.mails()) == 2
    assert len(await _visible(client, f"WorkflowId = '{match_id}'")) == 1
    with sqlite3.connect(dev_stack.data_dir / "matchmaker.db") as db:
        assert db.execute("select count(*) from matches").fetchone() == (1,)
        assert db.execute("select count(*) from notification_outbox").fetchone() == (2,)

    # the CLI goes through the same intake; it finds the stack's ports from its data
    # directory, with none of them exported
    client_env = {k: v for k, v in dev_stack.env.items() if not k.startswith("MATCHMAKER_")}
    client_env["MATCHMAKER_DATA_DIR"] = str(dev_stack.data_dir)
    cli = subprocess.run(
        [str(binary_path("matchmaker")), "eoi", "submit", str(EXAMPLES / "eoi.json")],
        env=client_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    assert '"created": false' in cli.stdout
    # a match the CLI started is readable the moment the CLI returns
    other = dev_stack.data_dir / "other-eoi.json"
    other.write_text(body.decode().replace('"NS21-014"', '"NS21-015"'))
    cli = subprocess.run(
        [str(binary_path("matchmaker")), "eoi", "submit", str(other)],
        env=dev_stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0 and '"created": true' in cli.stdout, cli.stderr
    shown = httpx.get(
        f"{dev_stack.api}/api/matches/match-NS21-015", headers=dev_stack.auth, timeout=10
    )
    assert shown.status_code == 200, shown.text
    await wait_for(lambda: len(dev_stack.mails()) == 4, timeout=60)  # NS21-015's two

    assert dev_stack.stop() == 0
    # one Ctrl-C stopped every process, and the state file went with them
    assert [name for name, pid in processes.items() if _alive(pid)] == []
    assert not (dev_stack.data_dir / "dev-stack.json").exists()
    # a second start resumes the open workflow (the query needs a live worker), and keeps
    # the admin key without showing it again
    first_key = dev_stack.admin_key
    dev_stack.start()
    assert dev_stack.admin_key == first_key
    assert dev_stack.log(whole=True).count(first_key) == 1
    listed = httpx.get(f"{dev_stack.api}/api/matches", headers=dev_stack.auth, timeout=10)
    assert listed.status_code == 200 and listed.json()["total"] == 2
    client = await connect(dev_stack.settings())
    state = await client.get_workflow_handle(match_id).query(MatchLifecycle.state)
    assert state.stage == "follow_up" and [h.kind for h in state.history][0] == "match_recorded"
    assert state.waiting_on() == ["adopter", "provider"]
    assert len(dev_stack.mails()) == 4  # nothing sent twice across the restart
    assert dev_stack.stop() == 0


async def _visible(client, query: str) -> list:
    return [w async for w in client.list_workflows(query)]


def test_busy_port_is_a_one_line_error(dev_stack: DevStack):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", dev_stack.ports["api"]))
        holder.listen()
        result = subprocess.run(
            [str(binary_path("matchmaker")), "dev"],
            env=dev_stack.env,
            cwd=dev_stack.data_dir.parent,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert (
        f"matchmaker: port {dev_stack.ports['api']} (API) is already in use: stop what holds "
        "it, or choose another with --api-port (or MATCHMAKER_API_PORT)"
    ) in lines
    # one line per taken port: in a parallel run another of the stack's ports (each picked free
    # when the fixture started) may meanwhile be some process's outgoing connection
    taken = re.compile(r"matchmaker: port \d+ \(.+\) is already in use: .+ with --[a-z-]+ .+")
    assert all(taken.fullmatch(line) for line in lines), lines
    assert "Traceback" not in result.stdout + result.stderr


def test_every_port_is_an_option_and_a_taken_one_is_named_with_its_option(dev_stack: DevStack):
    taken = free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        result = subprocess.run(
            [str(binary_path("matchmaker")), "dev", "--ui-port", str(taken)]
            + ["--sdk-metrics-port", str(taken)],
            env=dev_stack.env,
            cwd=dev_stack.data_dir.parent,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"matchmaker: port {taken} (Temporal UI) is already in use: stop what holds it, or "
        "choose another with --ui-port (or MATCHMAKER_TEMPORAL_UI_PORT)",
        f"matchmaker: port {taken} (SDK metrics) is already in use: stop what holds it, or "
        "choose another with --sdk-metrics-port (or MATCHMAKER_TEMPORAL_METRICS_PORT)",
        f"matchmaker: port {taken} is chosen twice (Temporal UI and SDK metrics): give each "
        "its own",
    ]
    help_text = subprocess.run(
        [str(binary_path("matchmaker")), "dev", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    for option in PORT_OPTIONS:
        assert option in help_text, option


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


def test_a_process_that_dies_is_named_and_the_others_are_stopped(dev_stack: DevStack):
    dev_stack.start()
    processes = dev_stack.processes()
    os.kill(processes["worker"], signal.SIGKILL)
    assert dev_stack.process.wait(timeout=90) == 1
    dev_stack.process = None
    errors = [
        json.loads(line)
        for line in dev_stack.log(whole=True).splitlines()
        if line.startswith("{") and '"level": "error"' in line and "workers.dev" in line
    ]
    assert [(e["event"], e["process"]) for e in errors] == [
        ("a process of the stack stopped unexpectedly; stopping the others", "worker")
    ]
    assert errors[0]["reason"].startswith("worker was killed by signal 9 while running")
    assert [name for name, pid in processes.items() if _alive(pid)] == []
    assert not (dev_stack.data_dir / "dev-stack.json").exists()


def test_invalid_eoi_file_is_refused_by_the_cli(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "X-1", "workshop": {"id": "w", "title": "", "date": "2021-01-01"}}')
    result = subprocess.run(
        [str(binary_path("matchmaker")), "eoi", "submit", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"{bad}: workshop.title:" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_binary_is_named():
    from infra.temporal import MissingBinaryError

    with pytest.raises(MissingBinaryError, match="no-such-binary not found"):
        binary_path("no-such-binary")
