import base64
import json
import os
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

# a test server per test, and workflow paths on SQLite (the store and API suites run PostgreSQL)
from tests.support import sqlite_database_url, temporal_env_of_its_own  # noqa: F401

HISTORIES = Path(__file__).parent / "histories"


@pytest.fixture
def keep_history():
    """Return a function that stores a finished workflow's history for the replay test.

    Histories are (re)written only when MATCHMAKER_RECORD_HISTORIES=1; otherwise the stored
    files stay as they are, so CI replays histories made by earlier code.
    """

    async def keep(handle, name: str) -> None:
        if os.environ.get("MATCHMAKER_RECORD_HISTORIES") == "1":
            history = json.loads((await handle.fetch_history()).to_json())
            # stored opened: the session's payload key is made afresh for every run
            await _open_payloads(history, handle._client.data_converter.payload_codec)
            HISTORIES.mkdir(exist_ok=True)
            (HISTORIES / f"{name}.json").write_text(json.dumps(history, indent=2) + "\n")

    return keep


async def _open_payloads(node, codec) -> None:  # type: ignore[no-untyped-def]
    """Decode, in place, every sealed payload of a history read as JSON."""
    if isinstance(node, list):
        for item in node:
            await _open_payloads(item, codec)
        return
    if not isinstance(node, dict):
        return
    if "encryption-key-id" in node.get("metadata", {}):
        sealed = Payload(
            metadata={k: base64.b64decode(v) for k, v in node["metadata"].items()},
            data=base64.b64decode(node.get("data", "")),
        )
        [opened] = await codec.decode([sealed])
        node["metadata"] = {k: base64.b64encode(v).decode() for k, v in opened.metadata.items()}
        node["data"] = base64.b64encode(opened.data).decode()
        return
    for value in node.values():
        await _open_payloads(value, codec)
