"""Deadline day on one machine: every school submits its draft within a short surge
while panel members and the lead read.

    .venv/bin/python -m bench.deadline_day [--quick] [--schools 200] [--readers 50] [--surge 60]

Set-up (not timed as part of the surge), over HTTP as in tests/e2e/test_journey.py:
each school gets a coordinator account with an API token (made in the accounts
store, as ``sanctuary add-account`` does); the lead registers it; its coordinator
records interest, the SLT's and governors' commitments and signs the pledge; once
the applications service has heard (``/eligibility`` says ``may_apply``) the
coordinator starts the 2026-27 application, records the audit of all eight
criteria and adds one piece of evidence. ``readers`` panel members get accounts.

The surge: each school's moment is drawn uniformly within ``surge`` seconds
(open loop: a dispatcher starts each at its moment, whatever the others are
doing); at its moment the coordinator reads the application
(``GET .../applications/2026-27``) and submits the draft (``POST .../submissions``;
Coventry's 2026-27 draft deadline is 25 March 2027, so the real clock is
accepted). Meanwhile each panel member, in a loop with a pause of 0.5 to 1.5 s,
reads a route a panel member may read (``/me/appraisals``, ``/programme``,
``/me``) and the lead reads ``/cycles/2026-27`` every 2 s. Reported per request
kind: p50 and p99 latency; the error count (any non-2xx, timeout or connection
error; the aim is zero); and how many drafts ``/cycles/2026-27`` shows as
submitted afterwards (all of them).
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from bench.common import Figure, run_alone, summary
from bench.stack import Stack, maybe_started

SIZES = {False: {"schools": 200, "readers": 50, "surge": 60.0},
         True: {"schools": 20, "readers": 5, "surge": 10.0}}
YEAR = "2026-27"
FIRST_URN = 500000
SETUP_CLIENTS = 8
SUBMITTERS = 32  # threads the dispatcher hands schools to
PANEL_ROUTES = (("panel: my appraisals", "/me/appraisals"), ("panel: programme", "/programme"),
                ("panel: me", "/me"))
LEAD_EVERY_S = 2.0


@dataclass
class Log:
    """Every request of the surge: its kind, milliseconds, and what went wrong."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    began: float = field(default_factory=time.perf_counter)

    def request(self, session: requests.Session, kind: str, method: str, url: str,
                body: dict | None = None) -> requests.Response | None:
        started = time.perf_counter()
        response, error = None, ""
        try:
            response = session.request(method, url, json=body, timeout=30)
            if not response.ok:
                error = f"{kind}: {response.status_code} {response.text[:200]}"
        except requests.RequestException as exc:
            error = f"{kind}: {exc}"
        took = (time.perf_counter() - started) * 1000
        with self.lock:
            self.times[kind].append(took)
            if error:  # when, from the start of the surge, to set beside the services' logs
                self.errors.append(f"t+{started - self.began:.1f}s {error}")
        return response


def measure(stack: Stack | None = None, quick: bool = False, schools: int | None = None,
            readers: int | None = None, surge: float | None = None) -> list[Figure]:
    size = SIZES[quick]
    with maybe_started(stack, "bench-deadline") as stack:
        return run(stack, schools or size["schools"], readers or size["readers"],
                   surge or size["surge"])


def run(stack: Stack, schools: int, readers: int, surge_s: float) -> list[Figure]:
    urns = [str(FIRST_URN + n) for n in range(schools)]
    started = time.perf_counter()
    coordinators = dict(zip(urns, tokens(stack.add_accounts([
        (f"coordinator.{urn}@deadline.bench.example.org", f"Coordinator {urn}",
         [{"role": "coordinator", "urn": urn}]) for urn in urns])), strict=True))
    members = tokens(stack.add_accounts([
        (f"member.{n}@deadline.bench.example.org", f"Panel Member {n}", [{"role": "panel_member"}])
        for n in range(readers)]))
    prepare(stack, coordinators)
    setup_s = time.perf_counter() - started
    log = surge(stack, coordinators, members, surge_s)
    recorded = drafts_recorded(stack, set(urns))
    return figures(log, schools, readers, surge_s, setup_s, recorded)


def tokens(made: list[tuple[str, str]]) -> list[str]:
    return [token for _, token in made]


# -- set-up -------------------------------------------------------------------------------


def prepare(stack: Stack, coordinators: dict[str, str]) -> None:
    """Every school pledged, its application started, its audit filled and one piece of
    evidence added. Raises on the first refusal: the surge needs all of them ready."""
    with ThreadPoolExecutor(SETUP_CLIENTS) as pool:
        list(pool.map(lambda item: pledge(stack, *item), coordinators.items()))
        list(pool.map(lambda item: fill_application(stack, *item), coordinators.items()))


def ok(response: requests.Response, status: int = 200) -> dict:
    if response.status_code != status:
        raise RuntimeError(f"set-up: {response.request.method} {response.url}: "
                           f"{response.status_code} {response.text[:300]}")
    return response.json() if response.content else {}


def pledge(stack: Stack, urn: str, token: str) -> None:
    with stack.session() as lead, stack.session(token) as school:
        ok(lead.post(stack.url("/schools"), json={
            "urn": urn, "name": f"Deadline School {urn}", "phase": "secondary", "postcode": "CV1 5FB",
            "coordinator": {"name": "Ann Coordinator", "email": f"ann.{urn}@deadline.bench.example.org"}},
            timeout=30), 201)
        ok(school.post(stack.url(f"/schools/{urn}/interest"), json={}, timeout=30))
        for body, who, role in (("slt", "Dee Deputy", "Deputy head"),
                                ("governors", "Ed Chair", "Chair of governors")):
            ok(school.post(stack.url(f"/schools/{urn}/commitments"),
                           json={"body": body, "given_by": who, "role": role}, timeout=30))
        ok(school.post(stack.url(f"/schools/{urn}/pledge"),
                       json={"signed_by": "Cara Head", "role": "Head teacher"}, timeout=30))


def fill_application(stack: Stack, urn: str, token: str) -> None:
    path = f"/schools/{urn}/applications/{YEAR}"
    with stack.session(token) as school:
        may_apply(stack, school, urn)
        view = ok(school.post(stack.url(f"/schools/{urn}/applications"),
                              json={"school_year": YEAR}, timeout=30), 201)
        for criterion in view["audit"]:
            ok(school.put(stack.url(f"{path}/audit"), json={
                "criterion": criterion, "status": "met", "practice": f"What we do for {criterion}",
                "next_steps": "Keep it going"}, timeout=30))
        ok(school.post(stack.url(f"{path}/evidence"), json={
            "criterion": next(iter(view["audit"])), "title": "Training log",
            "detail": "Whole-staff training, signed in"}, timeout=30), 201)


def may_apply(stack: Stack, school: requests.Session, urn: str, timeout: float = 60.0) -> None:
    """Wait until the applications service has heard of the signed pledge."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = school.get(stack.url(f"/schools/{urn}/eligibility"), timeout=30)
        if response.status_code == 200 and response.json()["may_apply"]:
            return
        time.sleep(0.1)
    raise RuntimeError(f"set-up: the applications service never let {urn} apply")


# -- the surge ------------------------------------------------------------------------------


def surge(stack: Stack, coordinators: dict[str, str], members: list[str], surge_s: float) -> Log:
    log = Log()
    stop = threading.Event()
    rng = random.Random(2027)
    moments = sorted((rng.uniform(0, surge_s), urn) for urn in coordinators)
    readers = [threading.Thread(target=panel_member, args=(stack, log, token, stop, n), daemon=True)
               for n, token in enumerate(members)]
    readers.append(threading.Thread(target=lead_watching, args=(stack, log, stop), daemon=True))
    started = time.perf_counter()
    for reader in readers:
        reader.start()
    with ThreadPoolExecutor(SUBMITTERS) as pool:
        for moment, urn in moments:
            time.sleep(max(0.0, started + moment - time.perf_counter()))
            pool.submit(submit_draft, stack, log, urn, coordinators[urn])
        time.sleep(max(0.0, started + surge_s - time.perf_counter()))  # readers go on to the end
    stop.set()
    for reader in readers:
        reader.join(40)
    return log


def submit_draft(stack: Stack, log: Log, urn: str, token: str) -> None:
    path = stack.url(f"/schools/{urn}/applications/{YEAR}")
    with stack.session(token) as school:
        log.request(school, "coordinator: read application", "GET", path)
        log.request(school, "coordinator: submit draft", "POST", f"{path}/submissions", {"stage": "draft"})


def panel_member(stack: Stack, log: Log, token: str, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    with stack.session(token) as session:
        stop.wait(rng.uniform(0, 1.0))  # not all at once
        while not stop.is_set():
            kind, path = rng.choice(PANEL_ROUTES)
            log.request(session, kind, "GET", stack.url(path))
            stop.wait(rng.uniform(0.5, 1.5))


def lead_watching(stack: Stack, log: Log, stop: threading.Event) -> None:
    with stack.session() as lead:
        while not stop.is_set():
            log.request(lead, "lead: cycle overview", "GET", stack.url(f"/cycles/{YEAR}"))
            stop.wait(LEAD_EVERY_S)


def drafts_recorded(stack: Stack, urns: set[str]) -> int:
    with stack.session() as lead:
        overview = ok(lead.get(stack.url(f"/cycles/{YEAR}"), timeout=60))
    return sum(1 for row in overview["applications"]
               if row["urn"] in urns and row["stage"] == "draft_submitted")


def figures(log: Log, schools: int, readers: int, surge_s: float, setup_s: float,
            recorded: int) -> list[Figure]:
    size = {"schools": schools, "panel_readers": readers, "surge_s": surge_s, "setup_s": setup_s}
    rows = []
    for kind in sorted(log.times):
        stats = {**summary(log.times[kind]), **size}
        rows.append(Figure(f"deadline day: {kind}, p50", stats["p50"], "ms", detail=stats))
        rows.append(Figure(f"deadline day: {kind}, p99", stats["p99"], "ms", detail=stats))
    requests_made = sum(len(t) for t in log.times.values())
    return [
        *rows,
        Figure("deadline day: errors", len(log.errors), "", aim="= 0", met=not log.errors,
               detail={**size, "requests": requests_made, "first_errors": log.errors[:10]}),
        Figure("deadline day: drafts recorded", recorded, "", schools, "schools", "all",
               recorded == schools, size),
    ]


def main() -> None:
    run_alone("deadline_day", __doc__, measure, schools=int, readers=int,
              surge=(float, "seconds within which every school submits"))


if __name__ == "__main__":
    main()
