"""The console benchmark runs end to end at a tiny size (its figures are read, not asserted)."""

import re
import subprocess
import sys

from tests.support import ROOT


def test_the_console_benchmark_renders_every_page_on_both_databases():
    run = subprocess.run(
        [sys.executable, "bench/console.py", "--matches", "200", "--workshops", "4",
         "--repeat", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    assert "SQLite: 200 matches seeded" in out, out
    for page in ("overview", "matches: free text", "match page", "action form"):  # min p50 p99 cpu
        assert re.search(
            rf"^{re.escape(page)}.* +\d+\.\d+ +\d+\.\d+ +\d+\.\d+ +\d+\.\d+", out, re.M
        ), out
    assert re.search(r"^target \(p99 ≤ 200 ms per page\): sqlite (met|missed)", out, re.M)
