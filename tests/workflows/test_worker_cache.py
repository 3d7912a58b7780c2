"""A worker keeps only so many matches in memory: the others are rebuilt from their history
when they next move or are queried, and behave exactly as if they had stayed."""

import uuid

import pytest

from domain.enums import PromptKind, Stage
from domain.lifecycle import answers as a
from infra.settings import Settings
from tests.conftest import Stack, resources_for_tests
from tests.support import settings_for_tests
from tests.workflows.helpers import Match
from workers.worker import SANDBOX, UNSANDBOXED, WorkerLimits, build_worker


def test_the_limits_come_from_the_settings():
    settings = settings_for_tests(
        worker_max_cached_workflows=7,
        worker_max_concurrent_workflow_tasks=3,
        worker_max_concurrent_activities=5,
    )
    assert WorkerLimits.from_settings(settings) == WorkerLimits(7, 3, 5)
    assert WorkerLimits() == WorkerLimits.from_settings(Settings())


def test_the_cache_is_bounded_by_default():
    # the SDK's own default keeps 1,000 matches, ~0.24 MiB each in the sandbox (bench/scale.py)
    assert 0 < WorkerLimits().max_cached_workflows <= 400


async def test_the_sandbox_comes_from_the_settings(temporal_env):
    resources = resources_for_tests(None, 25)  # the worker is built, never run
    for setting, runner in ((True, SANDBOX), (False, UNSANDBOXED)):
        settings = settings_for_tests(worker_workflow_sandbox=setting)
        worker = build_worker(
            temporal_env.client,
            task_queue=f"never-polled-{uuid.uuid4().hex[:8]}",
            resources=resources,
            sandboxed=settings.worker_workflow_sandbox,
        )
        assert worker.config()["workflow_runner"] is runner
    # the SDK's default, the tests' and the dev stack's: a non-deterministic call fails there
    assert Settings().worker_workflow_sandbox is True


@pytest.fixture(params=[True, False], ids=["sandboxed", "unsandboxed"])
async def small_stack(request, temporal_env, sessions, smtp):
    """A worker that keeps two matches in memory, with the real activities; in the workflow
    sandbox, and without it as a production worker may run."""
    handler, port = smtp
    resources = resources_for_tests(sessions, port)
    task_queue = f"test-{uuid.uuid4().hex[:8]}"
    limits = WorkerLimits(max_cached_workflows=2, max_concurrent_workflow_tasks=2)
    worker = build_worker(
        temporal_env.client,
        task_queue=task_queue,
        resources=resources,
        limits=limits,
        sandboxed=request.param,
    )
    assert worker.config()["max_cached_workflows"] == 2
    async with worker:
        yield Stack(
            client=temporal_env.client, task_queue=task_queue, resources=resources, mail=handler
        )


async def test_matches_evicted_from_the_cache_still_answer_and_move(small_stack, temporal_env):
    matches = [await Match.begin(small_stack, temporal_env) for _ in range(5)]
    # the first three were evicted by the last two; each is rebuilt to take its answer
    for match in matches:
        await match.answer(
            PromptKind.INTRODUCTION_ADOPTER,
            a.InterestAnswer(decision="confirm", needs="rural clinics", exchange="remote"),
        )
    for match in matches:
        await match.answer(
            PromptKind.INTRODUCTION_PROVIDER, a.ShareAnswer(decision="accept", exchange="remote")
        )
    for match in matches:
        state = await match.state()
        assert state.eoi.id == match.eoi.id
        # a remote exchange goes straight to adaptation, whose plan is asked of the adopter
        assert state.stage == Stage.ADAPTATION
        assert [p.kind for p in state.open_prompts()] == [PromptKind.ADAPTATION_PLAN]
