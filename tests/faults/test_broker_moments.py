"""RabbitMQ stopped at chosen moments of one command, and a service killed under the
supervisor of ``sanctuary up``.

The moments (one school registers, then expresses interest; the interest is the command):
- before the reply: the pledges service has run the command and holds before replying
  (``SANCTUARY_HOLD_AT``, shared/faults.py) while the broker stops; its reply cannot be
  published, is dropped and counted, and the request comes again once the broker is back;
- during: it has replied (the gateway answers 2xx) and holds before acknowledging the
  request; the ack cannot reach the broker, and the request comes again;
  (either way the request that comes again is answered from memory, not run twice);
- after: the command has been answered; the broker stops while its event is relayed and
  consumed (mail, the applications service).
Each time: no process exits (every pid is the one before the outage), and once the broker
is back every promise holds: the command stored once, its event on the bus, heard by the
applications service, its email sent once (conftest.check_recovered).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.faults.conftest import (
    BusRecord,
    E2ESystem,
    Load,
    await_healthy,
    check_recovered,
    pledges_settled,
    rabbitmqctl,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("healthy_before")]

OUTAGE = 25.0  # seconds: the consumers' pauses between reconnections grow past 10 meanwhile
HOLD = 120.0  # the most the pledges service waits at its hold point; the test releases it sooner
COMMAND = "express_interest"
MOMENTS = {  # moment -> (hold point, the pledges counter that must have moved)
    "before the reply": (f"rpc.before_reply.{COMMAND}", ("sanctuary_rpc_replies_dropped_total", {})),
    "during": (f"rpc.before_ack.{COMMAND}", ("sanctuary_messages_unsettled_total", {"action": "ack"})),
    "after": (None, None),
}


def metric(system: E2ESystem, service: str, name: str, labels: dict) -> float:
    text = requests.get(f"http://{system.ops_address(service)}/metrics", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == name and sample.labels == labels)


def log_has(system: E2ESystem, service: str, text: str, since: int) -> bool:
    return text in system.log_path(service).read_text(errors="replace")[since:]


def wait_for_log(system: E2ESystem, service: str, text: str, since: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not log_has(system, service, text, since):
        assert time.monotonic() < deadline, f"{service} never logged {text!r}"
        time.sleep(0.05)


def start_pledges_holding_at(system: E2ESystem, point: str, release: Path) -> None:
    """The pledges service holds at ``point`` until ``release`` exists: the broker is
    stopped at that moment however long ``stop_app`` takes (it took more than 12 s once)."""
    system.kill("pledges")
    hold = dict(SANCTUARY_HOLD_AT=point, SANCTUARY_HOLD_SECONDS=str(HOLD), SANCTUARY_HOLD_UNTIL=str(release))
    system.env.update(hold)
    try:
        system.start_service("pledges")
    finally:
        for name in hold:
            del system.env[name]
    await_healthy(system)


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_rabbitmq_stopped_at_a_moment_of_a_command(system: E2ESystem, moment: str, tmp_path: Path) -> None:
    point, counter = MOMENTS[moment]
    release = tmp_path / "release"
    if point is not None:
        start_pledges_holding_at(system, point, release)
    load = Load(system, first_urn=779001 + 10 * list(MOMENTS).index(moment)).prepare(1)
    bus = BusRecord(system.amqp_uri, after=pledges_settled(system))
    pids = {name: process.pid for name, process in system.processes.items()}
    since = system.log_path("pledges").stat().st_size
    urn = load.next_school()
    journey = threading.Thread(target=load._walk, args=(urn, 2, True), name="fault-command", daemon=True)
    journey.start()
    if point is not None:
        wait_for_log(system, "pledges", f"holding at {point}", since, timeout=30)
    else:
        journey.join(30)
        assert load.schools[urn].promised == 2, load.schools[urn].answers
    rabbitmqctl("stop_app")
    try:
        if point is not None:
            assert not log_has(system, "pledges", f"held at {point}", since), \
                "the hold ended before the broker stopped: the moment was missed"
            release.touch()
            wait_for_log(system, "pledges", f"held at {point}", since, timeout=10)
        time.sleep(5)  # the broker stays away a while after the moment
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
    journey.join(60)
    await_healthy(system)
    recovered = check_recovered(system, load, bus)

    exited = {name for name, process in system.processes.items()
              if process.pid != pids.get(name) or process.poll() is not None}
    assert not exited, f"processes exited with the broker: {exited}"
    assert recovered.stored[urn] == 2, load.schools[urn].answers  # the command is done, once
    if counter is not None:
        assert metric(system, "pledges", *counter) >= 1, f"{counter[0]} did not move: the fault missed"
        # the request came again (its ack never reached the broker): answered, not run, again
        assert log_has(system, "pledges", "came again after it was answered", since)
        assert not log_has(system, "pledges", "refused pledges.express_interest", since)
    print(f"\n[{moment}] answers {[(a.status or a.error) for a in load.schools[urn].answers]}")


def test_requests_made_as_rabbitmq_returns_are_answered(system: E2ESystem) -> None:
    """Away long enough for kombu's pauses between reconnections to have grown (2, 4, 6 ... s, up
    to 30), the broker returns and the lead asks at once for the schools (gateway -> pledges, and
    back on the gateway's reply queue, which the broker lost with its restart). Each of the first
    requests gets a 200: none waits out the gateway's RPC timeout for a consumer still pausing,
    or for a reply the broker had no queue for."""
    rabbitmqctl("stop_app")
    try:
        time.sleep(OUTAGE)
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
    back = time.monotonic()
    answers = []
    for _ in range(3):
        response = requests.get(system.base_url + "/schools", headers=system.lead.headers, timeout=60)
        answers.append((response.status_code, round(time.monotonic() - back, 1)))
    print(f"\n[returns] (status, seconds after await_startup returned): {answers}")
    assert [status for status, _ in answers] == [200, 200, 200], answers
    await_healthy(system)


def test_a_service_killed_is_started_again_with_a_growing_pause(system: E2ESystem) -> None:
    """What ``sanctuary up`` does (System.watch): the supervisor starts a service that
    died again, logs it, and waits longer before each restart in a row."""
    until = threading.Event()
    supervisor = threading.Thread(target=system.supervise, args=(until, 0.2), daemon=True)
    supervisor.start()
    try:
        for pause, restart in ((1, 1), (2, 2)):
            since = system.log_path("pledges").stat().st_size
            dead = system.processes["pledges"]
            os.kill(dead.pid, signal.SIGKILL)
            wait_for_log(system, "pledges", f"the pledges service exited (status -9); starting it again "
                                            f"in {pause}s (restart {restart} in a row)", since, timeout=10)
            wait_for_log(system, "pledges", "started the pledges service again", since, timeout=pause + 10)
            assert system.processes["pledges"] is not dead
            await_healthy(system)
    finally:
        until.set()
        supervisor.join(5)
    response = requests.get(system.base_url + "/health", timeout=10)
    assert response.status_code == 200, response.text


STOPPING = ("pledges", "applications", "notifications", "gateway")
HANG_AFTER = 60.0  # only a guard against the hang this test is about, not a timing


def test_services_told_to_stop_while_rabbitmq_is_stopped_exit(system: E2ESystem) -> None:
    """nameko's stop waits for the consume loop to cancel each consumer, which it does only on
    a live connection: a service told to stop with the broker away went on reconnecting for ever
    (seen: twenty minutes, an orphan of a killed launcher). Each now exits, cleanly."""
    since = {name: system.log_path(name).stat().st_size for name in STOPPING}
    stopped: dict[str, int | None] = {}
    rabbitmqctl("stop_app")
    try:
        for name in STOPPING:
            system.processes[name].send_signal(signal.SIGTERM)
        for name in STOPPING:
            try:
                stopped[name] = system.processes[name].wait(HANG_AFTER)
            except subprocess.TimeoutExpired:
                stopped[name] = None
                system.processes[name].kill()
                system.processes[name].wait()
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
        for name in STOPPING:
            system.start_service(name)
        await_healthy(system)
    assert stopped == dict.fromkeys(STOPPING, 0), f"not stopped (None: still running after " \
                                                  f"{HANG_AFTER:.0f}s): {stopped}"
    for name in STOPPING:
        assert log_has(system, name, "stopping services", since[name]), name
