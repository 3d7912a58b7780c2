"""The benchmark runs end to end (its figures are read by people, never asserted here)."""

import re
import subprocess
import sys

from tests.support import ROOT


def run_bench(script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a benchmark as a person would, from the project's root; fail with its error."""
    run = subprocess.run(
        [sys.executable, script, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def test_the_lifecycle_benchmark_runs_both_sides_with_real_work():
    run = run_bench("bench/lifecycle.py", "--matches", "2", "--concurrency", "2", "--warm-up", "1")
    out = run.stdout
    assert "Completing activity as failed" not in run.stderr
    shape = re.search(r"happy path per match: (\d+) activities, (\d+) updates", out)
    assert shape and shape.groups() == ("17", "6"), out
    for name in ("bare", "matchmaker", "no-op"):
        assert re.search(rf"^{name} +2 workflows in", out, re.MULTILINE), out
    # 8 emails per match: the sample, the warm-up, 2 matches and 2 × 2 bare replays of them
    # (the no-op run sends none), so the baseline does the match's real work.
    assert f"emails received by the SMTP catcher: {8 * (1 + 1 + 2 + 4)}" in out, out
    assert re.search(r"ratio matchmaker / bare = \d+\.\d+", out), out


def test_the_monitor_benchmark_runs_with_tiny_sizes_on_both_databases():
    run = run_bench(
        "bench/monitor.py", "--matches", "300", "--workshops", "6", "--repeat", "3", timeout=600
    )
    out = run.stdout
    assert "SQLite: 300 matches seeded" in out, out
    assert "PostgreSQL: 300 matches seeded" in out or "PostgreSQL: not installed" in out, out
    for case in ("baseline (no match)", "list: free text", "funnel by workshop", "stalled 30 days"):
        assert re.search(rf"^{re.escape(case)} +\d+\.\d+ +\d+\.\d+ +\d+\.\d+", out, re.M), out
    assert re.search(
        r"^targets \(p99: list ≤ 20 ms, funnel ≤ 200 ms\): sqlite (met|missed)", out, re.M
    )


def test_the_answer_benchmark_posts_each_answer_at_its_link_and_measures_both_sides():
    run = run_bench("bench/answer.py", "--answers", "3", "--rounds", "1", "--warm-up", "1")
    out = run.stdout
    for name in ("bare q\\+u", "bare", "matchmaker"):
        assert re.search(rf"^{name} +3 answers in .* p50 +\d+\.\d ms +p99", out, re.MULTILINE), out
    assert len(re.findall(r"^bare +3 answers", out, re.MULTILINE)) == 2, out
    assert re.search(r"^p99: matchmaker / bare = \d+\.\d\d", out, re.MULTILINE), out
    # every answer was taken from the link in an email (1 warm-up and 3 measured matches);
    # the benchmark stops on any answer the page did not record
    emails = re.search(
        r"^transport: http; settle: no; workflow cache: \d+, sandbox: off, on both sides; emails received by the SMTP catcher: (\d+)",
        out,
        re.M,
    )
    assert emails and int(emails.group(1)) >= 1 + 3, out


def test_the_scale_benchmark_opens_matches_on_a_worker_process_and_queries_each():
    run = run_bench(
        "bench/scale.py",
        "--matches",
        "12",
        "--warm-up",
        "2",
        "--width",
        "4",
        "--max-cached",
        "3",
        "--backend",
        "sqlite",
    )
    out = run.stdout
    assert re.search(
        r"^worker pid \d+: [\d.]+ MiB at start; workflow cache 3, sandbox off$", out, re.M
    ), out
    assert re.search(r"^opened 12 matches, each waiting on its partners: ", out, re.M), out
    tenths = re.search(
        r"^worker memory, the peak within each tenth of the matches opened \(MiB\):((?: \d+){10})$",
        out,
        re.M,
    )
    assert tenths, out
    # more matches than the cache holds: most were rebuilt from their history to answer
    assert re.search(r"^queried 12: 12 answered with their own state in ", out, re.M), out
    assert re.search(r"^target: peak <= 300 MiB and every match answers: (met|NOT met)$", out, re.M)


def test_the_answer_benchmark_can_time_the_visit_confirmation_that_sends_the_invitations():
    run = run_bench(
        "bench/answer.py", "--answers", "2", "--rounds", "1", "--warm-up", "1", "--answer", "visit"
    )
    out = run.stdout
    assert re.search(r"^matchmaker +2 answers in .* p99", out, re.MULTILINE), out
    # each confirmed visit invited both delegations
    invited = re.search(r"\((\d+) with a calendar invitation\); answer: visit$", out, re.M)
    assert invited and int(invited.group(1)) == 2 * 2, out


def test_the_dev_stack_benchmark_answers_with_and_without_an_import_on_make_runs_stack():
    run = run_bench(
        "bench/devstack.py",
        *("--rows", "6", "--answers", "2", "--import-answers", "3", "--rounds", "1"),
        *("--warm-up", "1"),
        timeout=600,
    )
    out = run.stdout
    # `make run`'s shape: a process per part, found by the stack's state file
    assert re.search(
        r"^stack: matchmaker dev in .* \(pids: supervisor \d+, temporal \d+, mail-catcher \d+, "
        r"worker \d+, api \d+, codec-server \d+\)",
        out,
        re.M,
    ), out
    assert re.search(
        r"^round 1: quiet 2 answers p50 [\d.]+ ms p99 [\d.]+ ms \| import of 6 rows in [\d.]+ s: "
        r"[1-3] answers p50 [\d.]+ ms p99 [\d.]+ ms max [\d.]+ ms.* \| p99 ratio \d+\.\d\d$",
        out,
        re.M,
    ), out
    assert re.search(
        r"^  CPU seconds in the import: supervisor [\d.]+, temporal .*; load average", out, re.M
    )
    for figure in ("quiet p50", "quiet p99", "import p50", "import p99"):
        assert re.search(rf"^  {figure}: min [\d.]+ ms, median [\d.]+ ms$", out, re.M), out
    assert re.search(r"^  p99 import / quiet: min \d+\.\d\d, median \d+\.\d\d$", out, re.M)
    assert re.search(r"^target \(.*\): (met|NOT met)$", out, re.M), out
    # two introductions per match: the warm-up's, the round's 2 + 3 ready to answer and the
    # workshop's 6; every answer was taken from the link in an email; Ctrl-C stopped the stack
    assert f"emails caught by the stack: {2 * (1 + 2 + 3 + 6)}; " in out, out
    assert out.rstrip().endswith("the stack stopped with exit code 0"), out
