"""Telemetry set-up, called by the composition roots in workers/: the Temporal SDK's runtime
(its own Prometheus endpoint), and OpenTelemetry traces from the HTTP request through the
Update, the workflow and its activities to SMTP and the database. Tracing is off unless
``otlp_endpoint`` is set: no provider, no interceptor, no instrumentation, no cost."""

from collections.abc import Sequence
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from infra.log import MaskEmails
from infra.settings import Settings

logger = structlog.get_logger()

# One runtime per bind address and process: the SDK's Prometheus server binds once.
_RUNTIMES: dict[str, Runtime] = {}


def temporal_runtime(settings: Settings) -> Runtime | None:
    """The Temporal runtime serving the SDK's metrics (``temporal_*``: workflow and activity
    tasks, polls, schedule-to-start latencies, failures) at ``metrics_host:
    temporal_metrics_port``; None (the SDK's default runtime) when no port is set."""
    if settings.temporal_metrics_port is None:
        return None
    address = f"{settings.metrics_host}:{settings.temporal_metrics_port}"
    if address not in _RUNTIMES:
        _RUNTIMES[address] = Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(
                    bind_address=address, counters_total_suffix=True, durations_as_seconds=True
                )
            )
        )
    return _RUNTIMES[address]


def tracer_provider(settings: Settings, *, service: str) -> TracerProvider | None:
    """The process's tracer provider exporting by OTLP/HTTP to ``otlp_endpoint`` (made the
    global one, which the SMTP span and the Temporal interceptor use); None when unset."""
    if not settings.otlp_endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    endpoint = f"{settings.otlp_endpoint.rstrip('/')}/v1/traces"
    exporter = MaskedSpanExporter(OTLPSpanExporter(endpoint=endpoint), log_mask(settings))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return install(provider)


def log_mask(settings: Settings) -> MaskEmails:
    """The process's email mask: the same in its logs and its traces, keyed by the secret."""
    return MaskEmails(settings.log_mask_key)


class MaskedSpanExporter(SpanExporter):
    """Export spans with every email address masked as the logs mask it: in their attributes,
    their status (an exception's message, as instrumentations set it) and their events (an
    exception's message and stack trace). A database error quoting a row, or an SMTP refusal
    naming its recipient, never carries a partner's address to the trace backend."""

    def __init__(self, inner: SpanExporter, mask: MaskEmails) -> None:
        self._inner = inner
        self._mask = mask

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([self._masked(span) for span in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)

    def _masked(self, span: ReadableSpan) -> ReadableSpan:
        scrub = self._mask.scrub
        status = span.status
        if status.description and "@" in status.description:
            status = Status(status.status_code, self._mask.text(status.description))
        return ReadableSpan(
            name=self._mask.text(span.name),
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=scrub(dict(span.attributes or {})),
            events=[
                Event(event.name, scrub(dict(event.attributes or {})), event.timestamp)
                for event in span.events
            ],
            links=span.links,
            kind=span.kind,
            status=status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )


def install(provider: TracerProvider) -> TracerProvider:
    """Make ``provider`` the process's global one; the first installed stays (OpenTelemetry
    allows one per process) and is returned."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    trace.set_tracer_provider(provider)
    logger.info("traces exported", service=provider.resource.attributes.get("service.name"))
    return provider


def client_options(settings: Settings, provider: TracerProvider | None) -> dict[str, Any]:
    """What ``infra.temporal.connect`` adds for telemetry: the runtime with the SDK's metrics,
    and Temporal's tracing interceptor (client and worker: a worker takes its client's) so
    that a trace goes on from the request into the Update, the workflow and each activity."""
    options: dict[str, Any] = {}
    runtime = temporal_runtime(settings)
    if runtime is not None:
        options["runtime"] = runtime
    if provider is not None:
        from temporalio.contrib.opentelemetry import TracingInterceptor

        options["interceptors"] = [TracingInterceptor(provider.get_tracer("matchmaker.temporal"))]
    return options


def instrument_app(app: Any, provider: TracerProvider | None) -> None:
    """A span per HTTP request (named by route template), continuing a caller's trace."""
    if provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="healthz")


def instrument_engine(engine: AsyncEngine, provider: TracerProvider | None) -> None:
    """A span per SQL statement on ``engine`` (the statement's text, never its parameters)."""
    if provider is None:
        return
    # EngineTracer per engine: SQLAlchemyInstrumentor is a process-wide singleton that
    # instruments once, and it would also patch create_engine for every later engine
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import get_meter

    connections = get_meter("matchmaker.sqlalchemy").create_up_down_counter(
        "db.client.connections.usage", unit="connections"
    )
    EngineTracer(  # type: ignore[no-untyped-call]  # the instrumentation is not annotated
        provider.get_tracer("matchmaker.sqlalchemy"), engine.sync_engine, connections
    )
