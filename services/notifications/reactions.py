"""The registry of reactions: each public event the notifications service hears, the one
function that reacts to it (``@reacts_to``), and how a reaction is run. The reactions
themselves live in policies.py and its siblings, which import this."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.events.api import EventsApi
from services.notifications.application import Notifications
from services.pledges.api import PledgesApi
from shared.envelope import IntegrationEvent

Reaction = Callable[..., list]  # (app, news), or (app, news, client) for those that ask

# (origin, public event type) -> its reaction; one handler, and so one queue, each
REACTIONS: dict[tuple[str, str], Reaction] = {}
# reactions that ask another service for what the news leaves out (an address): which one
ASKING: dict[Reaction, str] = {}


def reacts_to(origin: str, *types: str, asks: str | None = None) -> Callable[[Reaction], Reaction]:
    """``asks``: the service ("pledges" or "events") the reaction is given a client of."""

    def register(reaction: Reaction) -> Reaction:
        for kind in types:
            REACTIONS[(origin, kind)] = reaction
        if asks:
            ASKING[reaction] = asks
        return reaction

    return register


def react(app: Notifications, news: IntegrationEvent, pledges: PledgesApi | None = None,
          events: EventsApi | None = None) -> list:
    """The aggregates one event changes or creates (saved by the caller, with tracking).
    ``pledges``, ``events``: those services' clients, for the reactions that ask them."""
    reaction = REACTIONS.get((news.origin, news.type))
    if reaction is None:
        changed = []
    elif reaction in ASKING:
        changed = reaction(app, news, {"pledges": pledges, "events": events}[ASKING[reaction]])
    else:
        changed = reaction(app, news)
    app.hold_back_replayed(news, changed)
    return changed


def needed(client: Any, news: IntegrationEvent, service: str) -> Any:
    if client is None:
        raise RuntimeError(f"{news.type} needs the {service} service to answer, and none was given")
    return client


def key_of(news: IntegrationEvent) -> str:
    return f"{news.origin}:{news.position}"


def coordinator_draft(app: Notifications, urn: str, draft: Any, *args: Any) -> list:
    """A draft for the school's coordinator, if the service knows who that is."""
    known = app.coordinator(urn)
    if known is None:
        return []
    name, email = known
    school = app.entry("school", urn).get("name", "your school")
    return [draft(name, school, email, *args)]
