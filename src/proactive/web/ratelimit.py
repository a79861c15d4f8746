"""A sliding-window rate limit per client (pure: the time is passed in), for the public pages.
In memory, per process: behind several processes each keeps its own count."""

from __future__ import annotations

import datetime as dt
from collections import deque

MAX_CLIENTS = 10_000  # beyond this, clients with no recent request are forgotten


class RateLimit:
    def __init__(self, limit: int, window: dt.timedelta) -> None:
        self.limit, self.window = limit, window
        self.hits: dict[str, deque[dt.datetime]] = {}

    def allow(self, client: str, now: dt.datetime) -> bool:
        """Count this request; False when the client made `limit` requests in the window."""
        recent = self.hits.setdefault(client, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            return False
        recent.append(now)
        if len(self.hits) > MAX_CLIENTS:
            self._forget(now)
        return True

    def _forget(self, now: dt.datetime) -> None:
        for client in [c for c, times in self.hits.items() if times[-1] <= now - self.window]:
            del self.hits[client]
