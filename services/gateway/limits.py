"""How often one client may ask for sign-in links, counted by the gateway.

The client is the remote address, or, behind a reverse proxy the deployment
trusts (``SANCTUARY_TRUSTED_PROXIES``), the address that proxy says it served.
Counts are kept in this gateway process: each instance counts for itself, and
a restart forgets them (the per-address limit in the accounts service is kept
in its store).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from typing import Any

WINDOW = 3600.0  # seconds: limits are "so many an hour"
MAX_CLIENTS = 50_000  # the oldest are forgotten past this, so a botnet cannot fill memory


class ClientLimit:
    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, per_window: int, now: float | None = None) -> int | None:
        """Count one request from ``client``; None if allowed, else the seconds until it
        would be (the request is then not counted)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._seen.pop(client, None) or deque()
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= per_window:
                self._seen[client] = times
                return max(1, math.ceil(times[0] + self.window - now))
            times.append(now)
            self._seen[client] = times  # most recent last
            while len(self._seen) > MAX_CLIENTS:
                self._seen.popitem(last=False)
            return None


SIGN_IN_REQUESTS = ClientLimit()


def client_of(request: Any, trusted_proxies: tuple[str, ...]) -> str:
    """Who is asking: the remote address, unless it is a trusted proxy, whose
    X-Forwarded-For is read from the right, past every trusted hop."""
    address = request.remote_addr or "unknown"
    if address not in trusted_proxies:
        return address
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    while hops and hops[-1] in trusted_proxies:
        hops.pop()
    return hops[-1] if hops else address
