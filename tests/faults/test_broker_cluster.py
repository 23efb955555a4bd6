"""A RabbitMQ node lost under load, on the three-node cluster ./run-tests starts beside the
machine's broker (deploy/local/bootstrap.sh, ``ensure_rabbitmq_cluster``).

The system is given all three nodes (``SANCTUARY_AMQP_URI`` lists them, rabbit-a first), and
its queues are quorum queues with a replica on each. Under a steady load of schools pledging,
rabbit-a, the node every process connected to first and where the queues' leaders were placed,
stops (``stop_app``) for thirty seconds and comes back. Meanwhile the services move to the other
nodes and go on answering; afterwards, with no step from us, the system is healthy, every promise
a 2xx made holds (conftest.check_recovered: no command, event or email lost, none applied or sent
twice), no process exited, and every queue has its three replicas online again.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from tests.components import MANAGEMENT_TIMEOUT, RABBIT_AUTH, fresh_vhost
from tests.faults.conftest import (
    BusRecord,
    E2ESystem,
    Load,
    await_healthy,
    check_recovered,
    pledges_settled,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("healthy_before")]

# as deploy/local/bootstrap.sh starts them: node -> AMQP port
NODES = {"rabbit-a@localhost": 5684, "rabbit-b@localhost": 5685, "rabbit-c@localhost": 5686}
STOPPED = "rabbit-a@localhost"
API = "http://127.0.0.1:15685/api"  # rabbit-b's management API: rabbit-b stays up
NODE_DOWN = 30.0  # seconds
REPLICAS_BACK = 60.0  # seconds for the returning node's replicas to catch up


def running_nodes() -> list[str]:
    try:
        response = requests.get(f"{API}/nodes", auth=RABBIT_AUTH, timeout=MANAGEMENT_TIMEOUT)
    except requests.ConnectionError:
        return []
    response.raise_for_status()
    return sorted(node["name"] for node in response.json() if node["running"])


@pytest.fixture(scope="module")
def cluster_vhost() -> Iterator[str]:
    running = running_nodes()
    assert running == sorted(NODES), \
        f"the test cluster is not running (nodes up: {running}); start it with " \
        "`source deploy/local/bootstrap.sh; ensure_rabbitmq_cluster` (./run-tests does)"
    with fresh_vhost("cluster", API) as name:
        yield name


@pytest.fixture(scope="module")
def module_amqp_uri(cluster_vhost: str) -> str:
    """The e2e ``system`` fixture's broker: every node of the cluster, as an operator lists them."""
    return ";".join(f"amqp://guest:guest@127.0.0.1:{port}/{cluster_vhost}" for port in NODES.values())


def queues(vhost: str) -> list[dict]:
    response = requests.get(f"{API}/queues/{vhost}", auth=RABBIT_AUTH, timeout=MANAGEMENT_TIMEOUT)
    response.raise_for_status()
    return response.json()


def replicas_online(vhost: str) -> dict[str, list[str]]:
    """Each queue that must outlive a node -> its replicas online. Not those of one process,
    which go with it: RPC callers' reply queues, and the gateways' broadcast queues for their
    principal caches (auto-deleted; a missed event costs at most the cache's TTL)."""
    return {q["name"]: sorted(q.get("online", [])) if q["type"] == "quorum" else [q["type"]]
            for q in queues(vhost) if not q["name"].startswith("rpc.reply-") and not q["auto_delete"]}


def await_replicas(vhost: str, timeout: float = REPLICAS_BACK) -> None:
    deadline = time.monotonic() + timeout
    while True:
        short = {name: online for name, online in replicas_online(vhost).items() if online != sorted(NODES)}
        if not short:
            return
        assert time.monotonic() < deadline, f"queues without a replica online on every node: {short}"
        time.sleep(1.0)


def node_ctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", "-n", STOPPED, *args], check=True, timeout=120, capture_output=True)


def test_a_cluster_node_stopped_under_load(system: E2ESystem, cluster_vhost: str) -> None:
    assert len(system.amqp_uri.split(";")) == len(NODES)
    await_replicas(cluster_vhost, timeout=10)  # every queue is replicated on every node to begin with
    load = Load(system, first_urn=780001).prepare(60)
    bus = BusRecord(system.amqp_uri, after=pledges_settled(system), replicated=True)
    pids = {name: process.pid for name, process in system.processes.items()}
    load.start()
    try:
        load.wait_for_oks(5)
        stopped_at = time.monotonic()
        try:
            node_ctl("stop_app")
            stopped_at = time.monotonic()
            time.sleep(NODE_DOWN)  # schools go on pledging
        finally:
            starting_at = time.monotonic()
            node_ctl("start_app")
            node_ctl("await_startup")
        recovery = await_healthy(system)
        load.wait_for_oks(10)
    finally:
        load.stop()
    recovered = check_recovered(system, load, bus)
    await_replicas(cluster_vhost)

    exited = {name for name, process in system.processes.items()
              if process.pid != pids.get(name) or process.poll() is not None}
    assert not exited, f"processes exited when a node stopped: {exited}"
    during = [a for a in load.answers() if a.sent > stopped_at and a.answered < starting_at]
    assert sum(a.ok for a in during) >= 10, \
        f"the system hardly answered on two nodes: {Counter(a.status or a.error for a in during)}"
    oks = [a.answered for a in load.answers() if a.ok and a.answered > stopped_at]
    gap = max((b - a for a, b in zip([stopped_at, *oks], oks, strict=False)), default=0.0)
    print(f"\n[cluster] {load.summary()}; while {STOPPED} was down: {len(during)} requests "
          f"({Counter(str(a.status or a.error.split(':')[0]) for a in during)}), the longest wait for "
          f"a 2xx {gap:.1f}s; healthy {recovery:.1f}s after start_app; "
          f"{len(recovered.stored)} schools checked")
