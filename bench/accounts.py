"""Authenticating an account with many events against one with few.

    .venv/bin/python -m bench.accounts [--quick] [--events 10000]

In process, on a temporary SQLite accounts store: one account asked for a
sign-in link every minute for about a week (``events`` SignInLinkIssued
events; quick: 1,000), and one freshly invited (a handful of events), each
with an API token. Every gateway request authenticates its credential, so this
is on every request's path. Figures, in authentications per second (median of
a few passes of 200):

- the many-event account, as the service runs (the aggregate cache,
  fast-forwarded with only what is new); reference: the few-event account the
  same way. Aim: at least half as fast, however many events;
- in the details: the many-event account without the cache (every
  request replays every event, as before), and its first, cold load.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
import uuid

from bench.common import Figure, run_alone
from services.accounts.application import Accounts
from shared.access import Principal
from shared.clock import FixedClock
from shared.config import Settings
from shared.store import store_env

SIZES = {False: 10_000, True: 1_000}
PASSES, CALLS = 3, 200
AIM = 0.5


def measure(quick: bool = False, events: int | None = None) -> list[Figure]:
    events = events or SIZES[quick]
    with tempfile.TemporaryDirectory() as data:
        env = store_env("accounts", Settings.from_env({"SANCTUARY_DATA_DIR": data}))
        busy, quiet = fill(env, events)
        cached = Accounts(env=env, secret_key="k" * 40)
        uncached = Accounts(env={**env, "AGGREGATE_CACHE_MAXSIZE": ""}, secret_key="k" * 40)
        try:
            started = time.perf_counter()
            cached.authenticate(busy)
            cold = time.perf_counter() - started
            many = rate(cached, busy)
            few = rate(cached, quiet)
            replayed = rate(uncached, busy, calls=5)
        finally:
            cached.close()
            uncached.close()
    detail = {"events": events, "first_load_ms": cold * 1000, "without_cache_per_s": replayed,
              "passes": PASSES, "calls": CALLS}
    return [Figure(f"authenticate, account with {events} events", many, "auth/s", few,
                   "account with a few events", f"ratio >= {AIM:g}", many / few >= AIM, detail)]


def fill(env: dict, events: int) -> tuple[str, str]:
    """Two accounts with a token each: one with ``events`` sign-in links, one without."""
    clock = FixedClock(dt.datetime.now(dt.UTC))
    app = Accounts(env=env, secret_key="k" * 40, clock=clock)
    try:
        tokens = []
        for who in ("busy", "quiet"):
            view = app.invite(None, f"{who}@example.org", who.title(), [{"role": "lead"}], actor="bench")
            principal = Principal(view["id"], who, frozenset({("lead", None)}))
            tokens.append(app.issue_token(principal, "bench")["token"])
        account = app.repository.get(uuid.UUID(hex=tokens[0].split(".")[0][4:]))
        for n in range(events):
            account.issue_link(f"l{n}", "secret", clock.now())
            clock.advance(minutes=1)
        app.save(account)
        return tokens[0], tokens[1]
    finally:
        app.close()


def rate(app: Accounts, credential: str, calls: int = CALLS) -> float:
    """Authentications per second, the median over a few passes."""
    app.authenticate(credential)  # the first load is not what a running service pays
    seconds = []
    for _ in range(PASSES):
        started = time.perf_counter()
        for _ in range(calls):
            app.authenticate(credential)
        seconds.append(time.perf_counter() - started)
    return calls / statistics.median(seconds)


def main() -> None:
    run_alone("accounts", __doc__, measure, events=int)


if __name__ == "__main__":
    main()
