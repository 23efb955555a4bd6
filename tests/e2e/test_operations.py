"""What an operator sees, on the whole running system: every service's metrics
and health on its ops port, scraped by promtool and by a real Prometheus, and
moving as the system works; readiness that fails when the broker does; and a
stuck relay that shows in the metrics and recovers without losing an event.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from sanctuary.launch import ORDER
from shared.config import ROOT
from tests.components import RABBIT_API, RABBIT_AUTH
from tests.e2e.conftest import Api, E2ESystem, free_port, wait_for
from tests.e2e.test_http import journey, next_urn

pytestmark = pytest.mark.e2e
SHARES_SYSTEM = True  # its URNs and addresses are its own, and it takes no cycle-wide step

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"


def ops_url(system: E2ESystem, service: str, path: str) -> str:
    return f"http://{system.ops_address(service)}{path}"


def scrape(system: E2ESystem, service: str) -> dict[tuple[str, tuple], float]:
    """One scrape of a service: {(sample name, sorted labels): value}."""
    text = requests.get(ops_url(system, service, "/metrics"), timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def ready(system: E2ESystem, service: str) -> tuple[int, dict]:
    response = requests.get(ops_url(system, service, "/health/ready"), timeout=15)
    return response.status_code, response.json()


def vhost_of(system: E2ESystem) -> str:
    return system.amqp_uri.rsplit("/", 1)[-1]


# -- every service speaks Prometheus -----------------------------------------------------


@pytest.mark.parametrize("service", ORDER)
def test_every_service_serves_metrics_that_promtool_accepts(system: E2ESystem, service: str) -> None:
    response = requests.get(ops_url(system, service, "/metrics"), timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples = scrape(system, service)
    info = [labels for (name, labels) in samples if name == "sanctuary_build_info"]
    assert info and dict(info[0])["service"] == service and dict(info[0])["authority"] == "coventry"
    lint = subprocess.run(["promtool", "check", "metrics"], input=response.content,
                          capture_output=True, timeout=30)
    assert lint.returncode == 0, lint.stdout.decode() + lint.stderr.decode()


@pytest.mark.parametrize("service", ORDER)
def test_every_service_is_live_and_ready(system: E2ESystem, service: str) -> None:
    live = requests.get(ops_url(system, service, "/health/live"), timeout=10)
    assert live.status_code == 200 and live.json()["service"] == service
    status, body = ready(system, service)
    assert status == 200, body
    expected = {"broker"} if service == "gateway" else {"broker", "store", "relay"}
    assert set(body["checks"]) == expected and set(body["checks"].values()) == {"ok"}
    samples = scrape(system, service)
    assert {dict(labels)["check"]: v for (name, labels), v in samples.items()
            if name == "sanctuary_ready"} == dict.fromkeys(expected, 1.0)


def test_metrics_move_as_a_school_pledges(system: E2ESystem) -> None:
    api = Api(system)
    before = {name: scrape(system, name) for name in ("pledges", "gateway", "notifications")}
    urn = next_urn()
    journey(api, urn)
    api.settled_pledges()

    pledges = scrape(system, "pledges")
    assert value(pledges, "sanctuary_schools", status="signed") == \
        value(before["pledges"], "sanctuary_schools", status="signed") + 1
    assert value(pledges, "sanctuary_integration_events_published_total", type="PledgeSigned") == \
        value(before["pledges"], "sanctuary_integration_events_published_total", type="PledgeSigned") + 1
    assert value(pledges, "sanctuary_rpc_requests_total", method="sign_pledge", outcome="ok") == \
        value(before["pledges"], "sanctuary_rpc_requests_total", method="sign_pledge", outcome="ok") + 1
    assert value(pledges, "sanctuary_relay_lag_events") == 0

    gateway = scrape(system, "gateway")
    route = {"route": "/schools/<urn>/pledge", "method": "POST"}
    assert value(gateway, "sanctuary_http_requests_total", status="200", **route) == \
        value(before["gateway"], "sanctuary_http_requests_total", status="200", **route) + 1
    assert value(gateway, "sanctuary_http_request_duration_seconds_count", **route) >= 1

    def mailed() -> bool:
        sent = value(scrape(system, "notifications"), "sanctuary_mail_sent_total", kind="pledge-signed")
        return sent == value(before["notifications"], "sanctuary_mail_sent_total", kind="pledge-signed") + 1
    wait_for(mailed, 30, "the pledge-signed email to be counted as sent")
    consumed = scrape(system, "notifications")
    assert value(consumed, "sanctuary_integration_events_consumed_total",
                 origin="pledges", type="PledgeSigned", outcome="handled") >= 1


def test_a_refused_rpc_counts_as_refused_not_as_an_error(system: E2ESystem) -> None:
    api = Api(system)
    urn = next_urn()
    api.ok(api.post("/schools", {"urn": urn, "name": f"School {urn}", "phase": "primary",
                                 "postcode": "cv1 2ab",
                                 "coordinator": {"name": "Ann", "email": "ann@example.org"}}), 201)
    labels = {"method": "sign_pledge"}
    before = scrape(system, "pledges")
    coordinator = api.as_(system.coordinator(urn))
    response = coordinator.post(f"/schools/{urn}/pledge", {"signed_by": "Cara", "role": "Head"})
    assert response.status_code == 409, response.text  # no commitments yet
    refused = value(before, "sanctuary_rpc_requests_total", outcome="refused", **labels) + 1

    def counted() -> dict | None:  # nameko counts a worker just after it has sent the reply
        samples = scrape(system, "pledges")
        return samples if value(samples, "sanctuary_rpc_requests_total", outcome="refused",
                                **labels) >= refused else None
    after = wait_for(counted, 10, "the refused call to be counted")
    assert value(after, "sanctuary_rpc_requests_total", outcome="refused", **labels) == refused
    assert value(after, "sanctuary_rpc_requests_total", outcome="error", **labels) == \
        value(before, "sanctuary_rpc_requests_total", outcome="error", **labels)


# -- a real Prometheus ---------------------------------------------------------------------


@pytest.fixture
def prometheus(system: E2ESystem, tmp_path: Path) -> Iterator[str]:
    """A real Prometheus scraping every service of the system each second, with
    the project's alert rules loaded."""
    port = free_port()
    rules = tmp_path / "alerts.yml"
    rules.write_text(ALERTS.read_text() if ALERTS.exists() else "groups: []\n")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [{
            "job_name": "sanctuary",
            "static_configs": [{"targets": [system.ops_address(name)], "labels": {"service": name}}
                               for name in ORDER],
        }],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    process = subprocess.Popen(
        ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "prometheus.log").open("wb"))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url), 30, "Prometheus to start")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/-/ready", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def query(url: str, expr: str) -> list[dict]:
    body = requests.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_a_real_prometheus_scrapes_every_service_and_loads_the_alert_rules(
        system: E2ESystem, prometheus: str) -> None:
    def all_up() -> list[dict] | None:
        up = query(prometheus, 'up{job="sanctuary"}')
        return up if len(up) == len(ORDER) and all(r["value"][1] == "1" for r in up) else None
    up = wait_for(all_up, 30, "Prometheus to scrape every service")
    assert {r["metric"]["service"] for r in up} == set(ORDER)
    relays = query(prometheus, "sanctuary_relay_running")
    assert {r["metric"]["service"] for r in relays} == set(ORDER) - {"gateway"}
    days = query(prometheus, '(sanctuary_deadline_timestamp_seconds{deadline="final"} - time()) / 86400')
    assert days and float(days[0]["value"][1]) > 0

    groups = requests.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    if ALERTS.exists():
        assert rules, "alerts.yml loaded no rules"
    def evaluated() -> bool:
        fresh = [r for g in requests.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
                 for r in g["rules"]]
        return all(r.get("lastEvaluation", "").startswith("20") for r in fresh)
    wait_for(evaluated, 20, "every rule to be evaluated once")
    fresh = [r for g in requests.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
             for r in g["rules"]]
    assert all(r["health"] == "ok" for r in fresh), [(r["name"], r.get("lastError")) for r in fresh]
    firing = query(prometheus, 'ALERTS{alertstate="firing", severity="critical"}')
    assert firing == [], firing  # a healthy system raises no critical alert


# -- faults an operator must see -------------------------------------------------------------


def _limit_connections(vhost: str, limit: int | None) -> None:
    url = f"{RABBIT_API}/vhost-limits/{vhost}/max-connections"
    if limit is None:
        requests.delete(url, auth=RABBIT_AUTH, timeout=10).raise_for_status()
    else:
        requests.put(url, json={"value": limit}, auth=RABBIT_AUTH, timeout=10).raise_for_status()


def _close_connections(vhost: str, name: str) -> int:
    connections = requests.get(f"{RABBIT_API}/vhosts/{vhost}/connections", auth=RABBIT_AUTH,
                               timeout=10).json()
    closed = 0
    for connection in connections:
        if connection.get("client_properties", {}).get("connection_name") == name:
            requests.delete(f"{RABBIT_API}/connections/{requests.utils.quote(connection['name'])}",
                            auth=RABBIT_AUTH, timeout=10)
            closed += 1
    return closed


def test_readiness_fails_while_the_broker_refuses_connections(system: E2ESystem) -> None:
    vhost = vhost_of(system)
    _limit_connections(vhost, 0)
    try:
        status, body = ready(system, "pledges")
        assert status == 503, body
        assert body["status"] == "not ready"
        assert body["checks"]["broker"].startswith("the broker did not answer")
        assert body["checks"]["store"] == "ok"
        samples = scrape(system, "pledges")  # the same checks, as a metric an alert can watch
        assert value(samples, "sanctuary_ready", check="broker") == 0
        assert value(samples, "sanctuary_ready", check="store") == 1
    finally:
        _limit_connections(vhost, None)
    assert ready(system, "pledges")[0] == 200


def test_a_stuck_relay_shows_in_the_metrics_and_catches_up_losing_nothing(system: E2ESystem) -> None:
    api = Api(system)
    api.settled_pledges()
    vhost = vhost_of(system)
    urn = next_urn()
    _limit_connections(vhost, 0)  # the relay cannot reconnect ...
    try:
        _close_connections(vhost, "pledges relay")  # (none open: it cannot open one either)
        api.ok(api.post("/schools", {"urn": urn, "name": f"School {urn}", "phase": "primary",
                                     "postcode": "cv1 2ab",
                                     "coordinator": {"name": "Ann", "email": "ann@example.org"}}), 201)

        def stuck() -> dict | None:
            samples = scrape(system, "pledges")
            lagging = value(samples, "sanctuary_relay_lag_events") >= 1
            return samples if lagging and value(samples, "sanctuary_relay_failures") >= 1 else None
        samples = wait_for(stuck, 30, "the relay's lag and failures to show")
        assert time.time() - value(samples, "sanctuary_relay_last_turn_timestamp_seconds") < 15
        assert ready(system, "pledges")[0] == 503
    finally:
        _limit_connections(vhost, None)  # ... until the broker takes connections again

    wait_for(lambda: value(scrape(system, "pledges"), "sanctuary_relay_lag_events") == 0, 30,
             "the relay to catch up")
    eligibility = wait_for(lambda: _known_to_applications(api, urn), 30,
                           "the applications service to hear of the school registered while stuck")
    assert eligibility["urn"] == urn


def _known_to_applications(api: Api, urn: str) -> dict | None:
    response = api.get(f"/schools/{urn}/eligibility")
    return response.json() if response.status_code == 200 else None
