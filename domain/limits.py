"""A bound on failures per client within a sliding window: the rules, and a limiter in memory.

A client's failures are the instants (seconds) it failed, oldest first. Past ``limit`` of
them within ``window`` seconds the client is refused until the oldest of those leaves the
window. The limiter every API replica shares (services/limits.py, its failures in the
database) and the one held in a process (``FailureLimiter``) apply the same three rules."""

import math
import time
from collections.abc import Callable, Sequence


def recent(failures: Sequence[float], *, now: float, limit: int, window: float) -> list[float]:
    """The failures still within the window at ``now``; only the last ``limit`` matter."""
    kept = sorted(at for at in failures if at > now - window)  # replicas' clocks may differ
    return kept[-limit:]


def retry_after(failures: Sequence[float], *, now: float, limit: int, window: float) -> int | None:
    """Seconds until the client may try again (at least 1), or None when it may now."""
    kept = recent(failures, now=now, limit=limit, window=window)
    if len(kept) < limit:
        return None
    return max(1, min(math.ceil(window), math.ceil(kept[-limit] + window - now)))


def with_failure(
    failures: Sequence[float], *, now: float, limit: int, window: float
) -> list[float]:
    """The failures once one more is counted at ``now`` (the oldest beyond ``limit`` dropped)."""
    return recent([*failures, now], now=now, limit=limit, window=window)


class FailureLimiter:
    """Count failures per client within a sliding window, in this process's memory.

    What a single process uses (and the shared limiter falls back on while the database is
    down): each process allows ``limit`` failures a window per client. At most ``max_clients``
    clients are tracked; the longest-quiet ones are forgotten."""

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
        self._failures: dict[str, list[float]] = {}

    def _recent(self, client: str, now: float) -> list[float]:
        kept = recent(self._failures.get(client, ()), now=now, limit=self.limit, window=self.window)
        if not kept:
            self._failures.pop(client, None)
        return kept

    def retry_after(self, client: str) -> int | None:
        """Seconds until the client may try again, or None when it may now."""
        now = self.clock()
        return retry_after(self._recent(client, now), now=now, limit=self.limit, window=self.window)

    def failed(self, client: str) -> None:
        """Count one failure of the client."""
        now = self.clock()
        kept = self._recent(client, now)
        if client in self._failures:  # most recently failing last: the first is the longest quiet
            del self._failures[client]
        elif len(self._failures) >= self.max_clients:
            del self._failures[next(iter(self._failures))]
        self._failures[client] = with_failure(kept, now=now, limit=self.limit, window=self.window)

    def attempt(self, client: str) -> int | None:
        """Count one attempt unless the client is refused: then the seconds to wait."""
        wait = self.retry_after(client)
        if wait is None:
            self.failed(client)
        return wait
