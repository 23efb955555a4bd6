"""The applications nameko service: a thin adapter around the Applications application."""

from __future__ import annotations

from services.applications.application import Applications
from shared.access import SCHOOL_STAFF, require
from shared.authority import Authority
from shared.config import Settings
from shared.consumer import consume, integration_handler
from shared.runtime import EventSourcedApp, ServiceBase, rpc
from shared.store import store_env


def build(settings: Settings, authority: Authority) -> Applications:
    return Applications(env=store_env("applications", settings), rules=authority.pledge)


class ApplicationsService(ServiceBase):
    name = "applications"
    application = EventSourcedApp(build)

    def _learn(self, body: dict) -> None:
        consume(self.application, body, self.application.learn_pledge_news)

    @integration_handler("pledges", "SchoolRegistered")
    def on_school_registered(self, body: dict) -> None:
        self._learn(body)

    @integration_handler("pledges", "PledgeSigned")
    def on_pledge_signed(self, body: dict) -> None:
        self._learn(body)

    @integration_handler("pledges", "PledgeRenewed")
    def on_pledge_renewed(self, body: dict) -> None:
        self._learn(body)

    @integration_handler("pledges", "PledgeWithdrawn")
    def on_pledge_withdrawn(self, body: dict) -> None:
        self._learn(body)

    @rpc
    def pledge_standing(self, principal: dict, urn: str) -> dict:
        require(SCHOOL_STAFF, principal, urn=urn)
        return self.application.pledge_standing(urn)
