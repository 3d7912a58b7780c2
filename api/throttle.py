"""A bound on failed authentications per client address, held in the process."""

import math
import time
from collections import deque
from collections.abc import Callable


class FailureLimiter:
    """Count failures per client within a sliding window; past ``limit`` of them the client
    is refused (before its key is even looked at) until the oldest one leaves the window.

    In process and per API replica: enough to make guessing keys hopeless (each replica
    allows ``limit`` guesses a window per address, against 2^256 secrets), not a quota.
    At most ``max_clients`` addresses are tracked; the longest-quiet ones are forgotten."""

    def __init__(
        self,
        *,
        limit: int = 10,
        window_seconds: float = 60.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_clients = max_clients
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str, now: float) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures

    def retry_after(self, client: str) -> int | None:
        """Seconds until the client may try again, or None when it may now."""
        now = self.clock()
        failures = self._recent(client, now)
        if failures is None or len(failures) < self.limit:
            return None
        return max(1, math.ceil(failures[-self.limit] + self.window - now))

    def failed(self, client: str) -> None:
        """Count one failure of the client."""
        now = self.clock()
        failures = self._recent(client, now)
        if failures is None:
            if len(self._failures) >= self.max_clients:
                del self._failures[next(iter(self._failures))]
            failures = self._failures[client] = deque()
        else:  # most recently failing last: the first in the dict is the longest quiet
            self._failures[client] = self._failures.pop(client)
        failures.append(now)
        while len(failures) > self.limit:
            failures.popleft()
