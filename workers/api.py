"""`matchmaker api`: the HTTP API process, and the backend every API and CLI use case runs on."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from infra.heap import freeze_startup_heap
from infra.settings import Settings
from infra.telemetry import client_options as telemetry_options
from infra.telemetry import instrument_app, instrument_engine, tracer_provider
from infra.temporal import connect
from services.backend import Backend
from store.engine import make_engine, make_sessionmaker
from workers.http import create_app
from workers.observe import metrics_endpoint


def backend_for(
    settings: Settings, *, client: Client, sessions: async_sessionmaker[AsyncSession]
) -> Backend:
    """The services' backend from settings and clients built by the caller."""
    return Backend(
        client=client,
        sessions=sessions,
        task_queue=settings.task_queue,
        namespace=settings.temporal_namespace,
        temporal_ui_url=f"http://127.0.0.1:{settings.temporal_ui_port}",
        policy=settings.timing_policy,
        outbox_alert_seconds=settings.outbox_alert_seconds,
        day_seconds=settings.day_seconds,
    )


@contextlib.asynccontextmanager
async def open_backend(
    settings: Settings,
    *,
    lazy: bool = True,
    provider: TracerProvider | None = None,
    client_options: dict[str, Any] | None = None,
) -> AsyncIterator[Backend]:
    """Connect to Temporal (lazily: the API starts while Temporal is down) and the database;
    a long-running process passes its tracer ``provider`` and telemetry ``client_options``."""
    engine = make_engine(settings.resolved_database_url)
    instrument_engine(engine, provider)
    try:
        client = await connect(settings, lazy=lazy, **(client_options or {}))
        yield backend_for(settings, client=client, sessions=make_sessionmaker(engine))
    finally:
        await engine.dispose()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the API, in ``matchmaker api`` and ``matchmaker dev`` alike: logs
    through our configuration, no access log of its own (the app writes one line per
    request), and a bound on the wait for requests under way when told to stop (a request
    waiting on a stuck workflow would otherwise hold the process up for ever)."""
    return {
        "host": settings.api_host,
        "port": settings.api_port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": settings.api_graceful_shutdown_seconds,
        **settings.proxy_options(),
    }


async def serve_api(settings: Settings) -> None:
    """Serve the API until uvicorn is told to stop (SIGINT/SIGTERM), with its metrics on
    ``api_metrics_port`` (the database's figures among them) and traces when configured."""
    provider = tracer_provider(settings, service="matchmaker-api")
    options = telemetry_options(settings, provider)
    async with open_backend(settings, provider=provider, client_options=options) as backend:
        app = create_app(settings, backend=backend)
        instrument_app(app, provider)
        config = uvicorn.Config(app, **uvicorn_options(settings))
        freeze_startup_heap()
        with metrics_endpoint(settings, settings.api_metrics_port, sessions=backend.sessions):
            await uvicorn.Server(config).serve()
