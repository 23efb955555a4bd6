"""The events (CPD) nameko service: a thin RPC adapter around the Programme application."""

from __future__ import annotations

from nameko.timer import timer

from services.events import schemas
from services.events.api import EventsApi
from services.events.application import Programme
from services.events.contract import EVENTS
from shared.access import ANY_COORDINATOR, LEAD, SCHOOL_STAFF, Principal, require
from shared.authority import Authority
from shared.config import Settings
from shared.consumer import consume, integration_handler
from shared.runtime import EventSourcedApp, ServiceBase, rpc, serve
from shared.schema import jsonable, load
from shared.store import store_env
from shared.subject_access import PersonalDataService


def build(settings: Settings, authority: Authority) -> Programme:
    return Programme(env=store_env("events", settings), authority=authority)


def seed(programme: Programme) -> None:
    """At the service's start (not in ``build``, which the read-only audit commands
    use too): the configured programme, once; the lead's edits are kept."""
    programme.seed()


def _school_scope(principal: dict) -> tuple[Principal, set[str] | None]:
    """The caller, and the schools whose bookings they may touch (None: every school)."""
    who = require(LEAD | ANY_COORDINATOR, principal)
    return who, None if who.has("lead") else who.scopes("coordinator")


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

    # -- anyone ------------------------------------------------------------------------

    @rpc
    def programme(self) -> dict:
        return jsonable({"items": self.application.programme()})

    @rpc
    def event(self, code: str) -> dict:
        return jsonable(self.application.event(code))

    @rpc
    def feed(self) -> str:
        return self.application.feed().decode()

    # -- the lead ----------------------------------------------------------------------

    def _lead(self, principal: dict, method: str, *args: object, schema=None, data=None) -> dict:
        who = require(LEAD, principal)
        values = load(schema, data) if schema is not None else {}
        return jsonable(getattr(self.application, method)(who.actor, *args, **values))

    @rpc
    def describe(self, principal: dict, code: str, data: dict) -> dict:
        return self._lead(principal, "describe", code, schema=schemas.Details(), data=data)

    @rpc
    def add_session(self, principal: dict, code: str, data: dict) -> dict:
        return self._lead(principal, "add_session", code, schema=schemas.When(), data=data)

    @rpc
    def reschedule(self, principal: dict, code: str, session_id: str, data: dict) -> dict:
        return self._lead(principal, "reschedule", code, session_id, schema=schemas.When(), data=data)

    @rpc
    def set_venue(self, principal: dict, code: str, session_id: str, data: dict) -> dict:
        return self._lead(principal, "set_venue", code, session_id, schema=schemas.Venue(), data=data)

    @rpc
    def cancel_session(self, principal: dict, code: str, session_id: str, data: dict) -> dict:
        return self._lead(principal, "cancel_session", code, session_id, schema=schemas.Cancellation(),
                          data=data)

    @rpc
    def record_attendance(self, principal: dict, code: str, data: dict) -> dict:
        return self._lead(principal, "record_attendance", code, schema=schemas.Attendance(), data=data)

    @rpc
    def bookings(self, principal: dict, code: str, session_id: str) -> dict:
        require(LEAD, principal)
        return jsonable({"items": self.application.bookings(code, session_id)})

    @rpc
    def propose_catch_up(self, principal: dict, request_id: str, data: dict) -> dict:
        return self._lead(principal, "propose_catch_up", request_id, schema=schemas.Proposal(), data=data)

    @rpc
    def celebration_invitations(self, principal: dict, code: str) -> dict:
        require(LEAD, principal)
        return jsonable({"items": self.application.celebration_invitations(code)})

    # -- schools -------------------------------------------------------------------------

    @rpc
    def book(self, principal: dict, code: str, session_id: str, data: dict) -> dict:
        data = load(schemas.Booking(), data)
        who = require(SCHOOL_STAFF, principal, urn=data["urn"])
        return jsonable(self.application.book(who.actor, code, session_id, **data))

    @rpc
    def cancel_booking(self, principal: dict, code: str, booking_id: str) -> dict:
        who, urns = _school_scope(principal)
        return jsonable(self.application.cancel_booking(who.actor, code, booking_id, urns))

    @rpc
    def claim_offer(self, principal: dict, code: str, booking_id: str) -> dict:
        who, urns = _school_scope(principal)
        return jsonable(self.application.claim_offer(who.actor, code, booking_id, urns))

    @rpc
    def booking(self, principal: dict, code: str, booking_id: str) -> dict:
        _, urns = _school_scope(principal)
        return jsonable(self.application.booking(code, booking_id, urns))

    @rpc
    def booking_calendar(self, principal: dict, code: str, booking_id: str) -> str:
        _, urns = _school_scope(principal)
        return self.application.booking_calendar(code, booking_id, urns).decode()

    @rpc
    def school_bookings(self, principal: dict, urn: str) -> dict:
        require(SCHOOL_STAFF, principal, urn=urn)
        return jsonable({"items": self.application.school_bookings(urn)})

    @rpc
    def school_record(self, principal: dict, urn: str) -> dict:
        require(SCHOOL_STAFF, principal, urn=urn)
        return jsonable({"items": self.application.school_record(urn)})

    @rpc
    def request_catch_up(self, principal: dict, urn: str, data: dict) -> dict:
        who = require(SCHOOL_STAFF, principal, urn=urn)
        return jsonable(self.application.request_catch_up(who.actor, urn,
                                                          load(schemas.CatchUpRequest(), data)["note"]))

    @rpc
    def answer_catch_up(self, principal: dict, request_id: str, data: dict) -> dict:
        who, urns = _school_scope(principal)
        return jsonable(self.application.answer_catch_up(who.actor, request_id, urns,
                                                         **load(schemas.Answer(), data)))

    @rpc
    def invitations(self, principal: dict, urn: str) -> dict:
        require(SCHOOL_STAFF, principal, urn=urn)
        return jsonable({"items": self.application.invitations(urn)})

    @rpc
    def answer_invitation(self, principal: dict, urn: str, year: str, data: dict) -> dict:
        who = require(SCHOOL_STAFF, principal, urn=urn)
        answer = load(schemas.InvitationAnswer(), data)
        return jsonable(self.application.answer_invitation(who.actor, urn, year, **answer))
