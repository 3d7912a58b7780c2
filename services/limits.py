"""Rate limits every API replica shares: failures per client counted in the database.

With N replicas behind a load balancer, a limit held in each process's memory would give a
client N times its budget. ``SharedLimiter`` keeps each client's recent failures in one row
(``rate_limits``), read and written under that row's lock (an upsert takes it, on SQLite and
PostgreSQL alike), so two replicas counting the same client at once wait for each other and
lose nothing. The window is sliding and the rules are ``domain.limits``': a client is refused
until the oldest of its last ``limit`` failures is ``window`` seconds old, whichever replica
counted them. A client is stored as the SHA-256 of its address or account, never in clear.
Rows quiet for a window are deleted by the next write of their scope.

While the database cannot be reached, each replica counts in its own memory (as a single
process always did) and says so in its log, so that an outage neither opens the door nor
shuts out every caller."""

import hashlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import limits as rules
from domain.limits import FailureLimiter
from services.outages import database_down
from store import limits as store
from store.units import run_unit

logger = structlog.get_logger()

T = TypeVar("T")

# the scopes: each limit's failures are counted apart
API_KEYS = "api_key"  # failed API keys (the API and the codec server)
SIGN_IN = "sign_in"  # failed console sign-ins, per address and per account
PARTNER_FORMS = "partner_form"  # forms sent from partner pages


class SharedLimiter:
    """Failures per client within a sliding window, counted in the database (or, without
    one, in memory); ``limit`` may be changed at any time."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession] | None,
        *,
        scope: str,
        limit: int,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions
        self.scope = scope
        self.window = window_seconds
        self.clock = clock
        self.local = FailureLimiter(limit=limit, window_seconds=window_seconds, clock=clock)
        self._limit = limit
        self._in_memory = False  # counting in memory: the database is down

    @property
    def limit(self) -> int:
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        self._limit = self.local.limit = value

    def _key(self, client: str) -> str:
        return hashlib.sha256(f"{self.scope}\x00{client}".encode()).hexdigest()

    async def _shared(
        self, work: Callable[[AsyncSession], Awaitable[T]], local: Callable[[], T]
    ) -> T:
        """``work`` in a unit of work on the database, or ``local`` while it is down."""
        if self.sessions is None:
            return local()
        try:
            result = await run_unit(self.sessions, work)
        except Exception as exc:
            if not database_down(exc):
                raise
            if not self._in_memory:
                self._in_memory = True
                logger.warning("rate limit counted in this process", scope=self.scope)
            return local()
        if self._in_memory:
            self._in_memory = False
            logger.info("rate limit shared again", scope=self.scope)
        return result

    async def retry_after(self, client: str) -> int | None:
        """Seconds until the client may try again, or None when it may now."""
        key = self._key(client)

        async def read(session: AsyncSession) -> int | None:
            failures = await store.failures_of(session, scope=self.scope, client=key)
            return rules.retry_after(
                failures, now=self.clock(), limit=self._limit, window=self.window
            )

        return await self._shared(read, lambda: self.local.retry_after(client))

    async def failed(self, client: str) -> None:
        """Count one failure of the client."""
        await self._count(client, always=True)

    async def attempt(self, client: str) -> int | None:
        """Count one attempt unless the client is refused (then the seconds to wait, and the
        attempt is not counted): the check and the count are one step on every replica."""
        return await self._count(client, always=False)

    async def _count(self, client: str, *, always: bool) -> int | None:
        key = self._key(client)

        async def count(session: AsyncSession) -> int | None:
            at = datetime.fromtimestamp(self.clock(), UTC)
            await store.forget_quiet(
                session, scope=self.scope, before=at - timedelta(seconds=self.window)
            )
            failures = await store.locked_failures(session, scope=self.scope, client=key, now=at)
            now = self.clock()  # once the row is ours: a writer before us may have waited
            wait = (
                None
                if always
                else rules.retry_after(failures, now=now, limit=self._limit, window=self.window)
            )
            if wait is None:
                failures = rules.with_failure(
                    failures, now=now, limit=self._limit, window=self.window
                )
                written = datetime.fromtimestamp(now, UTC)
                await store.save_failures(
                    session, scope=self.scope, client=key, failures=failures, now=written
                )
            return wait

        def local() -> int | None:
            if always:
                self.local.failed(client)
                return None
            return self.local.attempt(client)

        return await self._shared(count, local)
