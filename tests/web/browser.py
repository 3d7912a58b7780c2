"""Helpers for the partner pages in a real browser: the app over real HTTP, headless Chromium
(Debian's, never a downloaded one), axe-core, screenshots kept as test artifacts."""

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
# as /work/shared/RECIPES.md says: the system browser, no sandbox (root in CI), nothing that
# reaches out on its own
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BLOCKING = ("serious", "critical")  # axe impacts a page must not have


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Headless Debian Chromium driven by Playwright."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


def artifacts_dir(tmp_path: Path, name: str) -> Path:
    """Where screenshots go: ``$MATCHMAKER_ARTIFACTS/<name>`` if set, else the test's tmp_path."""
    root = os.environ.get("MATCHMAKER_ARTIFACTS")
    folder = Path(root) / name if root else tmp_path / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def violations(page: Page) -> tuple[list[str], list[str]]:
    """axe-core's violations on the page, one line each: the serious and critical ones, and
    the others (moderate, minor: reported, not refused)."""
    results = await Axe().run(page)
    blocking, others = [], []
    for violation in results.response["violations"]:
        targets = [", ".join(node["target"]) for node in violation["nodes"]]
        line = f"{violation['impact']} {violation['id']}: {violation['help']} {targets}"
        (blocking if violation["impact"] in BLOCKING else others).append(line)
    return blocking, others


async def blocking_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    return (await violations(page))[0]


async def overflowing(page: Page) -> list[str]:
    """Elements that stick out of the viewport on the right (a page a phone scrolls sideways)."""
    return await page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const out = [];
          if (document.documentElement.scrollWidth > width)
            out.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
          for (const el of document.body.querySelectorAll('*')) {
            const box = el.getBoundingClientRect();
            if (box.width && box.right > width + 0.5)
              out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}` +
                       `.${el.className} right edge ${Math.round(box.right)} > ${width}`);
          }
          return out;
        }"""
    )
