"""PostgreSQL restarted under a steady load, with every service's store on it: each
service's connections die at once, and must come back by themselves (no restart of
any service, no step from us), keeping every promise a 2xx made (see
conftest.check_recovered).

``pg_ctlcluster`` restarts the cluster the tests use (``SANCTUARY_TEST_POSTGRES``);
the finally block starts it again whatever happened, so no later test finds it down.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.faults.conftest import BusRecord, E2ESystem, Load, await_healthy, check_recovered, pledges_settled

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("healthy_before")]

CLUSTER = ("15", "main")


def pg_ctlcluster(action: str) -> None:
    subprocess.run(["pg_ctlcluster", *CLUSTER, action], check=True, timeout=120, capture_output=True)


def online() -> bool:
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, timeout=30)
    return any(line.split()[:2] == list(CLUSTER) and "online" in line for line in listing.stdout.splitlines())


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_postgresql_restarted_under_load(postgres_system: E2ESystem) -> None:
    system = postgres_system
    load = Load(system, first_urn=776001).prepare(40)  # coordinators made ahead: that needs PostgreSQL
    bus = BusRecord(system.amqp_uri, after=pledges_settled(system))
    load.start()
    try:
        load.wait_for_oks(8)
        restarting = time.monotonic()
        try:
            pg_ctlcluster("restart")
        finally:
            if not online():
                pg_ctlcluster("start")
        restarted = time.monotonic()
        recovery = await_healthy(system)
        back = time.monotonic()
        load.wait_for_oks(10)  # schools carry on pledging
    finally:
        load.stop()
    check_recovered(system, load, bus)

    assert any(a.ok for a in load.answers() if a.sent > back)
    met = [a for a in load.answers() if a.sent < restarted and a.answered > restarting]
    print(f"\n[postgres] {load.summary()}; restart took {restarted - restarting:.1f}s, "
          f"{len(met)} requests met it ({[a.status or a.error[:40] for a in met]}); "
          f"healthy {recovery:.1f}s after")
