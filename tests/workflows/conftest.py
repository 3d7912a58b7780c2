from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support import start_test_server


@pytest.fixture
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A test server per test: time skipping stalls while other tests' workflows wait on tasks."""
    env = await start_test_server()
    try:
        yield env
    finally:
        await env.shutdown()
