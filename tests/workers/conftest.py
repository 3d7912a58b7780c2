"""CLI tests run the real `configure_logging`, which points the root handler at the
CliRunner's stream: put the logging of the session back after each one."""

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def logging_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
