"""The Prometheus endpoint: the process's counters and the database's figures, read on each
scrape from the event loop that owns the database, on a port of its own."""

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from infra.metrics import ANSWERS, StoreFigures, serve_metrics


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(port: int) -> dict:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    return samples(response.text)


async def test_the_database_is_read_on_each_scrape_on_the_loop_that_owns_it():
    loop = asyncio.get_running_loop()
    reads: list[asyncio.AbstractEventLoop] = []

    async def read() -> StoreFigures:
        reads.append(asyncio.get_running_loop())
        return StoreFigures(
            matches={("follow_up", "active"): 3, ("closed", "closed"): 1},
            outbox={"sent": 7, "pending": 2},
            oldest_pending_seconds=42.5,
        )

    server = serve_metrics(host="127.0.0.1", port=0, read=read)
    try:
        ANSWERS.labels(operation="answer", result="applied").inc()
        first = await scrape(server.port)
        second = await scrape(server.port)
    finally:
        server.close()

    assert reads == [loop, loop]  # once per scrape, on the test's own loop
    assert first[("matchmaker_store_up", ())] == 1
    assert first[("matchmaker_matches", (("stage", "follow_up"), ("status", "active")))] == 3
    assert first[("matchmaker_matches", (("stage", "closed"), ("status", "closed")))] == 1
    assert first[("matchmaker_outbox_emails", (("status", "sent"),))] == 7
    assert first[("matchmaker_outbox_emails", (("status", "bounced"),))] == 0  # present, zero
    assert first[("matchmaker_outbox_oldest_pending_age_seconds", ())] == 42.5
    key = ("matchmaker_answers_total", (("operation", "answer"), ("result", "applied")))
    assert second[key] >= 1
    assert any(name == "process_resident_memory_bytes" for name, _ in first) or any(
        name.startswith("python_") for name, _ in first
    )


async def test_a_failed_read_says_store_down_and_the_rest_still_answers():
    async def read() -> StoreFigures:
        raise ConnectionRefusedError("database down")

    server = serve_metrics(host="127.0.0.1", port=0, read=read)
    try:
        figures = await scrape(server.port)
    finally:
        server.close()
    assert figures[("matchmaker_store_up", ())] == 0
    assert not any(name == "matchmaker_matches" for name, _ in figures)


async def test_without_a_reader_the_endpoint_serves_the_process_figures_only():
    server = serve_metrics(host="127.0.0.1", port=0)
    try:
        figures = await scrape(server.port)
    finally:
        server.close()
    assert not any(name.startswith("matchmaker_store") for name, _ in figures)
    assert any(name.startswith("python_gc") for name, _ in figures)
