"""The services' RPC queues are quorum queues (replicated on every node of a cluster), an RPC
caller's reply queue is transient (its node may go, and the caller declares it again on
another), and a deployment whose broker holds the classic RPC queues an earlier release made
keeps working until an operator runs ``sanctuary replicate-queues``, which makes them quorum
queues once nothing consumes from them. (The node loss itself: tests/faults/test_broker_cluster.py.)"""

from __future__ import annotations

from collections.abc import Callable

import kombu
import pytest
import requests
from nameko.standalone.rpc import ServiceRpcProxy

from sanctuary.queues import replicate
from shared.consumer import declare_rpc_queue, declare_topology, learn_rpc_queue, rpc_queue
from shared.messaging import CLASSIC_RPC_QUEUES, QUORUM, RpcProxy, rpc_queue_arguments
from shared.runtime import rpc
from tests.components import MANAGEMENT_TIMEOUT, RABBIT_API, RABBIT_AUTH

pytestmark = pytest.mark.integration


class Echo:
    name = "echo"

    @rpc
    def say(self, text: str) -> str:
        return text


class Caller:
    name = "caller"
    echo = RpcProxy("echo")

    @rpc
    def ask(self, text: str) -> str:
        return self.echo.say(text)


def queues(vhost: str) -> dict[str, dict]:
    response = requests.get(f"{RABBIT_API}/queues/{vhost}", auth=RABBIT_AUTH, timeout=MANAGEMENT_TIMEOUT)
    response.raise_for_status()
    return {q["name"]: q for q in response.json()}


def test_rpc_queues_are_quorum_and_reply_queues_transient(container_factory: Callable, amqp_uri: str,
                                                          vhost: str) -> None:
    for cls in (Echo, Caller):
        container_factory(cls, {"AMQP_URI": amqp_uri}).start()
    with ServiceRpcProxy("caller", {"AMQP_URI": amqp_uri}) as caller:
        assert caller.ask("hello") == "hello"
    found = queues(vhost)
    assert found["rpc-echo"]["type"] == "quorum"
    assert found["rpc-caller"]["type"] == "quorum"
    [reply] = [q for name, q in found.items() if name.startswith("rpc.reply-caller-")]
    assert reply["durable"] is False, reply


def test_declare_topology_makes_the_rpc_queues_quorum_queues(amqp_uri: str, vhost: str) -> None:
    assert declare_topology(amqp_uri, [Echo]) == 1
    assert queues(vhost)["rpc-echo"]["type"] == "quorum"


def test_a_service_started_after_its_launcher_declared_the_topology_learns_its_queue_is_classic(
        amqp_uri: str, vhost: str) -> None:
    """The launcher declares in its own process; the service's consumer, in another, must ask for
    the classic queue an earlier release made (`./run` on a machine that ran that release)."""
    with kombu.Connection(amqp_uri) as connection:
        rpc_queue("echo", arguments={})(connection.default_channel).declare()
    CLASSIC_RPC_QUEUES.discard((amqp_uri, "rpc-echo"))  # as in a process of its own
    assert rpc_queue_arguments(amqp_uri, "rpc-echo") == QUORUM
    learn_rpc_queue(amqp_uri, Echo)
    assert rpc_queue_arguments(amqp_uri, "rpc-echo") == {}
    assert queues(vhost)["rpc-echo"]["type"] == "classic"


def test_an_earlier_releases_classic_rpc_queue_is_used_until_an_operator_replicates_it(
        container_factory: Callable, amqp_uri: str, vhost: str) -> None:
    with kombu.Connection(amqp_uri) as connection:  # what the earlier release declared
        rpc_queue("echo", arguments={})(connection.default_channel).declare()
        declare_topology(amqp_uri, [Echo])  # neither fails nor changes it
        assert (amqp_uri, "rpc-echo") in CLASSIC_RPC_QUEUES
        assert queues(vhost)["rpc-echo"]["type"] == "classic"

        container = container_factory(Echo, {"AMQP_URI": amqp_uri})
        container.start()
        with ServiceRpcProxy("echo", {"AMQP_URI": amqp_uri}) as echo:
            assert echo.say("still answered") == "still answered"
        line, ok = replicate(connection, amqp_uri, "echo")
        assert not ok and "stop every instance of the echo service" in line, line
        assert queues(vhost)["rpc-echo"]["type"] == "classic"

        container.stop()
        kombu.Producer(connection.default_channel).publish(  # a request nobody answered
            "{}", exchange="nameko-rpc", routing_key="echo.say")
        line, ok = replicate(connection, amqp_uri, "echo")
        assert ok and line.startswith("now a quorum queue (1 waiting request"), line
        assert queues(vhost)["rpc-echo"]["type"] == "quorum"
        assert replicate(connection, amqp_uri, "echo") == ("a quorum queue", True)
    CLASSIC_RPC_QUEUES.discard((amqp_uri, "rpc-echo"))

    container = container_factory(Echo, {"AMQP_URI": amqp_uri})
    container.start()
    with ServiceRpcProxy("echo", {"AMQP_URI": amqp_uri}) as echo:
        assert echo.say("replicated") == "replicated"


def test_a_queue_type_refusal_other_than_the_type_still_raises(amqp_uri: str) -> None:
    with kombu.Connection(amqp_uri) as connection:
        kombu.Queue("rpc-echo", durable=False)(connection.default_channel).declare()
        with pytest.raises(Exception, match="durable"):
            declare_rpc_queue(connection, amqp_uri, "echo")
