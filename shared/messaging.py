"""nameko's AMQP extensions, made so that RabbitMQ going away never ends the process.

nameko 2.14 kills the whole container on any error raised outside a service
method: a reply it cannot publish, an ack on a connection the broker closed.
With RabbitMQ stopped for a while, every service that finished a command meanwhile
exited (``OperationalError: ECONNREFUSED`` from ``Responder.send_response``).
These subclasses keep nameko's behaviour and change only what a broker failure does:

- an ack, requeue or reject that cannot reach the broker is skipped and counted:
  the broker still holds the message and delivers it again once it is back
  (our consumers and commands are idempotent, so the redelivery changes nothing);
- a reply that cannot be published is dropped and counted: the caller has given up
  by then (its RPC timeout), and the request itself is delivered again;
- a request delivered again after this process answered it is answered again from
  memory, not run a second time (``RpcConsumer``);
- a service told to stop while the broker is away stops: a consumer on a lost connection
  has nothing to cancel (``QueueConsumer``);
- a consumer whose connection is lost tries again at most ``RECONNECT["interval_max"]``
  seconds apart, not kombu's 30: a consumer still pausing when the broker is back left every
  RPC call to it (and every reply to its caller) to wait out the caller's timeout;
- an RPC caller sends a request only while it consumes its reply queue (``ReplyListener``):
  a restarted broker has lost that queue until the caller's consumer declares it again, and a
  reply sent meanwhile was dropped as unroutable, the caller waiting out its timeout; while
  the broker stays away the request is refused after a few seconds (the gateway's 503).

Subclasses rather than monkey-patching: nameko shares one ``QueueConsumer`` per
class in a container, so the RPC entrypoint, the event handlers and the RPC proxy's
reply listener each name ours, and nameko's own code elsewhere is left as it is.
Every service must use these (``tests/unit/test_messaging.py`` checks).

For a RabbitMQ cluster (``AMQP_URI`` naming every node, ``amqp://a;amqp://b;amqp://c``: kombu
tries them in turn) a service's RPC queue is a quorum queue, replicated on every node, and an
RPC caller's reply queue is transient: the node it lived on may go, and the caller declares it
again on the node it reconnects to (a durable one could not be declared anywhere until its node
came back).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import amqp
import eventlet
from kombu.exceptions import OperationalError
from nameko import messaging, rpc
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.utils import sanitize_url

from shared.faults import hold_point
from shared.metrics import ANSWERED_AGAIN, REPLIES_DROPPED, UNSETTLED

log = logging.getLogger(__name__)

# what a broker that is away (stopped, restarting, unreachable) raises, through kombu or py-amqp
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError, *amqp.Connection.connection_errors, *amqp.Connection.channel_errors,
)

QUORUM = {"x-queue-type": "quorum"}
# kombu's pauses between a lost consumer's reconnections (its own: 2 s, growing by 2 to 30):
# after a 30-s outage the next try came up to 12 s after the broker's return, past the
# caller's 10-s RPC timeout (tests/faults/test_broker_moments.py)
RECONNECT = {"interval_start": 0, "interval_step": 1, "interval_max": 2}
# how long an RPC request waits for its caller to consume its reply queue again (a reconnection
# is at most RECONNECT's 2 s away once the broker is back), looking every WAIT_STEP seconds;
# longer, the broker is away, and the caller hears so at once rather than at its own timeout
REPLY_QUEUE_WAIT = 3.0
WAIT_STEP = 0.05
# (broker, queue): RPC queues an earlier release declared as classic queues, found by
# shared.consumer.declare_topology; used as they are until an operator runs
# `sanctuary replicate-queues` (declaring them quorum would fail: PRECONDITION_FAILED)
CLASSIC_RPC_QUEUES: set[tuple[str, str]] = set()


def broker_nodes(amqp_uri: str) -> list[str]:
    """The URLs of every node ``amqp_uri`` names (one, or several separated by ``;``)."""
    return [url.strip() for url in amqp_uri.split(";") if url.strip()]


def redacted(amqp_uri: str) -> str:
    """``amqp_uri`` without its passwords, for a log (nameko's sanitize_url sees the first only)."""
    return ";".join(sanitize_url(url) for url in broker_nodes(amqp_uri))


def rpc_queue_arguments(amqp_uri: str, queue_name: str) -> dict:
    return {} if (amqp_uri, queue_name) in CLASSIC_RPC_QUEUES else dict(QUORUM)


class QueueConsumer(messaging.QueueConsumer):
    """nameko's consumer: acks, requeues and rejects never raise for a lost connection, and it
    stops while the broker is away.

    nameko cancels each entrypoint's consumer from the consume loop, between two reads of a
    live connection, and its stop waits for that. With the connection gone (the broker stopped,
    or its virtual host deleted) the loop only tries to connect again, and a service told to
    stop then waited for ever: it logged "stopping services" and went on reconnecting, once a
    second, for as long as it was left (seen: twenty minutes, an orphan of a killed launcher).
    A consumer on a lost connection is gone at the broker already, so there is nothing to
    cancel: the entrypoint's removal is done at once, and the loop is ended."""

    # consuming every provider's queue on an open connection: the loop will soon cancel what is
    # asked, and an RPC caller's replies have a queue to arrive in (ReplyListener)
    consuming = False

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **kwargs: Any) -> None:
        self.consuming = True
        super().on_consume_ready(connection, channel, consumers, **kwargs)

    @contextmanager
    def consumer_context(self, **kwargs: Any) -> Iterator[Any]:
        try:
            with super().consumer_context(**kwargs) as context:
                yield context
        finally:
            self.consuming = False
            self._release_pending()

    def _release_pending(self) -> None:
        """The removals asked for while the connection was being lost: done, nothing to cancel."""
        pending, self._pending_remove_providers = self._pending_remove_providers, {}
        for provider, removed in pending.items():
            self._consumers.pop(provider, None)
            removed.send()

    def unregister_provider(self, provider: Any) -> None:
        if self.consuming or not self._consumers_ready.ready():
            super().unregister_provider(provider)
            return
        self._consumers.pop(provider, None)  # its consumer went with the connection
        messaging.ProviderCollector.unregister_provider(self, provider)

    def stop(self) -> None:
        # every entrypoint's removal first: the loop ends by itself once a live connection has
        # cancelled the last consumer; off one, it is only reconnecting (perhaps inside kombu's
        # retries, where it never looks at ``should_stop``), so it is ended here
        self.wait_for_providers()
        if self._consumers_ready.ready() and not self.consuming and self._gt is not None:
            self.should_stop = True
            self._gt.kill(messaging.QueueConsumerStopped())
        super().stop()

    @contextmanager
    def establish_connection(self) -> Iterator[Any]:
        """kombu's, with the pauses between tries bounded (``RECONNECT``)."""
        with self.create_connection() as connection:
            connection.ensure_connection(self.on_connection_error, self.connect_max_retries, **RECONNECT)
            yield connection

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        log.warning("Error connecting to broker at %s (%s).\nRetrying in %s seconds.",
                    redacted(self.amqp_uri), exc, interval)

    def ack_message(self, message: Any) -> None:
        self._settle(message, "ack", message.ack)

    def requeue_message(self, message: Any) -> None:
        self._settle(message, "requeue", message.requeue)

    def reject_message(self, message: Any) -> None:
        """Dead-letter the message now (the queue's dead-letter exchange takes it)."""
        self._settle(message, "reject", lambda: message.reject(requeue=False))

    def _settle(self, message: Any, how: str, settle: Callable[[], None]) -> None:
        if not message.channel.connection:  # closed: the broker has taken the message back already
            UNSETTLED.labels(how).inc()
            log.warning("could not %s message %s: its connection is closed; the broker will "
                        "deliver it again", how, _identify(message))
            return
        try:
            settle()
        except BROKER_ERRORS as error:
            UNSETTLED.labels(how).inc()
            log.warning("could not %s message %s (%s); the broker will deliver it again",
                        how, _identify(message), error)


class RpcConsumer(rpc.RpcConsumer):
    """nameko's, on our queue consumer, dropping (and counting) a reply it cannot send, and
    answering a request that comes again after it was answered from memory, not by running
    it twice: the broker delivers again a request whose ack it never got (it was away), and
    a command run again would send its email again, or make a second token.

    ``handle_result`` is nameko's own (reply, then ack), with the reply's failure caught
    and a fault test's hold point before each step. The memory is this process's, of its
    last ``REMEMBERED`` answers: another instance, or this one after a restart, runs a
    request delivered again, and the domain's own idempotence answers for that."""

    queue_consumer = QueueConsumer()
    REMEMBERED = 256

    def __init__(self) -> None:
        super().__init__()
        self._answered: OrderedDict[str, tuple[Any, BaseException | None]] = OrderedDict()

    def setup(self) -> None:
        super().setup()
        config = self.container.config
        self.queue.queue_arguments = rpc_queue_arguments(config[AMQP_URI_CONFIG_KEY], self.queue.name)

    def handle_message(self, body: Any, message: Any) -> None:
        correlation_id = message.properties.get("correlation_id")
        if message.delivery_info.get("redelivered") and correlation_id in self._answered:
            result, error = self._answered[correlation_id]
            ANSWERED_AGAIN.inc()
            log.warning("request %s came again after it was answered: answering it again, "
                        "not running it twice", _identify(message))
            self._reply(message, result, None if error is None else (type(error), error, None))
            self.queue_consumer.ack_message(message)
            return
        super().handle_message(body, message)

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
        method = str(message.delivery_info.get("routing_key", "")).rpartition(".")[2]
        hold_point(f"rpc.before_reply.{method}")
        result, exc_info = self._reply(message, result, exc_info)
        self._remember(message.properties.get("correlation_id"), result, exc_info)
        hold_point(f"rpc.before_ack.{method}")
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def _reply(self, message: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
        try:
            return self._responder(message).send_response(result, exc_info)
        except BROKER_ERRORS as error:
            REPLIES_DROPPED.inc()
            log.warning("dropped the reply to %s: the broker did not take it (%s); the caller "
                        "will time out, and the request will be delivered again",
                        _identify(message), error)
            return result, exc_info

    def _remember(self, correlation_id: str | None, result: Any, exc_info: Any) -> None:
        if correlation_id is None:
            return
        self._answered[correlation_id] = (result, None if exc_info is None else exc_info[1])
        while len(self._answered) > self.REMEMBERED:
            self._answered.popitem(last=False)

    def _responder(self, message: Any) -> rpc.Responder:
        config = self.container.config
        return rpc.Responder(
            config[AMQP_URI_CONFIG_KEY], rpc.get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )


class Rpc(rpc.Rpc):
    rpc_consumer = RpcConsumer()


class ReplyListener(rpc.ReplyListener):
    """Where an RPC caller's replies arrive, acked through our queue consumer. nameko asks it
    for a reply's event just before sending the request: the request waits there until the
    reply queue is consumed, or is refused as the broker's absence (``REPLY_QUEUE_WAIT``).
    Declaring the queue with the request instead failed in a cluster: a transient queue whose
    node is lost cannot be declared again (404) until the cluster forgets it, some seconds
    on; the consumer's own declaration waits that out."""

    queue_consumer = QueueConsumer()

    def setup(self) -> None:
        super().setup()
        self.queue.durable = False  # see the module's docstring: its node may go

    def get_reply_event(self, correlation_id: str) -> Any:
        waited = 0.0
        while not self.queue_consumer.consuming:
            if waited >= REPLY_QUEUE_WAIT:  # not sent: its reply would have nowhere to go
                raise OperationalError(f"no reply queue consumed for {waited:.0f} s: the broker is away")
            eventlet.sleep(WAIT_STEP)
            waited += WAIT_STEP
        return super().get_reply_event(correlation_id)


class RpcProxy(rpc.RpcProxy):
    """nameko's ``RpcProxy`` with our reply listener (the gateway's clients)."""

    rpc_reply_listener = ReplyListener()


def _identify(message: Any) -> str:
    properties = getattr(message, "properties", {}) or {}
    info = getattr(message, "delivery_info", {}) or {}
    return properties.get("message_id") or properties.get("correlation_id") or str(info.get("routing_key"))
