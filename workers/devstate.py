"""The running dev stack's state file, `dev-stack.json` in its data directory.

`matchmaker dev` writes it once its processes are ready and removes it when it stops; the
other commands read it, so that `matchmaker eoi submit …` finds a stack started on other ports
without exporting them again. A setting given in the environment (or `.env`) always wins; a
file whose supervisor is gone is ignored, with a note."""

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.settings import Settings

STATE_FILE = "dev-stack.json"

# what a client of the stack takes from the file, unless it has its own value
CLIENT_SETTINGS = (
    "temporal_target",
    "temporal_namespace",
    "task_queue",
    "database_url",
    "api_port",
    "public_base_url",
    "temporal_ui_port",
    "smtp_port",
    "codec_port",
)


def state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


def process_start(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (Linux's /proc), so that a
    number the system gave to another process since is not taken for ours; None when there
    is no such process or no /proc to ask."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # pid (comm) state ppid …: comm may hold spaces and parentheses; starttime is field 22
    return int(stat.rsplit(")", 1)[1].split()[19])


def is_running(pid: int, started: int | None) -> bool:
    """Whether process ``pid`` is alive and is the one that started at ``started``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    if started is None:
        return True
    now = process_start(pid)
    return now is None or now == started


def process_entry(pid: int) -> dict[str, int | None]:
    return {"pid": pid, "started": process_start(pid)}


@dataclass(frozen=True)
class DevState:
    """What the file says: the supervisor, its processes and the settings clients need."""

    path: Path
    pid: int
    started: int | None
    settings: dict[str, Any]
    processes: dict[str, dict[str, int | None]]
    api_url: str

    @property
    def running(self) -> bool:
        return is_running(self.pid, self.started)

    def survivors(self) -> dict[str, int]:
        """Its processes still running (the supervisor was killed before it could stop them)."""
        return {
            name: int(entry["pid"])  # type: ignore[arg-type]
            for name, entry in self.processes.items()
            if entry.get("pid") and is_running(int(entry["pid"]), entry.get("started"))  # type: ignore[arg-type]
        }


def write_state(
    data_dir: Path,
    *,
    settings: dict[str, Any],
    processes: dict[str, int],
    api_url: str,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write the state of this process's stack, readable by its owner only (the database URL
    may carry a password), replacing the file in one step."""
    path = state_path(data_dir)
    body = {
        "pid": os.getpid(),
        "started": process_start(os.getpid()),
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "api_url": api_url,
        "settings": {name: settings[name] for name in CLIENT_SETTINGS if name in settings},
        "processes": {name: process_entry(pid) for name, pid in processes.items()},
        **(extra or {}),
    }
    staging = path.with_name(f".{STATE_FILE}.{os.getpid()}")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(body, file, indent=2)
        file.write("\n")
    staging.replace(path)
    return path


def remove_state(data_dir: Path) -> None:
    """Remove the file if it is this process's."""
    found = read_state(data_dir)
    if found is not None and found.pid == os.getpid():
        found.path.unlink(missing_ok=True)


def read_state(data_dir: Path) -> DevState | None:
    """The file's content, running or not; None without a readable file."""
    path = state_path(data_dir)
    try:
        body = json.loads(path.read_text())
        return DevState(
            path=path,
            pid=int(body["pid"]),
            started=body.get("started"),
            settings=dict(body.get("settings", {})),
            processes=dict(body.get("processes", {})),
            api_url=str(body.get("api_url", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_stack(settings: Settings) -> tuple[dict[str, Any], str | None]:
    """The settings a client takes from the dev stack running from ``settings.data_dir``:
    only those it was not given (environment, `.env`, options), and a note to show when
    the file is stale."""
    state = read_state(settings.data_dir)
    if state is None:
        return {}, None
    if not state.running:
        return {}, (
            f"{state.path} names a dev stack that is no longer running (pid {state.pid}); "
            "ignored (the next `matchmaker dev` replaces it)"
        )
    given = settings.model_fields_set
    return {
        name: value
        for name, value in state.settings.items()
        if name in CLIENT_SETTINGS and name not in given
    }, None
