"""The Temporal Web UI in headless Chromium shows a match's input decoded through the codec
server, and only ciphertext without it (as an operator of Temporal alone would see it)."""

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.policy import TimingPolicy
from infra.settings import Settings
from infra.temporal import binary_path, data_converter, payload_codec, readable
from tests.support import settings_for_tests, unique_eoi
from tests.web.browser import CHROMIUM, artifacts_dir, chromium
from workers.codec_server import create_codec_app
from workers.ports import free_port
from workers.serving import served
from workflows.contracts import MatchLifecycleInput
from workflows.match_lifecycle import MatchLifecycle
from workflows.search_attributes import ALL_KEYS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)",
    ),
]


@pytest.fixture
async def dev_server() -> AsyncIterator[tuple[WorkflowEnvironment, Settings, int]]:
    """The dev server with its Web UI, configured with a codec endpoint as `make run` does."""
    ui, codec = free_port(), free_port()
    token = secrets.token_urlsafe(24)
    settings = settings_for_tests(
        codec_ui_token=token, codec_port=codec, codec_cors_origins=f"http://127.0.0.1:{ui}"
    )
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(binary_path("temporal")),
        data_converter=data_converter(settings),
        search_attributes=ALL_KEYS,
        ui=True,
        ui_port=ui,
        dev_server_log_level="error",
        dev_server_extra_args=["--ui-codec-endpoint", f"http://127.0.0.1:{codec}/ui/{token}"],
    )
    try:
        yield env, settings, ui
    finally:
        await env.shutdown()


async def _start_match(client: Client):  # type: ignore[no-untyped-def]
    """A match as intake starts it; no worker is needed for its input to be in history."""
    eoi = unique_eoi()
    await client.start_workflow(
        MatchLifecycle.run,
        MatchLifecycleInput(eoi=eoi, policy=TimingPolicy()),
        id=eoi.match_id,
        task_queue=f"no-worker-{secrets.token_hex(4)}",
        static_summary=readable(eoi.summary()),  # as services/intake.py sets it
    )
    return eoi


SHOWS_TEXT = "needle => document.body.innerText.replace(/\\s+/g, ' ').includes(needle)"
# the UI shows a payload it cannot decode as its data in base64: a long run of base64
SHOWS_CIPHERTEXT = '() => /Input\\s+"[A-Za-z0-9+/]{400,}/.test(document.body.innerText)'


async def _input_shown(page: Page, url: str, predicate: str, arg: str | None = None) -> str:
    """Open the workflow's page and return its text once ``predicate`` holds of it."""
    await page.goto(url)
    await page.wait_for_function(predicate, arg=arg, timeout=30_000)
    return await page.evaluate("document.body.innerText")


async def _eventually_in_frames(page: Page, needle: str, timeout: float = 30) -> bool:
    """Whether ``needle`` appears in the page or its frames (the UI renders summaries as
    markdown in a sandboxed frame) within ``timeout`` seconds."""
    for _ in range(int(timeout * 4)):
        for frame in page.frames:
            with contextlib.suppress(PlaywrightError):
                if needle in await frame.content():
                    return True
        await asyncio.sleep(0.25)
    return False


async def test_the_ui_decodes_a_match_input_with_the_codec_server_only(dev_server, tmp_path: Path):
    env, settings, ui = dev_server
    eoi = await _start_match(env.client)
    contact = eoi.solution.contact
    url = f"http://127.0.0.1:{ui}/namespaces/default/workflows/{eoi.match_id}"
    app = create_codec_app(settings, codec=payload_codec(settings), sessions=None)
    shots = artifacts_dir(tmp_path, "temporal-ui-codec")
    async with served(app, settings.codec_port), chromium() as browser:
        page = await browser.new_page(viewport={"width": 1400, "height": 1400})
        decoded = await _input_shown(page, url, SHOWS_TEXT, contact.email)
        await page.screenshot(path=shots / "decoded.png", full_page=True)
        assert contact.name in decoded and eoi.solution.title in decoded

        # the same page when the codec server cannot be reached: what Temporal stores
        blind = await browser.new_page(viewport={"width": 1400, "height": 1400})
        await blind.route(f"http://127.0.0.1:{settings.codec_port}/**", lambda r: r.abort())
        sealed = await _input_shown(blind, url, SHOWS_CIPHERTEXT)
        await blind.screenshot(path=shots / "sealed.png", full_page=True)
        for value in (contact.name, contact.email, eoi.adopter.contact.email, eoi.solution.title):
            assert value not in sealed
        # the summary stays readable without the codec: institutions and countries only
        await blind.get_by_text("User Metadata", exact=True).first.click()
        assert await _eventually_in_frames(blind, eoi.summary())
