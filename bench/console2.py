"""The console's bulk, import and case-study pages at scale (10,000 matches by default): the
same seed, session and measurement as bench/console.py, over these pages' GET requests.

    uv run python bench/console2.py --backends sqlite
"""

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import console  # noqa: E402
from bench.console import Case  # noqa: E402


def cases(workshops: int) -> list[Case]:
    ws = f"ws-{workshops // 2:04d}"
    return [
        Case("bulk: every match, no action", "/console/bulk", {}),
        Case("bulk: a workshop, pause's fields", "/console/bulk", {"workshop_id": ws, "action": "pause"}),
        Case("bulk: stage + status, a note", "/console/bulk",
             {"stage": "adaptation", "status": "active", "action": "note"}),
        Case("import: the upload form", "/console/import", {}),
        Case("case studies: all", "/console/case-studies", {}),
        Case("case studies: drafts", "/console/case-studies", {"status": "draft"}),
    ]  # fmt: skip


if __name__ == "__main__":
    console.cases = cases  # type: ignore[assignment]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=10_000)
    parser.add_argument("--workshops", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=50, help="timed requests per page")
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    asyncio.run(console.main(parser.parse_args()))
