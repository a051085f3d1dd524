"""A sliding-window counter per key (an address, a client IP), in the API process's memory:
enough for one API process; behind several, each counts on its own (see README)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class SlidingWindow:
    def __init__(self, limit: int, seconds: float, clock=time.monotonic):
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None if it may now."""
        with self._lock:
            hits = self._recent(key)
            if len(hits) < self.limit:
                return None
            return max(1, math.ceil(hits[0] + self.seconds - self._clock()))

    def hit(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(self._clock())

    def clear(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        cutoff = self._clock() - self.seconds
        while hits and hits[0] <= cutoff:
            hits.popleft()
        if len(self._hits) > 100_000:  # bound memory under a flood of distinct keys
            for stale in [k for k, v in self._hits.items() if not v][:50_000]:
                del self._hits[stale]
        return hits
