"""Limits for public forms anyone may post without an account (a school asking to
join): so many posts per client address in a sliding window, counted in this
gateway process (there is one gateway; a restart forgets, which only forgives).

The client address is the connection's, or, when the connection comes from this
machine (nginx in front, see deploy/nginx), the address nginx appended last to
X-Forwarded-For: the only entry a client cannot forge.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

LOOPBACK = ("127.", "::1")


def client_address(request: Any) -> str:
    address = request.remote_addr or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded and address.startswith(LOOPBACK):
        return forwarded.rsplit(",", 1)[-1].strip() or address
    return address


class Throttle:
    """At most ``limit`` uses per key in any ``window`` seconds; memory bounded by
    ``keys`` (the longest-quiet key is forgotten first)."""

    def __init__(self, limit: int, window: float, keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.keys, self.clock = limit, window, keys, clock
        self._uses: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one use of ``key`` if it is within the limit; False (not counted) if not."""
        with self._lock:
            uses = self._recent(key)
            allowed = len(uses) < self.limit
            if allowed:
                uses.append(self.clock())
            self._keep(key, uses)
            return allowed

    def full(self, key: str) -> bool:
        """Whether ``key`` has used up its limit (counting nothing)."""
        with self._lock:
            uses = self._recent(key)
            self._keep(key, uses)
            return len(uses) >= self.limit

    def count(self, key: str) -> None:
        """Count a use that has happened (after ``full`` said there was room)."""
        with self._lock:
            uses = self._recent(key)
            uses.append(self.clock())
            self._keep(key, uses)

    def _recent(self, key: str) -> deque[float]:
        uses = self._uses.pop(key, None) or deque()
        while uses and uses[0] <= self.clock() - self.window:
            uses.popleft()
        return uses

    def _keep(self, key: str, uses: deque[float]) -> None:
        if uses:
            self._uses[key] = uses  # most recently used last
        while len(self._uses) > self.keys:
            self._uses.popitem(last=False)
