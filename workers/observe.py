"""Telemetry of the long-running processes (API, worker, dev stack): the Prometheus endpoint
each serves on a port of its own, and the tracer provider when traces are configured."""

import contextlib
from collections.abc import Iterator
from functools import partial

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from infra.metrics import MetricsServer, serve_metrics
from infra.settings import Settings
from services.metrics import store_figures

logger = structlog.get_logger()


@contextlib.contextmanager
def metrics_endpoint(
    settings: Settings,
    port: int | None,
    *,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> Iterator[MetricsServer | None]:
    """Serve ``/metrics`` at ``metrics_host:port`` while the block runs (nothing when the port
    is unset); with ``sessions``, the database's figures too, read on each scrape. Call it on
    the event loop that owns the sessions' engine."""
    if port is None:
        yield None
        return
    read = None if sessions is None else partial(store_figures, sessions)
    server = serve_metrics(host=settings.metrics_host, port=port, read=read)
    try:
        yield server
    finally:
        server.close()
