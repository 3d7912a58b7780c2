"""The telemetry each process sets up from its settings: nothing unless configured."""

import socket

from infra.settings import Settings
from infra.telemetry import client_options, tracer_provider
from workers.dev import (
    DEV_METRICS_PORT,
    DEV_TEMPORAL_METRICS_PORT,
    DEV_WORKER_METRICS_PORT,
    _telemetry_lines,
    with_dev_metrics,
)
from workers.observe import metrics_endpoint


async def test_no_port_no_endpoint_and_no_otlp_no_tracing():
    settings = Settings()
    with metrics_endpoint(settings, settings.api_metrics_port) as server:
        assert server is None
    assert tracer_provider(settings, service="matchmaker-api") is None
    assert client_options(settings, None) == {}  # the SDK's default runtime, no interceptor


def test_the_dev_stack_fills_in_free_metrics_ports_and_keeps_configured_ones():
    filled = with_dev_metrics(Settings())
    free = {DEV_METRICS_PORT, DEV_TEMPORAL_METRICS_PORT, DEV_WORKER_METRICS_PORT}
    taken = set()
    for port in free:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                taken.add(port)
    expected_api = None if DEV_METRICS_PORT in taken else DEV_METRICS_PORT
    assert filled.api_metrics_port == expected_api
    expected_worker = None if DEV_WORKER_METRICS_PORT in taken else DEV_WORKER_METRICS_PORT
    assert filled.worker_metrics_port == expected_worker
    kept = with_dev_metrics(
        Settings(api_metrics_port=19464, temporal_metrics_port=19465, worker_metrics_port=19466)
    )
    assert (kept.api_metrics_port, kept.temporal_metrics_port, kept.worker_metrics_port) == (
        19464,
        19465,
        19466,
    )


def test_a_taken_port_is_left_unset_rather_than_failing_the_stack():
    with socket.socket() as holder:
        try:
            holder.bind(("127.0.0.1", DEV_METRICS_PORT))
            holder.listen()
        except OSError:
            pass  # held by another process already: taken all the same
        settings = with_dev_metrics(Settings())
        assert settings.api_metrics_port is None
        # ... and the stack says so when it starts, rather than leaving metrics off in silence
        [line] = [x for x in _telemetry_lines(settings) if x.strip().startswith("Metrics")]
        assert f"off: port {DEV_METRICS_PORT} is taken" in line
        assert "--api-metrics-port or MATCHMAKER_API_METRICS_PORT" in line
