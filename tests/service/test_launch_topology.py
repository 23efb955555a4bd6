"""A launcher (``sanctuary up``, the tests' systems) declares every service's queues once, before
it starts them, and tells them so: each service then imports only its own class. A broker that
does not answer is left to the services, which declare the queues themselves as when started alone."""

from __future__ import annotations

from pathlib import Path

import requests

from sanctuary.launch import System
from sanctuary.services import SERVICES, TOPOLOGY_DECLARED, service_class
from shared.config import Settings
from shared.consumer import handler_queues
from tests.components import MANAGEMENT_TIMEOUT, RABBIT_API, RABBIT_AUTH


def system(amqp_uri: str, tmp_path: Path) -> System:
    env = {"SANCTUARY_AMQP_URI": amqp_uri, "SANCTUARY_DATA_DIR": str(tmp_path)}
    return System(Settings.from_env(env), env)


def test_the_launcher_declares_every_services_queues_and_says_so(amqp_uri: str, vhost: str,
                                                                  tmp_path: Path) -> None:
    launcher = system(amqp_uri, tmp_path)
    launcher._declare_topology()
    assert launcher.env[TOPOLOGY_DECLARED] == amqp_uri
    queues = {q["name"] for q in requests.get(f"{RABBIT_API}/queues/{vhost}", auth=RABBIT_AUTH,
                                              timeout=MANAGEMENT_TIMEOUT).json()}
    expected = {q for name in SERVICES for q in handler_queues(service_class(name))}
    expected |= {f"rpc-{name}" for name in SERVICES if name != "gateway"}
    assert len(expected) > 50
    assert expected <= queues, expected - queues


def test_a_broker_that_does_not_answer_is_left_to_the_services(tmp_path: Path) -> None:
    launcher = system("amqp://guest:guest@127.0.0.1:1//", tmp_path)
    launcher.env[TOPOLOGY_DECLARED] = "amqp://guest:guest@127.0.0.1:1//"  # from an earlier start
    launcher._declare_topology()
    assert TOPOLOGY_DECLARED not in launcher.env
