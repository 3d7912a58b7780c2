"""Rate limits shared through the database (SQLite and PostgreSQL): two replicas, each with an
engine of its own, allow a client what one would, even when they count it at the same moment;
the window slides as in memory; quiet rows go; an outage falls back to counting in memory."""

import asyncio
import hashlib

from sqlalchemy import func, select

from domain import limits as rules
from domain.limits import FailureLimiter
from services.limits import SIGN_IN, SharedLimiter
from store.engine import make_engine, make_sessionmaker
from store.tables import RateLimitRow
from workers.ports import free_port


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_two_replicas_share_one_budget_and_one_window(replicas):
    clock = Clock()
    one, two = (SharedLimiter(s, scope=SIGN_IN, limit=3, clock=clock) for s in replicas)
    for t, limiter in ((0, one), (10, two), (20, one)):
        clock.now += t - (clock.now - 1_800_000_000.0)
        assert await limiter.retry_after("10.0.0.1") is None
        await limiter.failed("10.0.0.1")
    # the third failure, wherever it was counted, closes the door on both
    assert await one.retry_after("10.0.0.1") == 40 and await two.retry_after("10.0.0.1") == 40
    assert await two.retry_after("10.0.0.2") is None
    clock.now += 40.5  # the first failure has left the window
    assert await one.retry_after("10.0.0.1") is None and await two.retry_after("10.0.0.1") is None


async def test_the_shared_window_answers_as_the_one_in_memory(replicas):
    clock = Clock()
    shared = SharedLimiter(replicas[0], scope=SIGN_IN, limit=4, window_seconds=30, clock=clock)
    memory = FailureLimiter(limit=4, window_seconds=30, clock=clock)
    for step in [0, 3, 3, 9, 1, 1, 20, 7, 2, 31, 0, 4]:
        clock.now += step
        assert await shared.retry_after("a") == memory.retry_after("a")
        assert await shared.attempt("a") == memory.attempt("a")


async def test_attempts_at_the_same_moment_on_two_replicas_are_counted_once_each(replicas):
    limiters = [SharedLimiter(s, scope=SIGN_IN, limit=5) for s in replicas]
    waits = await asyncio.gather(*(limiters[n % 2].attempt("10.0.0.9") for n in range(16)))
    assert waits.count(None) == 5  # exactly the limit let through, not one per replica
    assert all(w is None or 1 <= w <= 60 for w in waits)


async def test_clients_are_stored_hashed_and_quiet_rows_go(replicas):
    clock = Clock()
    limiter = SharedLimiter(replicas[0], scope=SIGN_IN, limit=2, window_seconds=60, clock=clock)
    await limiter.failed("192.0.2.7")
    async with replicas[0]() as session:
        clients = list(await session.scalars(select(RateLimitRow.client)))
    assert clients == [hashlib.sha256(f"{SIGN_IN}\x00192.0.2.7".encode()).hexdigest()]
    clock.now += 61
    await limiter.failed("192.0.2.8")  # a write of the scope clears what left the window
    async with replicas[0]() as session:
        assert await session.scalar(select(func.count()).select_from(RateLimitRow)) == 1


async def test_while_the_database_is_down_each_replica_counts_in_memory():
    down = make_engine(f"postgresql+asyncpg://matchmaker@127.0.0.1:{free_port()}/matchmaker")
    try:
        limiter = SharedLimiter(make_sessionmaker(down), scope=SIGN_IN, limit=2)
        await limiter.failed("10.0.0.1")
        assert await limiter.attempt("10.0.0.1") is None
        assert await limiter.retry_after("10.0.0.1") == 60
    finally:
        await down.dispose()


def test_the_window_keeps_the_last_failures_within_it():
    kept = rules.with_failure([1.0, 2.0, 3.0], now=4.0, limit=3, window=60)
    assert kept == [2.0, 3.0, 4.0]
    assert rules.recent(kept, now=62.5, limit=3, window=60) == [3.0, 4.0]
    assert rules.retry_after(kept, now=10.0, limit=3, window=60) == 52
    assert rules.retry_after(kept, now=61.9, limit=3, window=60) == 1
