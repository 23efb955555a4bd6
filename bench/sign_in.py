"""Asking for a sign-in link: an address with an account against one without.

    .venv/bin/python -m bench.sign_in [--quick] [--samples 100]

``POST /auth/sign-in-link`` through the gateway, one at a time, alternating: an address
with an account (a new one each time, so no per-address limit is met) and an address
no one has, with a quiet moment after each. Each comes from a client of its own
(``X-Forwarded-For``, the stack trusting 127.0.0.1 as a proxy), so no per-client limit is
met either. The service answers before
it looks the address up (services/accounts/application.py ``ask_for_link``), so the two
should take the same time: whether an address has an account must not show in how long
the answer takes. Figure: the median for an address without an account; reference: the
median for one with; aim: a ratio between 0.8 and 1.25. Moved here from the e2e tests,
where a timed assertion failed under load (the answers themselves are still compared
there).
"""

from __future__ import annotations

import itertools
import statistics
import time

import requests

from bench.common import Figure, run_alone, summary
from bench.stack import Stack, maybe_started

SIZES = {False: 100, True: 20}
AIM = (0.8, 1.25)
# quiet after each request: the work an answer leaves behind (an account's link saved and
# emailed) would otherwise land on the next request, which is always the other kind
QUIET_S = 0.2
_clients = itertools.count(1)


def measure(stack: Stack | None = None, quick: bool = False, samples: int | None = None) -> list[Figure]:
    samples = samples or SIZES[quick]
    with maybe_started(stack, "sign-in") as stack:
        people = [(f"bench.person.{n}@example.org", "Bea Bench", [{"role": "panel_member"}])
                  for n in range(samples)]
        stack.add_accounts(people)
        times: dict[str, list[float]] = {"known": [], "unknown": []}
        statuses = set()
        with requests.Session() as session:
            for n, (email, _, _) in enumerate(people):
                for kind, address in (("known", email), ("unknown", f"bench.stranger.{n}@example.org")):
                    started = time.perf_counter()
                    answer = session.post(f"{stack.base_url}/auth/sign-in-link", json={"email": address},
                                          headers=_new_client(), timeout=20)
                    times[kind].append((time.perf_counter() - started) * 1000)
                    statuses.add(answer.status_code)
                    time.sleep(QUIET_S)
    known, unknown = (statistics.median(times[kind]) for kind in ("known", "unknown"))
    detail = {"known_ms": summary(times["known"]), "unknown_ms": summary(times["unknown"]),
              "statuses": sorted(statuses)}
    ratio = unknown / known
    return [Figure("sign-in link asked for an address without an account, median", unknown, "ms", known,
                   "an address with an account, median", f"ratio {AIM[0]:g}-{AIM[1]:g}",
                   AIM[0] <= ratio <= AIM[1] and statuses == {202}, detail)]


def _new_client() -> dict[str, str]:
    n = next(_clients)
    return {"X-Forwarded-For": f"198.51.{n // 250 % 250}.{n % 250 + 1}"}


def main() -> None:
    run_alone("sign_in", __doc__, measure, samples=int)


if __name__ == "__main__":
    main()
