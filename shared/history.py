"""An aggregate's history as people read it: when, who, what, and the details."""

from __future__ import annotations

from typing import Any

from shared.personal import reveal

_HIDDEN = {"originator_id", "originator_version", "timestamp", "actor", "originator_topic",
           "correlation_id", "causation_id"}  # which request caused it: for the logs, not the history


def history_entry(domain_event: Any) -> dict:
    return reveal({
        "version": domain_event.originator_version,
        "event": type(domain_event).__qualname__.split(".")[-1],
        "at": domain_event.timestamp,
        "actor": getattr(domain_event, "actor", "system"),
        "details": {k: v for k, v in vars(domain_event).items() if k not in _HIDDEN},
    })
