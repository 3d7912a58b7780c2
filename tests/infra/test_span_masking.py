"""Traces carry no partner's address: the exporter masks them as the logs do."""

import json

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from infra.log import MaskEmails
from infra.settings import Settings
from infra.telemetry import MaskedSpanExporter, log_mask

ADDRESS = "a.sadykova@gov.kz"


def _exported(mask: MaskEmails):  # type: ignore[no-untyped-def]
    memory = InMemorySpanExporter()
    provider = TracerProvider()  # not installed: this test's own
    provider.add_span_processor(SimpleSpanProcessor(MaskedSpanExporter(memory, mask)))
    return provider, memory


def test_an_exception_naming_an_address_is_exported_masked():
    mask = MaskEmails(b"secret")
    provider, memory = _exported(mask)
    tracer = provider.get_tracer("test")
    try:
        with tracer.start_as_current_span("smtp send") as span:
            span.set_attribute("smtp.recipients", [ADDRESS, "x@y.org"])
            span.set_attribute("attempt", 2)
            raise RuntimeError(f"550 5.1.1 <{ADDRESS}>: recipient unknown")
    except RuntimeError:
        pass
    (exported,) = memory.get_finished_spans()
    shown = json.dumps(
        {
            "name": exported.name,
            "attributes": dict(exported.attributes),
            "status": exported.status.description,
            "events": [dict(e.attributes) for e in exported.events],
        },
        default=str,
    )
    assert "@" not in shown
    assert mask.mask(ADDRESS) in exported.status.description
    assert exported.status.status_code is StatusCode.ERROR
    (event,) = exported.events
    assert event.name == "exception"
    assert mask.mask(ADDRESS) in event.attributes["exception.message"]
    assert mask.mask(ADDRESS) in event.attributes["exception.stacktrace"]
    assert exported.attributes["attempt"] == 2
    assert exported.attributes["smtp.recipients"] == (mask.mask(ADDRESS), mask.mask("x@y.org"))
    # what had no address is left as it was: the span's identity and timing
    assert exported.name == "smtp send" and exported.end_time >= exported.start_time


def test_traces_and_logs_mask_an_address_alike():
    settings = Settings(signing_secret="s" * 40)
    assert log_mask(settings).mask(ADDRESS) == MaskEmails(b"s" * 40).mask(ADDRESS)
