"""Who is calling, remembered for a short while: the gateway need not ask the accounts
service on every request.

A principal is kept for ``TTL`` seconds under a digest of the credential that proved it
(never the credential itself), and never past the credential's own end (a session's
expiry). It is forgotten sooner when the accounts service publishes
``AccountAccessChanged`` for its account (a role granted or revoked, a token revoked, a
sign-out, the account closed) or ``PersonalDataErased`` (everyone is forgotten), and at
once when the change goes through this gateway. So a change made elsewhere shows within
the bus's delay, and within ``TTL`` even if that event never arrives (the broker away).

An answer that set out before a forgetting is not kept: ``ask`` notes the generation
when it starts, and ``keep`` drops an answer whose generation has passed, so an
authentication in flight while a token is revoked cannot bring the old principal back.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

TTL = 30.0  # seconds: the longest a change made elsewhere can go unseen
SIZE = 10_000  # credentials remembered at most; the least recently used goes first


@dataclass(frozen=True)
class _Entry:
    principal: dict
    account: str
    expires: float


class PrincipalCache:
    def __init__(self, ttl: float = TTL, size: int = SIZE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self.generation = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def principal(self, credential: str, identify: Callable[[str], tuple[dict, float | None]]) -> dict:
        """The principal behind ``credential``: remembered, or asked of ``identify``, which
        gives it and the seconds the credential has left (None: no end of its own) or raises
        a refusal, which is never remembered."""
        key = _key(credential)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires > self.clock():
                self._entries.move_to_end(key)
                return dict(entry.principal)  # a copy: a route that changes it changes no other's
            generation = self.generation
        principal, left = identify(credential)
        self._keep(key, dict(principal), self.ttl if left is None else min(self.ttl, left), generation)
        return principal

    def _keep(self, key: str, principal: dict, ttl: float, generation: int) -> None:
        with self._lock:
            if generation != self.generation or ttl <= 0:
                return  # something was forgotten while we asked: this answer may be stale
            self._entries[key] = _Entry(principal, str(principal.get("account")), self.clock() + ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget_account(self, account: str) -> None:
        """Every credential of ``account`` (its sessions and tokens alike)."""
        with self._lock:
            self.generation += 1
            for key in [k for k, e in self._entries.items() if e.account == account]:
                del self._entries[key]

    def forget_all(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _key(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()
