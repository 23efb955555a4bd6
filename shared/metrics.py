"""Prometheus metrics. One registry per process (each service runs in its own),
so nothing clashes with libraries that use the global registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)

REFUSALS = Counter(
    "sanctuary_gateway_refusals_total",
    "Requests refused for want of a credential (401) or of permission (403)",
    ["route", "status"], registry=REGISTRY,
)


def exposition() -> tuple[bytes, str]:
    """The text Prometheus scrapes, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
