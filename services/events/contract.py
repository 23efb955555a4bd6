"""The events service's public events: the programme changing, bookings, and
invitations to celebrate an award (with the school's answer)."""

from __future__ import annotations

from typing import Any

from services.events.programme import CatchUp, CpdEvent
from shared.envelope import Contract, PublicEvent
from shared.schema import jsonable


def _code(e: Any) -> str:
    return e.originator_id.hex  # consumers key by event id; the code comes with Listed


def _listed(e: Any) -> dict:
    return jsonable({"event": _code(e), "code": e.code, "title": e.title, "kind": e.kind,
                     "sessions": e.sessions})


def _session(e: Any) -> dict:
    return {"event": _code(e), "session": e.session_id}


def _booking(e: Any) -> dict:
    return {"event": _code(e), "booking": e.booking_id, "session": e.session_id, "urn": e.urn}


def _invitation(e: Any) -> dict:
    """The invitation with its session as it stood then (none while it waits for one)."""
    return jsonable({"event": _code(e), "invitation": e.invitation_id, "urn": e.urn,
                     "school_year": e.school_year, "title": e.title, "session": e.session_id,
                     "date": e.date, "start": e.start, "end": e.end, "venue_status": e.venue_status,
                     "venue": e.venue})


def _request(e: Any) -> dict:
    return {"request": str(e.originator_id), "urn": e.urn}


def _named(e: Any) -> int:
    """A catch-up event names its programme item from version 2 on (None: stored before)."""
    return 2 if e.code is not None else 1


def _v2(e: Any, fields: dict) -> dict:
    return fields if e.code is not None else {}


def _invited(e: Any) -> str:
    return "CelebrationInvited" if e.session_id is not None else "CelebrationInvitationWaiting"


EVENTS = Contract("events", {
    CpdEvent.Listed: PublicEvent("ProgrammeListed", 1, _listed),
    CpdEvent.SessionAdded: PublicEvent(
        "SessionScheduled", 1, lambda e: jsonable({"event": _code(e), "session": e.session})),
    CpdEvent.Rescheduled: PublicEvent(
        "SessionRescheduled", 1, lambda e: jsonable({**_session(e), "when": e.when})),
    CpdEvent.VenueSet: PublicEvent(
        lambda e: "VenueConfirmed" if e.venue_status in ("confirmed", "online") else "VenueChanged", 1,
        lambda e: {**_session(e), "venue_status": e.venue_status, "venue": e.venue}),
    CpdEvent.SessionCancelled: PublicEvent(
        "SessionCancelled", 1, lambda e: {**_session(e), "reason": e.reason}),
    # version 2 leaves out the person (name, email): whoever writes to them asks ``booker``
    CpdEvent.Booked: PublicEvent(
        lambda e: "PlaceBooked" if e.status == "booked" else "WaitingListJoined", 2, _booking),
    CpdEvent.BookingCancelled: PublicEvent("BookingCancelled", 1, _booking),
    CpdEvent.PlaceOffered: PublicEvent(
        "PlaceOffered", 1, lambda e: {**_booking(e), "expires_at": e.expires_at.isoformat()}),
    CpdEvent.OfferClaimed: PublicEvent("PlaceBooked", 1, _booking),
    CpdEvent.OfferExpired: PublicEvent("OfferExpired", 1, _booking),
    CpdEvent.AttendanceRecorded: PublicEvent(
        "AttendanceRecorded", 1, lambda e: jsonable({**_booking(e), "title": e.title, "date": e.date,
                                                     "attended": e.attended})),
    # version 2 names the school and the programme item; a request stored before is
    # published as its consumers first heard it (version 1)
    CatchUp.Requested: PublicEvent(
        "CatchUpRequested", _named, lambda e: {**_request(e), **_v2(e, {"code": e.code})}),
    CatchUp.Proposed: PublicEvent(
        "CatchUpProposed", _named, lambda e: jsonable({
            "request": str(e.originator_id), "date": e.date, "start": e.start, "end": e.end,
            **_v2(e, {"urn": e.urn, "code": e.code, "venue": e.venue})})),
    CatchUp.Confirmed: PublicEvent(
        "CatchUpConfirmed", _named, lambda e: jsonable({
            "request": str(e.originator_id),
            **_v2(e, {"urn": e.urn, "code": e.code, "date": e.date, "start": e.start, "end": e.end,
                      "venue": e.venue})})),
    # the school's note and reason stay in the store: free text may say anything about anyone
    CatchUp.Declined: PublicEvent(  # urn and code None for a decline stored before they were named
        "CatchUpDeclined", 1, lambda e: {"request": str(e.originator_id), "urn": e.urn, "code": e.code}),
    CpdEvent.Invited: PublicEvent(
        _invited, 1, lambda e: {**_invitation(e), "application": e.application,
                                "awarded_on": e.awarded_on.isoformat()}),
    CpdEvent.InvitationMoved: PublicEvent(_invited, 1, _invitation),
    CpdEvent.InvitationAnswered: PublicEvent(
        lambda e: "CelebrationAccepted" if e.accepted else "CelebrationDeclined", 1,
        lambda e: {"event": _code(e), "invitation": e.invitation_id, "urn": e.urn,
                   "session": e.session_id}),
})
