"""The pledges nameko service: a thin RPC adapter around the Pledges application."""

from __future__ import annotations

from nameko.rpc import rpc

from services.pledges import schemas
from services.pledges.application import Pledges
from services.pledges.contract import PLEDGES
from shared.authority import Authority
from shared.config import Settings
from shared.runtime import EventSourcedApp, ServiceBase
from shared.schema import load
from shared.store import store_env


def build(settings: Settings, authority: Authority) -> Pledges:
    return Pledges(env=store_env("pledges", settings), rules=authority.pledge)


def _dump(view: dict) -> dict:
    return schemas.SchoolView().dump(view)


class PledgesService(ServiceBase):
    name = "pledges"
    application = EventSourcedApp(build, PLEDGES)

    @rpc
    def register_school(self, actor: str, data: dict) -> dict:
        return _dump(self.application.register_school(actor, **load(schemas.RegisterSchool(), data)))

    @rpc
    def express_interest(self, actor: str, urn: str, data: dict) -> dict:
        return _dump(self.application.express_interest(actor, urn, **load(schemas.ExpressInterest(), data)))

    @rpc
    def record_commitment(self, actor: str, urn: str, data: dict) -> dict:
        return _dump(self.application.record_commitment(actor, urn, **load(schemas.RecordCommitment(), data)))

    @rpc
    def sign_pledge(self, actor: str, urn: str, data: dict) -> dict:
        return _dump(self.application.sign_pledge(actor, urn, **load(schemas.SignPledge(), data)))

    @rpc
    def renew_pledge(self, actor: str, urn: str, data: dict) -> dict:
        return _dump(self.application.renew_pledge(actor, urn, **load(schemas.RenewPledge(), data)))

    @rpc
    def withdraw_pledge(self, actor: str, urn: str, data: dict) -> dict:
        return _dump(self.application.withdraw_pledge(actor, urn, **load(schemas.WithdrawPledge(), data)))

    @rpc
    def set_newsletter(self, actor: str, urn: str, data: dict) -> dict:
        return _dump(self.application.set_newsletter(actor, urn, **load(schemas.Newsletter(), data)))

    @rpc
    def change_coordinator(self, actor: str, urn: str, data: dict) -> dict:
        coordinator = load(schemas.ChangeCoordinator(), data)
        return _dump(self.application.change_coordinator(actor, urn, coordinator))

    @rpc
    def school(self, urn: str) -> dict:
        return _dump(self.application.school(urn))

    @rpc
    def schools(self, query: dict) -> dict:
        status = load(schemas.SchoolQuery(), query).get("status")
        return schemas.SchoolList().dump({"schools": self.application.schools(status)})

    @rpc
    def history(self, urn: str) -> dict:
        return schemas.SchoolHistory().dump({"urn": urn, "history": self.application.history(urn)})
