"""CPU used so far by this process and by one Temporal dev server (read from /proc)."""

import os
from pathlib import Path


def own_cpu() -> float:
    """CPU seconds of this process (workers, app, driver, SMTP catcher)."""
    times = os.times()
    return times.user + times.system


def server_cpu(port: str) -> float:
    """CPU seconds of the dev server listening on ``port`` (its ``--port``), not of the other
    dev servers that other work on the machine may be running."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
            if b"start-dev" in words and port.encode() in words:
                fields = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return 0.0


def port_of(client) -> str:  # type: ignore[no-untyped-def]
    """The port of the server a Temporal client talks to."""
    return client.service_client.config.target_host.rsplit(":", 1)[1]
