"""The pledges nameko service: a thin RPC adapter around the Pledges application.

Every call carries the principal the gateway authenticated, and the access
rule is checked here again: this service owns the data. It also keeps each
school's choice to share its award publicly, learns awards from the
applications service's ``Awarded`` events (consumed idempotently), and answers
the public list and feed of schools that chose to be listed.
"""

from __future__ import annotations

from collections.abc import Iterable

from marshmallow import Schema

from services.pledges import schemas
from services.pledges.api import PledgesApi
from services.pledges.application import Pledges
from services.pledges.contract import PLEDGES
from services.pledges.feed import Publisher
from shared.access import ANY_COORDINATOR, LEAD, PUBLIC, SCHOOL_STAFF, Principal, require
from shared.authority import Authority
from shared.config import Settings
from shared.consumer import consume, integration_handler
from shared.metrics import Metric, gauge
from shared.runtime import EventSourcedApp, ServiceBase, rpc, serve
from shared.schema import load
from shared.store import store_env
from shared.subject_access import PersonalDataService


def build(settings: Settings, authority: Authority) -> Pledges:
    return Pledges(env=store_env("pledges", settings), rules=authority.pledge,
                   publisher=Publisher.of(authority, settings.public_url))


def gauges(app: Pledges) -> Iterable[Metric]:
    counts = {(status,): n for status, n in app.count_by_status().items()}
    yield gauge("sanctuary_schools", "Schools by pledge status", counts, ["status"])


def _dump(view: dict) -> dict:
    return schemas.SchoolView().dump(view)


@serve(PledgesApi)
class PledgesService(ServiceBase, PersonalDataService):
    name = "pledges"
    application = EventSourcedApp(build, PLEDGES, gauges)

    def _command(self, principal: dict, urn: str, schema: Schema, data: dict, method: str) -> dict:
        actor = require(SCHOOL_STAFF, principal, urn=urn).actor
        return _dump(getattr(self.application, method)(actor, urn, **load(schema, data)))

    @rpc
    def register_school(self, principal: dict, data: dict) -> dict:
        data = load(schemas.RegisterSchool(), data)
        actor = require(SCHOOL_STAFF, principal, urn=data["urn"]).actor
        return _dump(self.application.register_school(actor, **data))

    @rpc
    def express_interest(self, principal: dict, urn: str, data: dict) -> dict:
        return self._command(principal, urn, schemas.ExpressInterest(), data, "express_interest")

    @rpc
    def record_commitment(self, principal: dict, urn: str, data: dict) -> dict:
        return self._command(principal, urn, schemas.RecordCommitment(), data, "record_commitment")

    @rpc
    def sign_pledge(self, principal: dict, urn: str, data: dict) -> dict:
        return self._command(principal, urn, schemas.SignPledge(), data, "sign_pledge")

    @rpc
    def renew_pledge(self, principal: dict, urn: str, data: dict) -> dict:
        return self._command(principal, urn, schemas.RenewPledge(), data, "renew_pledge")

    @rpc
    def withdraw_pledge(self, principal: dict, urn: str, data: dict) -> dict:
        return self._command(principal, urn, schemas.WithdrawPledge(), data, "withdraw_pledge")

    @rpc
    def set_newsletter(self, principal: dict, urn: str, data: dict) -> dict:
        return self._command(principal, urn, schemas.Newsletter(), data, "set_newsletter")

    @rpc
    def change_coordinator(self, principal: dict, urn: str, data: dict) -> dict:
        actor = require(SCHOOL_STAFF, principal, urn=urn).actor
        coordinator = load(schemas.ChangeCoordinator(), data)
        return _dump(self.application.change_coordinator(actor, urn, coordinator))

    @rpc
    def school(self, principal: dict, urn: str) -> dict:
        require(SCHOOL_STAFF, principal, urn=urn)
        return _dump(self.application.school(urn))

    @rpc
    def schools(self, principal: dict, query: dict) -> dict:
        who: Principal = require(LEAD | ANY_COORDINATOR, principal)
        status = load(schemas.SchoolQuery(), query).get("status")
        views = self.application.schools(status)
        if not who.has("lead"):
            views = [v for v in views if v["urn"] in who.scopes("coordinator")]
        return schemas.SchoolList().dump({"schools": views})

    @rpc
    def history(self, principal: dict, urn: str) -> dict:
        require(SCHOOL_STAFF, principal, urn=urn)
        return schemas.SchoolHistory().dump({"urn": urn, "history": self.application.history(urn)})

    # -- sharing the news of an award: opt-in, the school's own choice ------------------

    @rpc
    def share_award(self, principal: dict, urn: str, data: dict) -> dict:
        actor = require(SCHOOL_STAFF, principal, urn=urn).actor
        values = load(schemas.ShareAward(), data)
        return schemas.SharingView().dump(self.application.share_award(actor, urn, **values))

    @rpc
    def stop_sharing(self, principal: dict, urn: str) -> dict:
        actor = require(SCHOOL_STAFF, principal, urn=urn).actor
        return schemas.SharingView().dump(self.application.stop_sharing(actor, urn))

    @rpc
    def sharing(self, principal: dict, urn: str) -> dict:
        require(SCHOOL_STAFF, principal, urn=urn)
        return schemas.SharingView().dump(self.application.sharing(urn))

    @rpc
    def awarded_schools(self) -> dict:
        require(PUBLIC, None)
        return schemas.AwardedSchools().dump({"schools": self.application.awarded_schools()})

    @rpc
    def awarded_feed(self) -> str:
        require(PUBLIC, None)
        return self.application.awarded_feed().decode()

    # -- awards, from the applications service's public events ----------------------------

    @integration_handler("applications", "Awarded")
    def on_awarded(self, body: dict) -> None:
        consume(self.application, body, self.application.learn_award_news)
