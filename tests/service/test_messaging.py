"""A broker outage is never fatal: every service uses shared.messaging's extensions, whose
acks and replies give up (counted) instead of raising into nameko, which would kill the
container. The broker-level proof is tests/faults (RabbitMQ stopped under load)."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from kombu.exceptions import OperationalError
from nameko import messaging as nameko_messaging
from nameko import rpc as nameko_rpc
from nameko.containers import ServiceContainer

from sanctuary.services import SERVICES, service_class
from shared import messaging
from shared.metrics import REGISTRY
from shared.runtime import rpc

NAMEKO_FATAL = {nameko_messaging.QueueConsumer, nameko_rpc.RpcConsumer, nameko_rpc.Rpc,
                nameko_rpc.ReplyListener, nameko_rpc.RpcProxy}


def container(cls: type) -> ServiceContainer:
    return ServiceContainer(cls, {"AMQP_URI": "amqp://guest:guest@127.0.0.1:1/unused"})


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_consumes_through_our_extensions(name: str) -> None:
    extensions = container(service_class(name)).extensions
    plain = sorted({type(e).__name__ for e in extensions if type(e) in NAMEKO_FATAL})
    assert not plain, f"{name} uses nameko's own {plain}: a broker outage would end the process"
    consumers = [e for e in extensions if isinstance(e, nameko_messaging.QueueConsumer)]
    assert [type(c) for c in consumers] == [messaging.QueueConsumer]  # one connection, ours


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def message(connected: bool = True, fails: BaseException | None = None) -> mock.Mock:
    found = mock.Mock(properties={"correlation_id": "c-1", "content_type": "application/json",
                                  "reply_to": "r"},
                      delivery_info={"routing_key": "svc.m"})
    found.channel.connection = object() if connected else None
    for settle in (found.ack, found.requeue, found.reject):
        settle.side_effect = fails
    return found


@pytest.mark.parametrize("how", ["ack", "requeue", "reject"])
@pytest.mark.parametrize("error", [ConnectionResetError(104, "reset"), BrokenPipeError(32, "pipe"),
                                   OperationalError("ECONNREFUSED")])
def test_a_settlement_the_broker_cannot_take_is_counted_not_raised(how: str, error: Exception) -> None:
    consumer, got = messaging.QueueConsumer(), message(fails=error)
    before = counted("sanctuary_messages_unsettled_total", action=how)
    getattr(consumer, f"{how}_message")(got)
    assert counted("sanctuary_messages_unsettled_total", action=how) == before + 1
    assert getattr(got, how).called


def test_a_message_whose_connection_closed_is_left_to_the_broker() -> None:
    consumer, got = messaging.QueueConsumer(), message(connected=False)
    consumer.ack_message(got)
    assert not got.ack.called


def test_an_error_that_is_not_the_brokers_still_raises() -> None:
    with pytest.raises(ValueError):
        messaging.QueueConsumer().ack_message(message(fails=ValueError("a bug")))


class Service:
    name = "svc"

    @rpc
    def m(self) -> int:
        return 1


@pytest.fixture
def rpc_consumer() -> Iterator[messaging.RpcConsumer]:
    owner = container(Service)  # held: extensions know their container by a weak reference
    [found] = [e for e in owner.extensions if isinstance(e, nameko_rpc.RpcConsumer)]
    yield found


def test_a_reply_the_broker_does_not_take_is_dropped_counted_and_the_request_acked(
        rpc_consumer: messaging.RpcConsumer) -> None:
    consumer, got = rpc_consumer, message()
    before = counted("sanctuary_rpc_replies_dropped_total")
    with mock.patch.object(nameko_rpc.Responder, "send_response",
                           side_effect=OperationalError("[Errno 111] ECONNREFUSED")):
        assert consumer.handle_result(got, 1, None) == (1, None)
    assert counted("sanctuary_rpc_replies_dropped_total") == before + 1
    assert got.ack.called


def test_a_reply_sent_is_not_counted_as_dropped(rpc_consumer: messaging.RpcConsumer) -> None:
    consumer, got = rpc_consumer, message()
    before = counted("sanctuary_rpc_replies_dropped_total")
    with mock.patch.object(nameko_rpc.Responder, "send_response", return_value=(1, None)):
        consumer.handle_result(got, 1, None)
    assert counted("sanctuary_rpc_replies_dropped_total") == before
    assert got.ack.called


def test_our_rpc_is_nameko_s_rpc() -> None:
    """ops.RpcMetrics and the gateway's error mapping recognise it as nameko's."""
    owner = container(Service)
    entry = next(iter(owner.entrypoints))
    assert isinstance(entry, nameko_rpc.Rpc) and isinstance(entry, messaging.Rpc)


def test_a_request_delivered_again_after_its_answer_is_answered_again_not_run_twice(
        rpc_consumer: messaging.RpcConsumer) -> None:
    first, again = message(), message()
    again.delivery_info["redelivered"] = True
    before = counted("sanctuary_rpc_requests_answered_again_total")
    with mock.patch.object(nameko_rpc.Responder, "send_response",
                           side_effect=lambda result, exc_info: (result, exc_info)) as send:
        rpc_consumer.handle_result(first, {"position": 7}, None)  # its ack never reached the broker
        with mock.patch.object(nameko_rpc.RpcConsumer, "handle_message") as run:
            rpc_consumer.handle_message({"args": [], "kwargs": {}}, again)
    assert not run.called
    assert send.call_args_list[-1] == mock.call({"position": 7}, None)  # the same answer
    assert again.ack.called
    assert counted("sanctuary_rpc_requests_answered_again_total") == before + 1


def test_a_refusal_is_answered_again_as_the_same_refusal(rpc_consumer: messaging.RpcConsumer) -> None:
    refusal = ValueError("no")
    again = message()
    again.delivery_info["redelivered"] = True
    with mock.patch.object(nameko_rpc.Responder, "send_response",
                           side_effect=lambda result, exc_info: (result, exc_info)) as send:
        rpc_consumer.handle_result(message(), None, (ValueError, refusal, None))
        rpc_consumer.handle_message({"args": [], "kwargs": {}}, again)
    assert send.call_args_list[-1].args[1][1] is refusal


@pytest.mark.parametrize("redelivered, answered", [(True, False), (False, True)])
def test_a_request_not_answered_here_or_delivered_the_first_time_is_run(
        rpc_consumer: messaging.RpcConsumer, redelivered: bool, answered: bool) -> None:
    got = message()
    got.delivery_info["redelivered"] = redelivered
    with mock.patch.object(nameko_rpc.Responder, "send_response", return_value=(1, None)):
        if answered:
            rpc_consumer.handle_result(message(), 1, None)
        with mock.patch.object(nameko_rpc.RpcConsumer, "handle_message") as run:
            rpc_consumer.handle_message({"args": [], "kwargs": {}}, got)
    assert run.called


def test_only_the_last_answers_are_remembered(rpc_consumer: messaging.RpcConsumer) -> None:
    with mock.patch.object(nameko_rpc.Responder, "send_response", return_value=(1, None)):
        for n in range(rpc_consumer.REMEMBERED + 5):
            answered = message()
            answered.properties["correlation_id"] = f"c-{n}"
            rpc_consumer.handle_result(answered, 1, None)
    assert len(rpc_consumer._answered) == rpc_consumer.REMEMBERED
    assert "c-0" not in rpc_consumer._answered
    assert f"c-{rpc_consumer.REMEMBERED + 4}" in rpc_consumer._answered


class Consumer:
    """A queue consumer that is consuming after it has been asked ``after`` times."""

    def __init__(self, after: int) -> None:
        self.asked, self.after = 0, after

    @property
    def consuming(self) -> bool:
        self.asked += 1
        return self.asked > self.after


def listener(consumer: Consumer) -> messaging.ReplyListener:
    reply_listener = messaging.ReplyListener()
    reply_listener.queue_consumer = consumer
    return reply_listener


def test_a_request_waits_until_its_reply_queue_is_consumed(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(messaging.eventlet, "sleep", slept.append)
    consumer = Consumer(after=3)
    event = listener(consumer).get_reply_event("c-1")
    assert slept == [messaging.WAIT_STEP] * 3  # the broker away for three looks, then back
    assert event is not None and consumer.asked == 4


def test_a_request_is_not_sent_while_the_broker_stays_away(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(messaging.eventlet, "sleep", slept.append)
    reply_listener = listener(Consumer(after=10**9))
    with pytest.raises(OperationalError, match="the broker is away"):  # the gateway's 503 "try again"
        reply_listener.get_reply_event("c-2")
    assert len(slept) == pytest.approx(messaging.REPLY_QUEUE_WAIT / messaging.WAIT_STEP, abs=1)
    assert reply_listener._reply_events == {}  # nothing left waiting for a reply
