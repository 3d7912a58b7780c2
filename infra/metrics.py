"""Prometheus metrics of the application: what the code counts as it goes (HTTP latency,
answers and actions by result), what the database holds when scraped (matches by stage and
status, the outbox), and the endpoint that serves them on a port of its own."""

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

logger = structlog.get_logger()

# How long a scrape waits on the database before it answers with what it last read.
STORE_READ_TIMEOUT_SECONDS = 5.0

HTTP_LATENCY = Histogram(
    "matchmaker_http_request_duration_seconds",
    "Time the API took to answer, by route template (not the raw path: ids stay out of labels)",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ANSWERS = Counter(
    "matchmaker_answers",
    "Partner answers, progress reports and requests given to a match, by result",
    ["operation", "result"],
)
ACTIONS = Counter(
    "matchmaker_actions",
    "Secretariat actions on a match, by action and result",
    ["action", "result"],
)

EMAIL_ATTEMPTS = Counter(
    "matchmaker_email_attempts",
    "Attempts to deliver an email by result: sent, bounced, deferred (retried) or failed",
    ["result"],
)


@dataclass(frozen=True)
class StoreFigures:
    """What the database says when scraped: matches per (stage, status), emails per outbox
    status, and how long the oldest email still waiting (pending or sending) has waited."""

    matches: dict[tuple[str, str], int] = field(default_factory=dict)
    outbox: dict[str, int] = field(default_factory=dict)
    oldest_pending_seconds: float | None = None


StoreReader = Callable[[], Coroutine[Any, Any, StoreFigures]]
# every outbox status, so that a status with no email reads 0 rather than vanishing
OUTBOX_STATUSES = ("pending", "sending", "sent", "bounced", "failed")


class StoreCollector(Collector):
    """Gauges read from the database on each scrape by ``read`` (one or two grouped queries),
    run on the event loop that owns the database engine; the scrape itself runs in the
    metrics server's thread. ``matchmaker_store_up`` is 0 when the read failed."""

    def __init__(self, read: StoreReader, loop: asyncio.AbstractEventLoop) -> None:
        self._read = read
        self._loop = loop

    def _figures(self) -> StoreFigures | None:
        if threading.get_ident() == getattr(self._loop, "_thread_id", None):
            return None  # on the loop's own thread a wait would deadlock: report nothing
        future = asyncio.run_coroutine_threadsafe(self._read(), self._loop)
        try:
            return future.result(timeout=STORE_READ_TIMEOUT_SECONDS)
        except Exception as exc:  # noqa: BLE001 - a failed read is itself a figure
            future.cancel()  # a read past the bound stops: scrapes do not pile up
            logger.warning("metrics: database not read", error=type(exc).__name__)
            return None

    def collect(self) -> Iterator[Metric]:
        figures = self._figures()
        up = GaugeMetricFamily(
            "matchmaker_store_up", "1 when the last scrape read the database, else 0"
        )
        up.add_metric([], 0 if figures is None else 1)
        yield up
        if figures is None:
            return
        matches = GaugeMetricFamily(
            "matchmaker_matches", "Matches by stage and status", labels=["stage", "status"]
        )
        for (stage, status), count in sorted(figures.matches.items()):
            matches.add_metric([stage, status], count)
        yield matches
        emails = GaugeMetricFamily(
            "matchmaker_outbox_emails", "Emails in the outbox by status", labels=["status"]
        )
        for status in sorted({*OUTBOX_STATUSES, *figures.outbox}):
            emails.add_metric([status], figures.outbox.get(status, 0))
        yield emails
        oldest = GaugeMetricFamily(
            "matchmaker_outbox_oldest_pending_age_seconds",
            "How long the oldest email not yet sent has waited (0: none waits)",
        )
        oldest.add_metric([], figures.oldest_pending_seconds or 0.0)
        yield oldest


class _Registry(Collector):
    """The process's default registry (the counters above, process and Python figures) and
    the collectors of one metrics server, served together."""

    def __init__(self, *extra: Collector) -> None:
        self._extra = extra

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        for collector in self._extra:
            yield from collector.collect()


@dataclass
class MetricsServer:
    """A running Prometheus endpoint (``/metrics`` on its own port); ``close`` stops it."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.server.server_port

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_metrics(*, host: str, port: int, read: StoreReader | None = None) -> MetricsServer:
    """Serve the process's metrics, and the database's through ``read`` when given, at
    ``http://host:port/metrics`` from a thread (call from the event loop that ``read`` runs
    on). Port 0 picks a free port (``MetricsServer.port``)."""
    extra = [] if read is None else [StoreCollector(read, asyncio.get_running_loop())]
    server, thread = start_http_server(port, addr=host, registry=_Registry(*extra))
    logger.info("metrics served", host=host, port=server.server_port)
    return MetricsServer(server=server, thread=thread)
