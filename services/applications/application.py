"""The applications application. For now it learns each school's pledge standing
from the pledges service; the accreditation journey builds on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.application import AggregateNotFoundError

from services.applications.domain import PLEDGE_NEWS, PledgeStanding
from shared.clock import Clock
from shared.envelope import IntegrationEvent
from shared.errors import NotFound
from shared.store import ServiceApplication

if TYPE_CHECKING:
    from shared.authority import PledgeRules


# what this service keeps of pledge news: the school and dates, never people
KEPT = ("urn", "name", "signed_on", "renewed_on", "withdrawn_on")


class Applications(ServiceApplication):
    name = "applications"

    def __init__(self, env: dict | None = None, *, rules: PledgeRules,
                 clock: Clock | None = None) -> None:
        super().__init__(env)
        self.rules = rules
        self.clock = clock or Clock()

    # -- policies (reactions to other services' events) --------------------------

    def learn_pledge_news(self, news: IntegrationEvent) -> list[PledgeStanding]:
        """The aggregates changed by one piece of pledge news (saved by the caller).

        News this service has no use for changes nothing (but is still tracked)."""
        if news.type not in PLEDGE_NEWS:
            return []
        urn = news.payload["urn"]
        try:
            standing = self.repository.get(PledgeStanding.create_id(urn))
        except AggregateNotFoundError:
            standing = PledgeStanding(urn=urn)
        kept = {k: v for k, v in news.payload.items() if k in KEPT}  # no personal data here
        standing.learn(news.type, news.position, kept, news.actor)
        return [standing]

    # -- queries -------------------------------------------------------------

    def pledge_standing(self, urn: str) -> dict:
        try:
            standing = self.repository.get(PledgeStanding.create_id(urn))
        except AggregateNotFoundError:
            raise NotFound(f"The applications service has heard nothing of URN {urn}.", "urn") from None
        pledged = standing.pledged_on
        return {
            "urn": urn,
            "school_name": standing.school_name,
            "pledged_on": pledged.isoformat() if pledged else None,
            "may_apply": standing.may_apply(self.clock.today(), self.rules.lapse_years),
            "news": {kind: n["position"] for kind, n in standing.news.items()},
        }
