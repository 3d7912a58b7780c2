"""`matchmaker worker`: one production worker process."""

import asyncio
import signal

import structlog

from infra.heap import freeze_startup_heap
from infra.settings import Settings
from infra.telemetry import client_options, tracer_provider
from infra.temporal import connect, ensure_search_attributes
from workers.observe import metrics_endpoint
from workers.worker import WorkerLimits, build_worker, open_resources
from workflows.search_attributes import ALL_KEYS

logger = structlog.get_logger()


async def run_worker(settings: Settings) -> None:
    """Connect, make sure the namespace knows our search attributes, and poll until signalled;
    metrics on ``worker_metrics_port`` (and the SDK's on ``temporal_metrics_port``), traces
    when configured."""
    provider = tracer_provider(settings, service="matchmaker-worker")
    client = await connect(settings, **client_options(settings, provider))
    added = await ensure_search_attributes(client, settings.temporal_namespace, ALL_KEYS)
    if added:
        logger.info("search attributes registered", names=added)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_resources(settings, provider=provider) as resources:
        worker = build_worker(
            client,
            task_queue=settings.task_queue,
            resources=resources,
            limits=WorkerLimits.from_settings(settings),
            sandboxed=settings.worker_workflow_sandbox,
        )
        freeze_startup_heap()
        with metrics_endpoint(settings, settings.worker_metrics_port):
            async with worker:
                logger.info("worker started", task_queue=settings.task_queue)
                await stop.wait()
    logger.info("worker stopped")
