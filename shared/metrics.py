"""Prometheus metrics, named once for every service.

One registry per process (each service runs in its own), so nothing clashes
with libraries that use the global registry. Labels are bounded: routes as
templates, RPC methods, event types and outcomes; never a person or a school.
Every service serves this registry on its ops address (``shared.ops``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, choose_encoder
from prometheus_client.registry import Collector

disable_created_metrics()  # the *_created series double every counter's series for little use
REGISTRY = CollectorRegistry(auto_describe=True)

BUILD = Info("sanctuary_build", "The running service, its version and authority", registry=REGISTRY)

# -- the gateway's HTTP ---------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "sanctuary_http_requests_total", "HTTP requests answered, by route template and status",
    ["route", "method", "status"], registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "sanctuary_http_request_duration_seconds", "Time to answer an HTTP request",
    ["route", "method"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REFUSALS = Counter(
    "sanctuary_gateway_refusals_total",
    "Requests refused for want of a credential (401) or of permission (403)",
    ["route", "status"], registry=REGISTRY,
)

# -- nameko entrypoints -----------------------------------------------------------------
RPC_CALLS = Counter(
    "sanctuary_rpc_requests_total",
    "RPC calls served, by method and outcome (ok, refused: an expected domain error, error)",
    ["method", "outcome"], registry=REGISTRY,
)
RPC_SECONDS = Histogram(
    "sanctuary_rpc_duration_seconds", "Time to serve an RPC call", ["method"], registry=REGISTRY,
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

REPLIES_DROPPED = Counter(
    "sanctuary_rpc_replies_dropped_total",
    "RPC replies the broker would not take (it was away): the caller timed out, the request comes again",
    registry=REGISTRY,
)
ANSWERED_AGAIN = Counter(
    "sanctuary_rpc_requests_answered_again_total",
    "RPC requests the broker delivered again after they were answered (it never got the ack): "
    "answered from memory, not run twice",
    registry=REGISTRY,
)
UNSETTLED = Counter(
    "sanctuary_messages_unsettled_total",
    "Acks, requeues and rejects that could not reach the broker (it was away): the message comes again",
    ["action"], registry=REGISTRY,
)

# -- integration events -------------------------------------------------------------------
PUBLISHED = Counter(
    "sanctuary_integration_events_published_total",
    "Integration events the outbox relay published (broker-confirmed), by type",
    ["type"], registry=REGISTRY,
)
CONSUMED = Counter(
    "sanctuary_integration_events_consumed_total",
    "Integration events received, by origin, type and outcome "
    "(handled, duplicate: already consumed, failed: will be redelivered)",
    ["origin", "type", "outcome"], registry=REGISTRY,
)
DEAD_LETTERED = Counter(
    "sanctuary_integration_events_dead_lettered_total",
    "Integration events given up on (malformed, or failed on every delivery), by origin and type",
    ["origin", "type"], registry=REGISTRY,
)

# -- mail ------------------------------------------------------------------------------------
MAIL_SENT = Counter(
    "sanctuary_mail_sent_total", "Emails the SMTP server accepted, by kind", ["kind"], registry=REGISTRY,
)
MAIL_FAILURES = Counter(
    "sanctuary_mail_failures_total",
    "Sending attempts that failed, by kind and whether they will be retried (transient) or not",
    ["kind", "failure"], registry=REGISTRY,
)
MAIL_SECONDS = Histogram(
    "sanctuary_mail_send_duration_seconds", "Time for the SMTP server to take one email",
    registry=REGISTRY, buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class Gauges(Collector):
    """Gauges read when Prometheus scrapes, from a function of the service's
    state (relay position, schools by pledge state ...). A failing reading is
    left out of the scrape, not allowed to break it."""

    def __init__(self, read: Callable[[], Iterable[Metric]]) -> None:
        self.read = read

    def collect(self) -> Iterable[Metric]:
        try:
            return list(self.read())
        except Exception:  # noqa: BLE001 - a scrape must not fail for one reading
            return []

    def describe(self) -> Iterable[Metric]:
        return []  # no description ahead of time: readings may touch the store


def gauge(name: str, documentation: str, values: dict[tuple[str, ...], float],
          labels: Iterable[str] = ()) -> GaugeMetricFamily:
    """A gauge family from ``{label values: value}`` (``{(): v}`` without labels)."""
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for label_values, value in values.items():
        family.add_metric(list(label_values), value)
    return family


def read_gauges(read: Callable[[], Iterable[Metric]]) -> Gauges:
    """Register a reading of gauges on this process's registry."""
    collector = Gauges(read)
    REGISTRY.register(collector)
    return collector


def exposition(accept: str | None = None) -> tuple[bytes, str]:
    """The text Prometheus scrapes, and its content type, in the format the scraper
    asks for (OpenMetrics or the classic text format)."""
    if accept is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    encode, content_type = choose_encoder(accept)
    return encode(REGISTRY), content_type
