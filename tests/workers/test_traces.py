"""Traces across the components as the composition root assembles them: the HTTP request,
the Temporal client and worker (tracing interceptor), the workflow, its activities, the
database and the SMTP server (aiosmtpd), exported to memory."""

import dataclasses
import json
import uuid
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client

from infra.log import add_trace_id
from infra.settings import Settings
from infra.telemetry import client_options, install, instrument_app, instrument_engine
from infra.temporal import data_converter
from services.backend import Backend
from tests.conftest import resources_for_tests
from tests.support import (
    bearer,
    http,
    sqlite_database_url,  # noqa: F401  (not SQL: SQLite alone)
    unique_eoi,
    wait_for,
)
from workers.http import create_app
from workers.worker import build_worker


@pytest.fixture(scope="module")
def exported() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """The process's tracer provider (installed once) with spans kept in memory."""
    provider = install(TracerProvider())
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    exporter.shutdown()


_INTAKE_SPANS = {
    "POST /api/eois",
    "StartWorkflow:MatchLifecycle",
    "RunWorkflow:MatchLifecycle",
    "RunActivity:send_email",
    "RunActivity:record_match",
    "smtp send",
}
_ANSWER_SPANS = {
    "POST /api/matches/{match_id}/answers",
    "StartWorkflowUpdate:answer",
    "HandleUpdate:answer",
    "RunActivity:record_history",
}


def _names(spans: list[ReadableSpan]) -> set[str]:
    return {span.name for span in spans}


def _trace_of(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    """Every span of the trace that holds the first span called ``name``."""
    first = next(span for span in spans if span.name == name)
    return [span for span in spans if span.context.trace_id == first.context.trace_id]


async def test_a_request_is_one_trace_down_to_smtp_and_sql(exported, temporal_env, sessions, smtp):
    provider, exporter = exported
    settings = Settings(otlp_endpoint="http://unused.test:4318", allowed_hosts=["matchmaker.test"])
    client = await Client.connect(
        temporal_env.client.service_client.config.target_host,
        namespace=temporal_env.client.namespace,
        data_converter=data_converter(settings),
        **client_options(settings, provider),
    )
    instrument_engine(sessions.kw["bind"], provider)
    handler, port = smtp
    resources = dataclasses.replace(resources_for_tests(sessions, port), engine=sessions.kw["bind"])
    task_queue = f"test-{uuid.uuid4().hex[:8]}"
    backend = Backend(client=client, sessions=sessions, task_queue=task_queue)
    app = create_app(settings, backend=backend)
    instrument_app(app, provider)
    headers = await bearer(sessions)
    async with (
        build_worker(client, task_queue=task_queue, resources=resources),
        http(app, base_url="http://matchmaker.test", headers=headers) as api,
    ):
        exporter.clear()
        body = json.loads(unique_eoi().model_dump_json())
        match_id = (await api.post("/api/eois", json=body)).json()["match_id"]
        await wait_for(lambda: len(handler.messages) == 2)
        # a parent span ends after its children: wait for every span asserted below, not
        # only the innermost ones
        await wait_for(
            lambda: (
                sum(s.name == "smtp send" for s in exporter.get_finished_spans()) == 2
                and _INTAKE_SPANS <= _names(exporter.get_finished_spans())
            )
        )
        intake = _trace_of(list(exporter.get_finished_spans()), "POST /api/eois")

        exporter.clear()
        prompt = next(
            p["id"]
            for p in (await api.get(f"/api/matches/{match_id}/state")).json()["prompts"]
            if p["kind"] == "introduction_adopter"
        )
        answer = {"kind": "introduction_adopter", "decision": "confirm", "needs": "rural access"}
        answered = await api.post(
            f"/api/matches/{match_id}/answers",
            json={"prompt_id": prompt, "party": "adopter", "answer": answer},
        )
        assert answered.status_code == 200
        await wait_for(lambda: _ANSWER_SPANS <= _names(exporter.get_finished_spans()))
        after = list(exporter.get_finished_spans())
        answer_trace = _trace_of(after, "POST /api/matches/{match_id}/answers")
        handled = _trace_of(after, "HandleUpdate:answer")

    # the intake: request -> start -> workflow -> activities -> SMTP and SQL, one trace
    names = _names(intake)
    assert {"POST /api/eois", "StartWorkflow:MatchLifecycle", "RunWorkflow:MatchLifecycle"} <= names
    assert {"RunActivity:send_email", "RunActivity:record_match", "smtp send"} <= names
    assert any(span.attributes.get("db.system") for span in intake)  # SQL statements
    smtp_spans = [span for span in intake if span.name == "smtp send"]
    assert all(span.attributes["smtp.server"] == f"127.0.0.1:{port}" for span in smtp_spans)
    # the answer: the request's trace holds the Update as the client sent it; the workflow
    # handles it in the match's own trace (the intake's), linked back to the request's
    assert {"POST /api/matches/{match_id}/answers", "StartWorkflowUpdate:answer"} <= _names(
        answer_trace
    )
    sent = next(span for span in answer_trace if span.name == "StartWorkflowUpdate:answer")
    handler_span = next(span for span in handled if span.name == "HandleUpdate:answer")
    assert handler_span.context.trace_id == intake[0].context.trace_id
    assert [link.context.span_id for link in handler_span.links] == [sent.context.span_id]
    # ... and what the answer caused follows in that trace: the history recorded, in SQL
    assert {"RunActivity:record_history"} <= _names(handled)
    assert any(span.attributes.get("db.system") for span in handled)
    # no address of a partner is written into any span
    for span in intake + answer_trace + handled:
        assert "@" not in json.dumps(dict(span.attributes or {}), default=str), span.name


def test_log_lines_carry_the_trace_id_of_the_current_span(exported):
    provider, _exporter = exported
    with provider.get_tracer("test").start_as_current_span("work") as span:
        inside = add_trace_id(None, "info", {"event": "x"})
    outside = add_trace_id(None, "info", {"event": "y"})
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert inside["span_id"] == format(span.get_span_context().span_id, "016x")
    assert "trace_id" not in outside
