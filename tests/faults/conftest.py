"""What every fault test needs: the whole system (tests/e2e's fixtures), a steady load
of schools pledging over real HTTP that records every answer, a queue of our own on
the pledges exchange, and the checks that must hold once the system has recovered.

The load promises nothing by itself: a request may fail while a fault lasts (5xx,
timeouts, refused connections). A 2xx is a promise, and ``check_recovered`` holds the
system to every one of them:

- every 2xx step is durable: ``GET /schools/<urn>`` shows at least the state it
  implies, and at most one step more (a step that failed may still have been done);
- no integration event is lost: every pledges position is on the bus (duplicates are
  allowed there), the applications service knows every stored registration and
  signature, and nothing waits in the dead-letter queue for an operator;
- no event is applied twice and no email is skipped or sent twice: the mail sink holds
  exactly one "registered" email per stored registration, one "signed" email to the
  coordinator and one to the lead per stored signature (and the authority's starter
  pack once, if it has one), and the delivery log has nothing pending, failed or stuck;
- the system is healthy again on its own: ``GET /health`` is 200 and every process's
  ``/health/ready`` is 200, with no step from us.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import kombu
import pytest
import requests
from nameko.standalone.events import get_event_exchange
from prometheus_client.parser import text_string_to_metric_families

from sanctuary.launch import ORDER
from sanctuary.mail_sink import read_folder
from services.notifications.service import NotificationsService
from shared.authority import load_authority
from shared.consumer import DEAD_LETTER_QUEUE, handler_queues
from shared.envelope import parse_envelope
from tests.e2e import conftest as e2e
from tests.e2e.conftest import E2ESystem, Person

# the e2e fixtures and the hook that attaches every service log's tail to a failure
module_amqp_uri = e2e.module_amqp_uri
system = e2e.system  # the whole system on SQLite, once per module
postgres_system = e2e.postgres_system  # ... on PostgreSQL, per test (parametrize "store" indirectly)
pytest_runtest_makereport = e2e.pytest_runtest_makereport


@pytest.fixture
def amqp_uri(vhost: str) -> str:
    """The shared fixture's, on the broker the fault tests were pointed at (SANCTUARY_TEST_AMQP)."""
    return f"{e2e.AMQP_BASE}/{vhost}"

STEPS = ("register", "interest", "slt", "governors", "sign")
STATUS_AFTER = ("registered", "interested", "interested", "committed", "signed")
BUS_TYPES = ("SchoolRegistered", "InterestExpressed", "CommitmentRecorded", "CommitmentRecorded",
             "PledgeSigned")
RECOVERY = 90.0  # seconds the system has to be healthy again after a fault
SETTLE = 90.0  # ... and to deliver what it owes (events, mail) after that
HTTP_TIMEOUT = 15.0  # longer than the gateway's RPC timeout (10 s), after which it should answer 503


def contact(urn: str) -> dict[str, str]:
    """Each school's coordinator has an address of their own, so the sink tells schools apart."""
    return {"name": f"Coordinator {urn}", "email": f"coordinator@school-{urn}.example.org"}


def school_name(urn: str) -> str:
    return f"Fault School {urn}"


# -- the load --------------------------------------------------------------------------------


@dataclass
class Answer:
    """One request the load made, and what came of it."""

    urn: str
    step: int  # index in STEPS
    status: int | None  # None: no HTTP answer at all
    error: str | None
    sent: float  # time.monotonic()
    answered: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class School:
    urn: str
    promised: int = 0  # steps done with a 2xx (the steps are done in order)
    attempted: int = 0  # steps asked for (one more than promised if the last one failed)
    answers: list[Answer] = field(default_factory=list)


class Load:
    """A thread walking fresh schools through the pledge journey over HTTP, a few
    requests a second: the lead registers and records interest, the school's
    coordinator records the SLT's and governors' commitments and signs. Every answer
    is recorded; a step that does not get a 2xx ends that school's journey. (Under the
    tests' eventlet monkey-patching the thread is green: a test's own sleeps, HTTP
    calls and subprocesses let it run.)"""

    def __init__(self, system: E2ESystem, first_urn: int, pause: float = 0.2) -> None:
        self.system = system
        self.pause = pause
        self.urns = (f"{n:06d}" for n in itertools.count(first_urn))
        self.schools: dict[str, School] = {}
        self.coordinators: dict[str, Person] = {}
        self.lead = system.lead
        self.in_flight = threading.Event()  # set while a command is on its way to the pledges service
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready: list[str] = []
        self.current: tuple[str, int] = ("", 0)  # the last request sent: (urn, step)
        self._go = threading.Event()  # cleared: the load holds before its next request
        self._go.set()
        self._holding = threading.Event()

    def prepare(self, schools: int) -> Load:
        """Make the coordinators' accounts ahead (as an operator would, in the accounts
        store), so the load never needs the store itself while a fault lasts."""
        for _ in range(schools):
            urn = next(self.urns)
            self.coordinators[urn] = self.system.coordinator(urn)
            self._ready.append(urn)
        return self

    def start(self) -> Load:
        self._thread = threading.Thread(target=self._run, name="fault-load", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(HTTP_TIMEOUT * 2)
            assert not self._thread.is_alive(), "the load did not stop"

    def hold(self) -> None:
        """Until ``resume``, send nothing more; returns once nothing is in flight."""
        self._go.clear()
        assert self._holding.wait(HTTP_TIMEOUT * 2), "the load did not hold"

    def resume(self) -> None:
        self._go.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._walk(self.next_school())

    def next_school(self) -> str:
        if not self._ready:
            raise AssertionError("the load ran out of prepared schools; prepare more")
        return self._ready.pop(0)

    def _walk(self, urn: str, steps: int = len(STEPS), aside: bool = False) -> None:
        school = self.schools[urn] = School(urn)
        for step in range(steps):
            if not self._go.is_set() and not aside:
                self._holding.set()
                while not self._go.wait(0.2) and not self._stop.is_set():
                    pass
                self._holding.clear()
            if self._stop.is_set():
                return
            school.attempted = step + 1
            answer = self._request(urn, step)
            school.answers.append(answer)
            if not answer.ok:
                self._stop.wait(self.pause)
                return
            school.promised = step + 1
            self._stop.wait(self.pause)

    def _request(self, urn: str, step: int) -> Answer:
        who = self.lead if step < 2 else self.coordinators[urn]
        path, body = {
            0: ("/schools", {"urn": urn, "name": school_name(urn), "phase": "primary",
                             "postcode": "cv1 2ab", "coordinator": contact(urn)}),
            1: (f"/schools/{urn}/interest", {}),
            2: (f"/schools/{urn}/commitments", {"body": "slt", "given_by": "Dee Deputy",
                                                "role": "Deputy head"}),
            3: (f"/schools/{urn}/commitments", {"body": "governors", "given_by": "Ed Chair",
                                                "role": "Chair of governors"}),
            4: (f"/schools/{urn}/pledge", {"signed_by": "Cara Head", "role": "Head teacher"}),
        }[step]
        sent = time.monotonic()
        self.current = (urn, step)
        self.in_flight.set()
        try:
            response = requests.post(self.system.base_url + path, json=body, headers=who.headers,
                                     timeout=HTTP_TIMEOUT)
            return Answer(urn, step, response.status_code,
                          None if response.ok else response.text[:300], sent, time.monotonic())
        except requests.RequestException as error:
            return Answer(urn, step, None, f"{type(error).__name__}: {error}"[:300], sent, time.monotonic())
        finally:
            self.in_flight.clear()

    def wait_in_flight(self, steps: tuple[int, ...], timeout: float = 15.0) -> tuple[str, int]:
        """Until a request for one of ``steps`` has just been sent; returns its (urn, step)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.in_flight.wait(1.0) and self.current[1] in steps:
                return self.current
            while self.in_flight.is_set() and time.monotonic() < deadline:
                time.sleep(0.001)
        raise AssertionError(f"no request for {[STEPS[s] for s in steps]} in {timeout:.0f}s")

    def register_aside(self) -> threading.Thread:
        """Register one more school in a thread of its own (while the load holds), with
        its answer recorded like any other; the school goes no further."""
        urn = self.next_school()
        thread = threading.Thread(target=self._walk, args=(urn, 1, True), name="fault-register", daemon=True)
        thread.start()
        return thread

    # -- what happened

    def answers(self) -> list[Answer]:
        return sorted((a for s in self.schools.values() for a in s.answers), key=lambda a: a.sent)

    def oks(self) -> int:
        return sum(a.ok for a in self.answers())

    def wait_for_oks(self, more: int, timeout: float = 60.0) -> None:
        """Until ``more`` further requests have had a 2xx."""
        target = self.oks() + more
        deadline = time.monotonic() + timeout
        while self.oks() < target:
            assert self._thread is not None and self._thread.is_alive(), "the load stopped"
            assert time.monotonic() < deadline, f"the load had no {more} 2xx answers in {timeout:.0f}s"
            time.sleep(0.1)

    def latency(self, quantile: float = 0.5) -> float:
        """Of the requests answered with a 2xx, in seconds."""
        times = sorted(a.answered - a.sent for a in self.answers() if a.ok)
        return times[min(len(times) - 1, int(quantile * len(times)))] if times else 0.0

    def summary(self) -> str:
        answers = self.answers()
        statuses = Counter(str(a.status) if a.status is not None else a.error.split(":")[0]
                           for a in answers)
        signed = sum(s.promised == len(STEPS) for s in self.schools.values())
        return (f"{len(self.schools)} schools, {len(answers)} requests, {signed} pledges signed with a 2xx, "
                f"2xx latency p50 {self.latency(0.5) * 1000:.0f} ms p90 {self.latency(0.9) * 1000:.0f} ms; "
                f"answers: {dict(sorted(statuses.items()))}")


# -- a queue of our own on the pledges exchange --------------------------------------------------


class BusRecord:
    """A durable queue bound to every pledges event, declared before the load starts
    (so it holds everything published after), and read once the system has recovered.
    Each use opens a connection of its own: the broker may be restarted in between."""

    def __init__(self, amqp_uri: str, after: int, replicated: bool = False) -> None:
        self.amqp_uri = amqp_uri
        self.after = after  # the pledges position when it was declared: it holds what comes after
        # replicated: a quorum queue, which loses nothing when a cluster's node goes (a classic
        # queue on that node would miss what is published meanwhile)
        self.queue = kombu.Queue(f"faults-tap-{uuid.uuid4().hex[:8]}", routing_key="#", durable=True,
                                 exchange=get_event_exchange("pledges", {}), auto_delete=False,
                                 queue_arguments={"x-queue-type": "quorum"} if replicated else {})
        with kombu.Connection(amqp_uri, connect_timeout=10) as connection:
            self.queue(connection.default_channel).declare()

    def read(self, quiet: float = 1.0) -> list[kombu.Message]:
        """Everything in the queue, until ``quiet`` seconds pass without a message."""
        got: list[kombu.Message] = []
        with kombu.Connection(self.amqp_uri, connect_timeout=10) as connection:
            bound = self.queue(connection.default_channel)
            last = time.monotonic()
            while time.monotonic() - last < quiet:
                message = bound.get(no_ack=True)
                if message is None:
                    time.sleep(0.05)
                    continue
                got.append(message)
                last = time.monotonic()
        return got

    def delete(self) -> None:
        try:
            with kombu.Connection(self.amqp_uri, connect_timeout=10) as connection:
                self.queue(connection.default_channel).delete()
        except Exception:  # noqa: BLE001 - the vhost goes with the system anyway
            pass


def dead_letters(amqp_uri: str) -> int:
    with kombu.Connection(amqp_uri, connect_timeout=10) as connection:
        return connection.default_channel.queue_declare(queue=DEAD_LETTER_QUEUE, passive=True).message_count


# -- health ----------------------------------------------------------------------------------


def lead_get(system: E2ESystem, path: str, **kwargs: object) -> requests.Response:
    return requests.get(system.base_url + path, headers=system.lead.headers, timeout=HTTP_TIMEOUT, **kwargs)


def unhealthy(system: E2ESystem) -> dict[str, str]:
    """What is not healthy now: the gateway's /health and each process's /health/ready."""
    problems: dict[str, str] = {}
    try:
        response = requests.get(system.base_url + "/health", timeout=5)
        if response.status_code != 200:
            problems["/health"] = f"{response.status_code} {response.text[:300]}"
    except requests.RequestException as error:
        problems["/health"] = repr(error)
    for name in ORDER:
        try:
            response = requests.get(f"http://{system.ops_address(name)}/health/ready", timeout=10)
            if response.status_code != 200:
                problems[name] = f"{response.status_code} {response.text[:300]}"
        except requests.RequestException as error:
            problems[name] = repr(error)
    return problems


class NotHealthy(RuntimeError):
    """The system did not recover in time (not an AssertionError: no xfail may take it for its bug)."""


def await_healthy(system: E2ESystem, timeout: float = RECOVERY) -> float:
    """Seconds until the whole system is healthy (no step from us); fails after ``timeout``."""
    started = time.monotonic()
    problems: dict[str, str] = {}
    while time.monotonic() - started < timeout:
        for name, process in system.processes.items():
            if process.poll() is not None:
                raise NotHealthy(f"{name} exited ({process.returncode}); see {system.log_dir}")
        problems = unhealthy(system)
        if not problems:
            return time.monotonic() - started
        time.sleep(0.5)
    raise NotHealthy(f"not healthy {timeout:.0f}s after the fault, without a manual step: {problems}")


def pledges_settled(system: E2ESystem) -> int:
    """The pledges position once its relay has published everything."""
    deadline = time.monotonic() + SETTLE
    while True:
        # the lead's credential: anonymous /health says only up or down
        response = requests.get(system.base_url + "/health", headers=system.lead.headers, timeout=5)
        if response.status_code == 200:
            pledges = response.json()["services"]["pledges"]
            if pledges["relay"]["running"] and pledges["relay"]["lag"] == 0:
                return pledges["position"]
        assert time.monotonic() < deadline, f"the pledges relay did not catch up: {response.text[:500]}"
        time.sleep(0.2)


def duplicates_ignored(system: E2ESystem, service: str, event_type: str) -> float:
    """How many pledges events of ``event_type`` the service has received again and ignored
    (its ``sanctuary_integration_events_consumed_total{outcome="duplicate"}``)."""
    text = requests.get(f"http://{system.ops_address(service)}/metrics", timeout=10).text
    labels = {"origin": "pledges", "type": event_type, "outcome": "duplicate"}
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "sanctuary_integration_events_consumed_total" and sample.labels == labels)


def rabbitmqctl(*args: str, timeout: float = 120) -> None:
    """On the broker the systems use: SANCTUARY_TEST_RABBIT_NODE names it when it is not the default."""
    node = os.environ.get("SANCTUARY_TEST_RABBIT_NODE")
    subprocess.run(["rabbitmqctl", "-q", *(["-n", node] if node else []), *args], check=True,
                   timeout=timeout, capture_output=True)


# -- the checks ----------------------------------------------------------------------------------


@dataclass
class Recovered:
    """What the checks saw, for a test to look further."""

    stored: dict[str, int]  # urn -> steps stored in the pledges service
    positions: dict[int, tuple[str, str]]  # pledges position -> (type, urn), as on the bus
    copies: Counter  # pledges position -> how often it was on the bus
    mail: Counter  # (to, subject) -> how often the sink has it, for the load's schools
    log: list[dict]  # the delivery log's entries for the load's schools
    seconds: dict[str, float]  # how long each check took (one that waits tells why a run was slow)


def check_recovered(system: E2ESystem, load: Load, bus: BusRecord) -> Recovered:
    seconds, began = {}, time.monotonic()
    # a fault may cost a 503 ("try again"), never a 500: a 500 says the fault reached code that
    # did not expect it (seen once: 24 of them while a cluster node was lost, in a passing test)
    failed = Counter(a.status for a in load.answers() if a.status is not None and a.status >= 500)
    assert set(failed) <= {503}, f"answers other than 503 among the failures: {failed}"

    def took(name: str) -> None:
        nonlocal began
        seconds[name], began = round(time.monotonic() - began, 1), time.monotonic()

    stored = check_durable(system, load)
    took("stored")
    positions, copies = check_bus(system, bus, stored)
    took("bus")
    check_applications(system, stored, positions)
    took("applications")
    mail, log = check_mail(system, stored)
    took("mail")
    assert dead_letters(system.amqp_uri) == 0, "events wait in the dead-letter queue for an operator"
    return Recovered(stored, positions, copies, mail, log, seconds)


def check_durable(system: E2ESystem, load: Load) -> dict[str, int]:
    """Every 2xx step is stored; a failed step may have been done, nothing more."""
    stored: dict[str, int] = {}
    wrong = []
    for urn, school in load.schools.items():
        response = lead_get(system, f"/schools/{urn}")
        if response.status_code == 404:
            steps = 0
        else:
            assert response.status_code == 200, f"GET /schools/{urn}: {response.status_code} {response.text}"
            view = response.json()
            steps = view["version"]
            commitments = [c["body"] for c in view["commitments"]]
            expected = ["slt", "governors"][:max(0, steps - 2)]
            if not 1 <= steps <= len(STEPS) or view["status"] != STATUS_AFTER[steps - 1] \
                    or commitments != expected or (view["pledge"] is not None) != (steps == len(STEPS)):
                wrong.append((urn, "stored state inconsistent", view))
        if not school.promised <= steps <= school.attempted:
            wrong.append((urn, f"{school.promised} steps had a 2xx, {school.attempted} were asked for, "
                               f"{steps} are stored",
                          [(STEPS[a.step], a.status, a.error) for a in school.answers]))
        stored[urn] = steps
    assert not wrong, f"{len(wrong)} schools not as their answers promised: {wrong[:5]}"
    return stored


def check_bus(system: E2ESystem, bus: BusRecord,
              stored: dict[str, int]) -> tuple[dict[int, tuple[str, str]], Counter]:
    """Every pledges position after the record began is on the bus (at least once, every
    copy the same event), and the events there are exactly the stored steps."""
    head = pledges_settled(system)
    messages = bus.read()
    copies: Counter = Counter()
    positions: dict[int, tuple[str, str]] = {}
    ids: dict[int, str] = {}
    for message in messages:
        event = parse_envelope(json.loads(message.body))
        assert message.properties["message_id"] == f"pledges:{event.position}"
        copies[event.position] += 1
        seen = ids.setdefault(event.position, event.id)
        assert seen == event.id, f"position {event.position} on the bus as two different events"
        positions[event.position] = (event.type, event.payload["urn"])
    missing = sorted(set(range(bus.after + 1, head + 1)) - set(positions))
    assert not missing, \
        f"pledges positions never published: {missing[:20]} ({len(missing)} of {head - bus.after})"
    assert max(positions, default=bus.after) == head
    per_school: dict[str, list[str]] = {}
    for position in sorted(positions):
        kind, urn = positions[position]
        per_school.setdefault(urn, []).append(kind)
    for urn, steps in stored.items():
        assert per_school.get(urn, []) == list(BUS_TYPES[:steps]), (urn, steps, per_school.get(urn))
    return positions, copies


def check_applications(system: E2ESystem, stored: dict[str, int],
                       positions: dict[int, tuple[str, str]]) -> None:
    """The applications service has heard every stored registration and signature."""
    where = {(kind, urn): position for position, (kind, urn) in positions.items()}
    expected = {}
    for urn, steps in stored.items():
        news = {}
        if steps >= 1:
            news["SchoolRegistered"] = where[("SchoolRegistered", urn)]
        if steps == len(STEPS):
            news["PledgeSigned"] = where[("PledgeSigned", urn)]
        expected[urn] = news
    deadline = time.monotonic() + SETTLE
    pending = dict(expected)
    while pending:
        for urn, news in list(pending.items()):
            response = lead_get(system, f"/schools/{urn}/eligibility")
            heard = response.json()["news"] if response.status_code == 200 else {}
            assert response.status_code in (200, 404), response.text
            assert set(heard) <= set(news), (urn, heard, news)  # nothing it should not know
            if heard == news:
                del pending[urn]
        if pending and time.monotonic() > deadline:
            raise AssertionError(f"the applications service never heard of {len(pending)} schools' news "
                                 f"(lost events): {list(pending.items())[:5]}")
        if pending:
            time.sleep(0.5)


def expected_mail(system: E2ESystem, stored: dict[str, int]) -> Counter:
    """(To, Subject) of every email the stored steps call for, each once: registered, the
    pledge signed (to the coordinator and to the lead), and the authority's starter pack
    if it sends one."""
    authority = load_authority(system.settings.authority_file)
    pack = authority.starter_pack
    pack_after = {"registered": 1, "pledge_signed": len(STEPS)}[pack.send_when] if pack else None
    want: Counter = Counter()
    for urn, steps in stored.items():
        coordinator, name = contact(urn)["email"], school_name(urn)
        if steps >= 1:
            want[(coordinator, f"{name} is registered for Schools of Sanctuary")] = 1
        if steps == len(STEPS):
            want[(coordinator, f"Thank you: {name} has signed the pledge")] = 1
            want[(system.lead.email, f"{name} has signed the pledge")] = 1  # the lead's own account
        if pack is not None and steps >= pack_after:
            want[(coordinator, f"{pack.title} for {name}")] = 1
    return want


def wait_until_sent(system: E2ESystem, timeout: float = 30.0) -> None:
    """Until the delivery log has nothing pending or being sent."""
    deadline = time.monotonic() + timeout
    while {"pending", "sending"} & set(lead_get(system, "/notifications").json()["counts"]):
        assert time.monotonic() < deadline, "the sender never caught up"
        time.sleep(0.2)


class MailMissing(AssertionError):
    """An email a stored step calls for was never sent (and nothing more was coming)."""


def nothing_more_to_come(system: E2ESystem) -> bool:
    """The notifications service has taken every pledges event off its queues."""
    queues = [q for q in handler_queues(NotificationsService) if q.startswith("evt-pledges-")]
    with kombu.Connection(system.amqp_uri, connect_timeout=10) as connection:
        channel = connection.default_channel
        return not any(channel.queue_declare(queue=q, passive=True).message_count for q in queues)


def check_mail(system: E2ESystem, stored: dict[str, int]) -> tuple[Counter, list[dict]]:
    """Exactly the emails the stored steps call for, each once, and a delivery log with
    nothing left to do."""
    want = expected_mail(system, stored)
    names = {school_name(urn) for urn in stored}

    def ours() -> Counter:
        return Counter((m["To"], m["Subject"]) for m in read_folder(system.mail_dir)
                       if any(name in m["Subject"] for name in names))

    def log() -> dict:
        response = lead_get(system, "/notifications")
        assert response.status_code == 200, response.text
        return response.json()

    deadline = time.monotonic() + SETTLE
    quiet = 0  # turns in a row with nothing left to send and nothing waiting to be heard
    while True:
        got, body = ours(), log()
        settled = not {"pending", "sending"} & set(body["counts"])
        if settled and set(got) >= set(want):
            break
        quiet = quiet + 1 if settled and nothing_more_to_come(system) else 0
        if quiet >= 3 or time.monotonic() > deadline:
            missing = sorted(set(want) - set(got))
            raise MailMissing(f"{len(missing)} of {sum(want.values())} emails never sent: {missing[:6]}; "
                              f"sent instead, unasked for: {sorted(set(got) - set(want))[:6]}; "
                              f"delivery log counts {body['counts']}")
        time.sleep(1.0)
    time.sleep(2.5)  # a sender turn (every 2 s) more: nothing else may come
    got = ours()
    twice = {key: n for key, n in got.items() if n > 1}
    assert not twice, f"emails sent more than once: {list(twice.items())[:5]}"
    unexpected = sorted(set(got) - set(want))
    assert not unexpected, f"emails no stored step calls for: {unexpected[:5]}"
    assert got == want
    entries = [e for e in log()["items"] if any(name in e["subject"] for name in names)]
    assert Counter(e["status"] for e in entries) == Counter({"sent": sum(want.values())}), \
        Counter(e["status"] for e in entries)
    return got, entries


@pytest.fixture
def healthy_before(request: pytest.FixtureRequest) -> None:
    """A fault test starts from a healthy system (a fault left by another test shows here)."""
    for name in ("system", "postgres_system"):
        if name in request.fixturenames:
            await_healthy(request.getfixturevalue(name), timeout=60)
