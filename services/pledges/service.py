"""The pledges nameko service: its operations come from api.py (each call carries the
principal the gateway authenticated, and the access rule is checked here again: this
service owns the data); this builds the application and learns awards from the
applications service's ``Awarded`` events (consumed idempotently).
"""

from __future__ import annotations

from collections.abc import Iterable

from services.pledges.api import PledgesApi
from services.pledges.application import Pledges
from services.pledges.contract import PLEDGES
from services.pledges.feed import Publisher
from shared.authority import Authority
from shared.config import Settings
from shared.consumer import consume, integration_handler
from shared.erasure import PersonalDataService
from shared.metrics import Metric, gauge
from shared.runtime import EventSourcedApp, ServiceBase, serve
from shared.store import store_env


def build(settings: Settings, authority: Authority) -> Pledges:
    return Pledges(env=store_env("pledges", settings), rules=authority.pledge,
                   publisher=Publisher.of(authority, settings.public_url))


def gauges(app: Pledges) -> Iterable[Metric]:
    counts = {(status,): n for status, n in app.count_by_status().items()}
    yield gauge("sanctuary_schools", "Schools by pledge status", counts, ["status"])


@serve(PledgesApi)
class PledgesService(ServiceBase, PersonalDataService):
    name = "pledges"
    application = EventSourcedApp(build, PLEDGES, gauges)

    # -- awards, from the applications service's public events ----------------------------

    @integration_handler("applications", "Awarded")
    def on_awarded(self, body: dict) -> None:
        consume(self.application, body, self.application.learn_award_news)
