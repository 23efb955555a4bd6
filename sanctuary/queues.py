"""``sanctuary replicate-queues``: once, after upgrading to the release that replicates the
services' RPC queues (quorum queues), with every service stopped.

An earlier release declared each service's RPC queue (``rpc-<service>``) as a classic queue,
which lives on one node of a cluster and is gone while that node is. RabbitMQ cannot change a
queue's type (declaring it again as a quorum queue fails with PRECONDITION_FAILED), so the new
release goes on using a classic queue it finds, saying so in its log, and this command deletes
it and declares it again as a quorum queue. It refuses a queue something still consumes from: an
instance of the earlier release would stop answering once its queue changed type. A request
waiting in a stopped service's queue has had its 503 already (the gateway gave up after its RPC
timeout), so dropping it breaks no promise; the command says how many it dropped. The event
handlers' queues and the dead-letter queue were quorum queues from the first release.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from sanctuary.services import SERVICES, service_class
from shared.config import Settings
from shared.consumer import answers_rpc, connect_patiently, declare_rpc_queue, rpc_queue


def replicate_queues(settings: Settings | None = None) -> int:
    settings = settings or Settings.from_env()
    status = 0
    with connect_patiently(settings.amqp_uri) as connection:
        for name in rpc_services(service_class(n) for n in SERVICES):
            line, ok = replicate(connection, settings.amqp_uri, name)
            print(f"rpc-{name}: {line}", file=sys.stdout if ok else sys.stderr)
            status = status if ok else 1
    return status


def rpc_services(classes: Iterable[type]) -> list[str]:
    return [cls.name for cls in classes if answers_rpc(cls)]


def replicate(connection: object, amqp_uri: str, service: str) -> tuple[str, bool]:
    """What became of one service's RPC queue, and whether that is as it should be."""
    if declare_rpc_queue(connection, amqp_uri, service, warn=False):
        return "a quorum queue", True
    classic = rpc_queue(service, arguments={})
    channel = connection.channel()
    try:
        _, waiting, consumers = channel.queue_declare(classic.name, passive=True)
        if consumers:
            return (f"a classic queue with {consumers} consumer(s): stop every instance of the "
                    f"{service} service (of any release) and run this again", False)
        channel.queue_delete(classic.name, if_unused=True)  # nothing took it meanwhile
        rpc_queue(service)(channel).declare()
    finally:
        channel.close()
    return f"now a quorum queue ({waiting} waiting request(s) dropped: their callers had given up)", True
