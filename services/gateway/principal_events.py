"""The gateway's principal cache (principals.py) in a nameko service: one cache per process,
and the accounts service's events that make it forget.

Each gateway process listens on a queue of its own (broadcast: every instance hears every
event), deleted when it disconnects. Nothing is tracked or retried: a missed event costs at
most the cache's TTL of staleness, which is the bound the README states.
"""

from __future__ import annotations

import logging
from typing import Any

from marshmallow import ValidationError
from nameko.events import BROADCAST, EventHandler
from nameko.extensions import DependencyProvider

from services.gateway.principals import PrincipalCache
from shared.envelope import parse_envelope
from shared.messaging import QueueConsumer

log = logging.getLogger(__name__)

# accounts operations that change who may do what: the gateway forgets every principal after
# calling one, so the change holds from the next request through this gateway
ACCESS_CHANGES = frozenset({"grant", "revoke", "close_account", "revoke_token", "sign_out",
                            "sign_out_everywhere", "erase_person"})


class Principals(DependencyProvider):
    """The process's principal cache, shared by every worker."""

    def setup(self) -> None:
        self.cache = PrincipalCache()

    def get_dependency(self, worker_ctx: Any) -> PrincipalCache:
        return self.cache


class AccessEventHandler(EventHandler):
    queue_consumer = QueueConsumer()  # acks that a broker outage cannot make fatal

    def __init__(self, source_service: str, event_type: str, **kwargs: Any) -> None:
        super().__init__(source_service, event_type, handler_type=BROADCAST, reliable_delivery=False,
                         **kwargs)


access_event = AccessEventHandler.decorator


def forget(cache: PrincipalCache, body: dict) -> None:
    """Forget what ``body`` (an accounts event) makes stale; anything unreadable: everything."""
    try:
        event = parse_envelope(body)
    except ValidationError:
        log.warning("an unreadable accounts event: forgetting every principal")
        cache.forget_all()
        return
    account = event.payload.get("account") if event.type == "AccountAccessChanged" else None
    if event.schema_version == 1 and isinstance(account, str):
        cache.forget_account(account)
    else:  # an erasure, or a version this gateway does not know
        cache.forget_all()
