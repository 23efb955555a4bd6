"""The events (CPD) nameko service: its operations come from api.py; this builds the
application, seeds the configured programme, moves waiting lists on and hears of awards."""

from __future__ import annotations

from nameko.timer import timer

from services.events.api import EventsApi
from services.events.application import Programme
from services.events.contract import EVENTS
from shared.authority import Authority
from shared.config import Settings
from shared.consumer import consume, integration_handler
from shared.erasure import PersonalDataService
from shared.runtime import EventSourcedApp, ServiceBase, serve
from shared.store import store_env


def build(settings: Settings, authority: Authority) -> Programme:
    return Programme(env=store_env("events", settings), authority=authority)


def seed(programme: Programme) -> None:
    """At the service's start (not in ``build``, which the read-only audit commands
    use too): the configured programme, once; the lead's edits are kept."""
    programme.seed()


@serve(EventsApi)
class EventsService(ServiceBase, PersonalDataService):
    name = "events"
    application = EventSourcedApp(build, EVENTS, prepare=seed)

    @timer(interval=60)
    def expire_offers(self) -> None:
        """Unclaimed places move down their waiting lists within a minute of expiring."""
        self.application.expire_offers()

    @integration_handler("applications", "Awarded")
    def on_awarded(self, body: dict) -> None:
        """An awarded school is invited to the authority's next celebration (once)."""
        consume(self.application, body, self.application.learn_award)
