"""SANCTUARY_AMQP_URI may name every node of a RabbitMQ cluster, separated by ``;`` (kombu
tries them in turn); logs show them all, without a password."""

from __future__ import annotations

import kombu

from shared.messaging import broker_nodes, redacted

CLUSTER = "amqp://svc:s3cret@mq1:5672/sanctuary;amqp://svc:s3cret@mq2:5672/sanctuary;amqp://svc:other@mq3/sanctuary"


def test_every_node_is_named() -> None:
    assert broker_nodes(CLUSTER) == ["amqp://svc:s3cret@mq1:5672/sanctuary", "amqp://svc:s3cret@mq2:5672/sanctuary",
                                     "amqp://svc:other@mq3/sanctuary"]
    assert broker_nodes("amqp://guest:guest@127.0.0.1:5672/") == ["amqp://guest:guest@127.0.0.1:5672/"]


def test_a_log_shows_every_node_and_no_password() -> None:
    shown = redacted(CLUSTER)
    assert "s3cret" not in shown and "other" not in shown
    assert all(f"@{host}" in shown for host in ("mq1:5672", "mq2:5672", "mq3"))


def test_kombu_takes_the_list_and_fails_over_in_order() -> None:
    connection = kombu.Connection(CLUSTER)
    assert connection.hostname == "mq1"
    connection.maybe_switch_next()
    assert (connection.hostname, connection.virtual_host) == ("mq2", "sanctuary")
