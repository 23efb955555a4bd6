"""The CPD programme: events, their sessions, bookings and waiting lists. Plain Python.

Uncertainty is first-class: a session's date is confirmed, TBC, or known to
the month; its venue is confirmed, TBC, online (the joining link shown only to
people booked) or at the school. Times are UK local time; weekdays are never
stored, always derived. Every change to a session raises its ``sequence`` so
calendar entries people already have are updated, not duplicated.

Dates are checked against the authority's own clock, handed in by the
application: bookings close once a session's day has passed (people may still
book on the day), and attendance is recorded only once a session has started.

A full session takes names on a waiting list. A freed place is offered to the
next person for a limited time; unclaimed, it moves on down the list.

A celebration (kind ``celebration``, one per authority) is not booked by staff:
an awarded school is invited to the first celebration session after its award
day. With none scheduled yet, the invitation waits and is attached when the
lead schedules one (or confirms a TBC date); a cancelled session's invitations
move on to the next one (or wait again). The school accepts or declines; an
acceptance takes one of the session's places, if it has a capacity.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

from eventsourcing.domain import Aggregate, event

from shared.errors import Conflict, DomainError, Invalid, NotFound

_NAMESPACE = uuid.UUID("c4d2a9e1-6b3f-4f8a-a1d7-5e2b9c0f4a33")

KINDS = ("session", "series", "on_request", "run_by_others", "celebration")
BOOKABLE = ("session", "series")
LISTED_BY_LEAD = ("session", "series", "on_request", "run_by_others")  # a celebration: one, configured
CELEBRATION = "celebration"
OPEN_INVITATION = ("invited", "accepted")  # moved on if their session is cancelled
CELEBRATIONS = "system:celebrations"  # the actor of invitations made and moved by the system
DATE_STATUSES = ("confirmed", "tbc", "month")
VENUE_STATUSES = ("confirmed", "tbc", "online", "at_school")
HOLDING = ("booked", "offered", "attended")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")  # bookings that take up a place


class CpdEvent(Aggregate):
    @staticmethod
    def create_id(code: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"cpd/{code}")

    @event("Listed")
    def __init__(
        self,
        code: str,
        title: str,
        description: str,
        kind: str,
        runs_by: str,
        audience: str,
        capacity: int | None,
        sessions: list[dict],
        actor: str,
    ) -> None:
        self.code = code
        self.title = title
        self.description = description
        self.kind = kind
        self.runs_by = runs_by
        self.audience = audience
        self.capacity = capacity
        self.sessions: dict[str, dict] = {}
        for session in sessions:
            self._put_session(session)
        self.bookings: dict[str, dict] = {}  # booking id -> booking
        self.invitations: dict[str, dict] = {}  # invitation id -> invitation (celebrations)

    # -- the lead's changes --------------------------------------------------------

    def describe(
        self,
        title: str,
        description: str,
        audience: str,
        capacity: int | None,
        actor: str,
        now: dt.datetime,
        offer_for: dt.timedelta,
        runs_by: str | None = None,
    ) -> None:
        """Edit the details (``runs_by`` None: unchanged); places added by a larger capacity
        go to the waiting list first."""
        if capacity is not None:
            for session_id in self.sessions:
                taken = self.places_taken(session_id)
                if taken > capacity:
                    raise Conflict(
                        f"{taken} places are already taken in a session; capacity cannot go below that.",
                        "capacity",
                    )
        self._described(
            title=title, description=description, audience=audience, capacity=capacity, runs_by=runs_by,
            actor=actor,
        )
        for session_id in self.sessions:
            self._offer_next(session_id, now, offer_for)  # skips cancelled sessions

    def add_session(self, session_id: str, when: dict, actor: str, venue: dict | None = None) -> None:
        """A new session; its venue is to be confirmed unless ``venue`` says where. Events run
        by others take sessions too: the lead records when they are (nobody books them here)."""
        self._session_added(
            session={"id": session_id, **check_when(when), **check_venue(venue or {"venue_status": "tbc"})},
            actor=actor,
        )
        self._attach_waiting()

    def edit_session(self, session_id: str, when: dict, venue: dict, actor: str) -> None:
        """Change when and where a session is at once; only what differs is recorded (and
        told to the people booked). Online still, without a new joining link: the link is kept
        (the lead's form does not show it again)."""
        session = self._open_session(session_id)
        when, venue = check_when(when), check_venue(venue)
        if venue["venue_status"] == session["venue_status"] == "online" and venue["joining_link"] is None:
            venue["joining_link"] = session.get("joining_link")
        moved = any(session[k] != when[k] for k in when)
        placed = any(session.get(k) != venue[k] for k in venue)
        if not (moved or placed):
            raise Conflict("Nothing was changed: that is already when and where the session is.", "form")
        if moved:
            self._rescheduled(session_id=session_id, when=when, actor=actor)
        if placed:
            self._venue_set(session_id=session_id, **venue, actor=actor)
        if moved:
            self._attach_waiting()

    def reschedule(self, session_id: str, when: dict, actor: str) -> None:
        session = self._open_session(session_id)
        when = check_when(when)
        if all(session[k] == when[k] for k in when):
            raise Conflict("That is already when the session is.", "date")
        self._rescheduled(session_id=session_id, when=when, actor=actor)
        self._attach_waiting()  # a TBC date confirmed: invitations waiting for one are sent

    def set_venue(
        self, session_id: str, venue_status: str, venue: str | None, joining_link: str | None, actor: str
    ) -> None:
        self._open_session(session_id)
        where = check_venue({"venue_status": venue_status, "venue": venue, "joining_link": joining_link})
        self._venue_set(session_id=session_id, **where, actor=actor)

    def cancel_session(self, session_id: str, reason: str, actor: str) -> None:
        self._open_session(session_id)
        self._session_cancelled(session_id=session_id, reason=reason, actor=actor)
        for invitation in list(self.invitations.values()):
            if invitation["session"] == session_id and invitation["status"] in OPEN_INVITATION:
                self._move_invitation(invitation, self.next_celebration(invitation["awarded_on"]))

    def record_attendance(self, booking_id: str, attended: bool, now: dt.datetime, actor: str) -> None:
        """``now``: the time where the authority is (sessions' dates and times are local)."""
        booking = self._booking(booking_id)
        if booking["status"] not in ("booked", "attended", "absent"):
            raise Conflict("Only a booked place can be marked attended.", "booking")
        session = self.sessions[booking["session"]]
        if not has_started(session, now):
            raise Invalid("Attendance can be recorded once the session has started.",
                          {"booking_id": [f"The session {starts_text(session)}; record attendance "
                                          "once it has started."]})
        self._attendance_recorded(
            booking_id=booking_id,
            **self._about(booking_id),
            title=self.title,
            date=session["date"],
            attended=attended,
            actor=actor,
        )

    # -- schools' bookings -------------------------------------------------------------

    def book(
        self,
        session_id: str,
        booking_id: str,
        urn: str,
        person: object,
        email_key: str,
        today: dt.date,
        actor: str,
    ) -> str:
        """A place if there is one, else the waiting list. Returns the booking's status.
        ``today``: the date where the authority is."""
        refusal = self.closed_to_bookings(session_id, today)
        if refusal is not None:
            raise refusal
        for other in self.bookings.values():
            if (
                other["session"] == session_id
                and other["email_key"] == email_key
                and other["status"] in (*HOLDING, "waiting")
            ):
                raise Conflict("That person is already booked or waiting for this session.", "email")
        full = self.capacity is not None and self.places_taken(session_id) >= self.capacity
        status = "waiting" if full else "booked"
        self._booked(
            booking_id=booking_id,
            session_id=session_id,
            urn=urn,
            person=person,
            email_key=email_key,
            status=status,
            actor=actor,
        )
        return status

    def cancel_booking(self, booking_id: str, now: dt.datetime, offer_for: dt.timedelta, actor: str) -> None:
        booking = self._booking(booking_id)
        if booking["status"] not in ("booked", "offered", "waiting"):
            raise Conflict("That booking is not active.", "booking")
        freed = booking["status"] in ("booked", "offered")
        self._booking_cancelled(booking_id=booking_id, **self._about(booking_id), actor=actor)
        if freed:
            self._offer_next(booking["session"], now, offer_for)

    def claim_offer(self, booking_id: str, now: dt.datetime, actor: str) -> None:
        booking = self._booking(booking_id)
        if booking["status"] != "offered":
            raise Conflict("There is no place on offer for this booking.", "booking")
        self._open_session(booking["session"])
        if now >= booking["offer_expires_at"]:
            raise Conflict("The offer has expired; the place has gone to the next person.", "booking")
        self._offer_claimed(booking_id=booking_id, **self._about(booking_id), actor=actor)

    def expire_offers(self, now: dt.datetime, offer_for: dt.timedelta) -> int:
        """Pass unclaimed places down the waiting list; returns how many offers expired."""
        expired = [
            b for b in self.bookings.values() if b["status"] == "offered" and now >= b["offer_expires_at"]
        ]
        for booking in expired:
            self._offer_expired(
                booking_id=booking["id"], **self._about(booking["id"]), actor="system:waiting-list"
            )
            self._offer_next(booking["session"], now, offer_for)
        return len(expired)

    def _offer_next(self, session_id: str, now: dt.datetime, offer_for: dt.timedelta) -> None:
        if self.sessions[session_id]["status"] == "cancelled":
            return
        while self.capacity is None or self.places_taken(session_id) < self.capacity:
            waiting = [
                b for b in self.bookings.values() if b["session"] == session_id and b["status"] == "waiting"
            ]
            if not waiting:
                return
            first = waiting[0]["id"]
            self._place_offered(
                booking_id=first,
                **self._about(first),
                expires_at=now + offer_for,
                actor="system:waiting-list",
            )

    # -- celebrations: invitations on award ------------------------------------------------

    def invite(
        self,
        invitation_id: str,
        urn: str,
        school_year: str,
        application: str,
        awarded_on: dt.date,
        actor: str,
    ) -> dict:
        """Invite an awarded school to the first celebration session after its award day,
        or record the invitation as waiting for one. Returns the invitation."""
        if self.kind != CELEBRATION:
            raise Conflict("Only a celebration takes invitations.", "kind")
        if invitation_id in self.invitations:
            raise Conflict("The school is already invited for that award.", "invitation")
        self._invited(
            invitation_id=invitation_id,
            urn=urn,
            school_year=school_year,
            application=application,
            awarded_on=awarded_on,
            **self._session_details(self.next_celebration(awarded_on)),
            actor=actor,
        )
        return self.invitations[invitation_id]

    def answer_invitation(
        self, invitation_id: str, urn: str, accept: bool, today: dt.date, actor: str
    ) -> None:
        invitation = self.invitations.get(invitation_id)
        if invitation is None or invitation["urn"] != urn:
            raise NotFound("The school has no such invitation.", "invitation")
        if invitation["session"] is None:
            raise Conflict(
                "No date is set for the celebration yet; the school will be invited when there is one.",
                "invitation",
            )
        session = self._open_session(invitation["session"])
        if session["date"] is not None and today > session["date"]:
            raise Conflict("The celebration has already taken place.", "invitation")
        status = "accepted" if accept else "declined"
        if invitation["status"] == status:
            raise Conflict(f"The invitation is already {status}.", "accept")
        if accept and self.capacity is not None and self.places_taken(session["id"]) >= self.capacity:
            raise Conflict("The celebration is full; please contact the local lead.", "session")
        self._invitation_answered(
            invitation_id=invitation_id,
            urn=urn,
            session_id=session["id"],
            accepted=accept,
            actor=actor,
        )

    def next_celebration(self, after: dt.date) -> str | None:
        """The first scheduled session with a confirmed date after ``after``, if any."""
        if self.kind != CELEBRATION:
            return None
        ahead = [
            s
            for s in self.sessions.values()
            if s["status"] == "scheduled"
            and s["date_status"] == "confirmed"
            and s["date"] is not None
            and s["date"] > after
        ]
        if not ahead:
            return None
        return min(ahead, key=lambda s: (s["date"], s["start"] or dt.time.min, s["id"]))["id"]

    def _attach_waiting(self) -> None:
        for invitation in list(self.invitations.values()):
            if invitation["status"] == "waiting":
                session_id = self.next_celebration(invitation["awarded_on"])
                if session_id is not None:
                    self._move_invitation(invitation, session_id)

    def _move_invitation(self, invitation: dict, session_id: str | None) -> None:
        self._invitation_moved(
            invitation_id=invitation["id"],
            urn=invitation["urn"],
            school_year=invitation["school_year"],
            **self._session_details(session_id),
            actor=CELEBRATIONS,
        )

    def _session_details(self, session_id: str | None) -> dict:
        """What an invitation says of its session (published with it, so a reader needs no more)."""
        session = self.sessions[session_id] if session_id is not None else {}
        return {
            "session_id": session_id,
            "title": self.title,
            "date": session.get("date"),
            "start": session.get("start"),
            "end": session.get("end"),
            "venue_status": session.get("venue_status"),
            "venue": session.get("venue"),
        }

    # -- queries -----------------------------------------------------------------------

    def closed_to_bookings(self, session_id: str, today: dt.date) -> DomainError | None:
        """Why the session takes no bookings ``today`` (None: it does). A session of today
        still does: people join on the day."""
        if self.kind not in BOOKABLE:
            return Conflict("This event is not booked here.", "kind")
        session = self.sessions.get(session_id)
        if session is None:
            return NotFound("No such session.", "session")
        if session["status"] == "cancelled":
            return Conflict("The session is cancelled.", "session")
        if session["date_status"] != "confirmed":
            return Conflict("Bookings open once the date is confirmed.", "session")
        if session["date"] < today:
            return Conflict("This session has already taken place.", "session")
        return None

    def places_taken(self, session_id: str) -> int:
        if self.kind == CELEBRATION:  # a place is a school's accepted invitation
            return sum(
                1
                for i in self.invitations.values()
                if i["session"] == session_id and i["status"] == "accepted"
            )
        return sum(1 for b in self.bookings.values() if b["session"] == session_id and b["status"] in HOLDING)

    def _open_session(self, session_id: str) -> dict:
        session = self.sessions.get(session_id)
        if session is None:
            raise NotFound("No such session.", "session")
        if session["status"] == "cancelled":
            raise Conflict("The session is cancelled.", "session")
        return session

    def _booking(self, booking_id: str) -> dict:
        booking = self.bookings.get(booking_id)
        if booking is None:
            raise NotFound("No such booking.", "booking")
        return booking

    def _about(self, booking_id: str) -> dict:
        booking = self.bookings[booking_id]
        return {"session_id": booking["session"], "urn": booking["urn"]}

    def _put_session(self, session: dict) -> None:
        self.sessions[session["id"]] = {**session, "status": "scheduled", "sequence": 0}

    def _changed(self, session_id: str, **values: object) -> None:
        session = self.sessions[session_id]
        session.update(values)
        session["sequence"] += 1

    # -- events --------------------------------------------------------------------------

    class Described(Aggregate.Event):
        """Version 2 records who runs the event, which the lead may now change."""

        title: str
        description: str
        audience: str
        capacity: int | None
        runs_by: str | None
        actor: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["runs_by"] = None  # described before it could change: unchanged

    @event(Described)
    def _described(
        self, title: str, description: str, audience: str, capacity: int | None, runs_by: str | None,
        actor: str,
    ) -> None:
        self.title, self.description, self.audience, self.capacity = title, description, audience, capacity
        if runs_by is not None:
            self.runs_by = runs_by

    @event("SessionAdded")
    def _session_added(self, session: dict, actor: str) -> None:
        self._put_session(session)

    @event("Rescheduled")
    def _rescheduled(self, session_id: str, when: dict, actor: str) -> None:
        self._changed(session_id, **when)

    @event("VenueSet")
    def _venue_set(
        self, session_id: str, venue_status: str, venue: str | None, joining_link: str | None, actor: str
    ) -> None:
        self._changed(session_id, venue_status=venue_status, venue=venue, joining_link=joining_link)

    @event("SessionCancelled")
    def _session_cancelled(self, session_id: str, reason: str, actor: str) -> None:
        self._changed(session_id, status="cancelled", cancelled_because=reason)

    @event("Booked")
    def _booked(
        self,
        booking_id: str,
        session_id: str,
        urn: str,
        person: object,
        email_key: str,
        status: str,
        actor: str,
    ) -> None:
        self.bookings[booking_id] = {
            "id": booking_id,
            "session": session_id,
            "urn": urn,
            "person": person,
            "email_key": email_key,
            "status": status,
            "offer_expires_at": None,
        }

    @event("BookingCancelled")
    def _booking_cancelled(self, booking_id: str, session_id: str, urn: str, actor: str) -> None:
        self.bookings[booking_id]["status"] = "cancelled"

    @event("PlaceOffered")
    def _place_offered(
        self, booking_id: str, session_id: str, urn: str, expires_at: dt.datetime, actor: str
    ) -> None:
        self.bookings[booking_id].update(status="offered", offer_expires_at=expires_at)

    @event("OfferClaimed")
    def _offer_claimed(self, booking_id: str, session_id: str, urn: str, actor: str) -> None:
        self.bookings[booking_id].update(status="booked", offer_expires_at=None)

    @event("OfferExpired")
    def _offer_expired(self, booking_id: str, session_id: str, urn: str, actor: str) -> None:
        self.bookings[booking_id].update(status="offer_expired", offer_expires_at=None)

    @event("AttendanceRecorded")
    def _attendance_recorded(
        self,
        booking_id: str,
        session_id: str,
        urn: str,
        title: str,
        date: dt.date | None,
        attended: bool,
        actor: str,
    ) -> None:
        self.bookings[booking_id]["status"] = "attended" if attended else "absent"


    @event("Invited")
    def _invited(
        self,
        invitation_id: str,
        urn: str,
        school_year: str,
        application: str,
        awarded_on: dt.date,
        session_id: str | None,
        title: str,
        date: dt.date | None,
        start: dt.time | None,
        end: dt.time | None,
        venue_status: str | None,
        venue: str | None,
        actor: str,
    ) -> None:
        self.invitations[invitation_id] = {
            "id": invitation_id,
            "urn": urn,
            "school_year": school_year,
            "application": application,
            "awarded_on": awarded_on,
            "session": session_id,
            "status": "invited" if session_id is not None else "waiting",
            "answered_by": None,
        }

    @event("InvitationMoved")
    def _invitation_moved(
        self,
        invitation_id: str,
        urn: str,
        school_year: str,
        session_id: str | None,
        title: str,
        date: dt.date | None,
        start: dt.time | None,
        end: dt.time | None,
        venue_status: str | None,
        venue: str | None,
        actor: str,
    ) -> None:
        self.invitations[invitation_id].update(
            session=session_id,
            status="invited" if session_id is not None else "waiting",
            answered_by=None,
        )

    @event("InvitationAnswered")
    def _invitation_answered(
        self, invitation_id: str, urn: str, session_id: str, accepted: bool, actor: str
    ) -> None:
        self.invitations[invitation_id].update(
            status="accepted" if accepted else "declined", answered_by=actor
        )


def has_started(session: dict, now: dt.datetime) -> bool:
    """Whether the session has begun at ``now`` (the time where the authority is): a
    session without times begins with its day; one without a confirmed date has not."""
    if session["date_status"] != "confirmed" or session["date"] is None:
        return False
    begins = dt.datetime.combine(session["date"], session["start"] or dt.time.min, tzinfo=now.tzinfo)
    return now >= begins


def starts_text(session: dict) -> str:
    """When the session begins, in words for a refusal."""
    if session["date_status"] != "confirmed" or session["date"] is None:
        return "has no confirmed date yet"
    day, at = session["date"], f" at {session['start']:%H:%M}" if session["start"] else ""
    return f"begins on {day:%A} {day.day} {day:%B %Y}{at}"


def check_when(when: dict) -> dict:
    """A session's date and times, consistent with its date status."""
    status = when.get("date_status", "confirmed")
    if status not in DATE_STATUSES:
        raise Invalid("Unknown date status.", {"date_status": [f"Must be one of {DATE_STATUSES}."]})
    day, month = when.get("date"), when.get("month")
    start, end = when.get("start"), when.get("end")
    if status == "confirmed" and day is None:
        raise Invalid("A confirmed session needs its date.", {"date": ["Give the date."]})
    if status == "month" and not (month and MONTH.match(month)):
        raise Invalid("Say which month.", {"month": ["Give the month as YYYY-MM."]})
    if (start is None) != (end is None):
        raise Invalid("Give both start and end times, or neither.", {"end": ["Give both times."]})
    if start is not None and end <= start:
        raise Invalid("The session must end after it starts.", {"end": ["Must be after the start."]})
    return {
        "date_status": status,
        "date": day if status == "confirmed" else None,
        "month": month if status == "month" else None,
        "start": start,
        "end": end,
    }


def check_venue(where: dict) -> dict:
    """Where a session is, consistent with its venue status: a joining link only online."""
    status = where.get("venue_status") or "tbc"
    if status not in VENUE_STATUSES:
        raise Invalid("Unknown venue status.", {"venue_status": [f"Must be one of {VENUE_STATUSES}."]})
    venue, link = where.get("venue") or None, where.get("joining_link") or None
    if status == "confirmed" and not venue:
        raise Invalid("A confirmed venue needs its name.", {"venue": ["Say where."]})
    return {"venue_status": status, "venue": venue, "joining_link": link if status == "online" else None}


def listed_by_lead(code: str, title: str, description: str, kind: str, runs_by: str, audience: str,
                   capacity: int | None, actor: str) -> CpdEvent:
    """A new event the lead adds to the programme, with no sessions yet. A celebration
    comes only from the authority's file (one per authority)."""
    if kind not in LISTED_BY_LEAD:
        raise Invalid("The lead cannot list an event of that kind.",
                      {"kind": [f"Must be one of {LISTED_BY_LEAD}."]})
    return CpdEvent(code=code, title=title, description=description, kind=kind, runs_by=runs_by,
                    audience=audience, capacity=capacity, sessions=[], actor=actor)


class CatchUp(Aggregate):
    """A meeting a school asks for (an ``on_request`` item of the programme: Coventry's
    catch-up meetings, Lancashire's support meetings): the lead proposes a time, the
    school confirms it or declines (and the lead may propose another).

    Version 2 of each event names the school and the programme item, so a reader of the
    published events needs no more; version 1 events did not (None when read back)."""

    class Requested(Aggregate.Created):
        urn: str
        note: str
        code: str | None
        actor: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["code"] = None  # asked before requests named their item: the authority's support meetings

    @event(Requested)
    def __init__(self, urn: str, note: str, code: str | None, actor: str) -> None:
        self.urn = urn
        self.note = note
        self.code = code
        self.proposal: dict | None = None
        self.status = "requested"
        self.declined_because: str | None = None

    def propose(self, day: dt.date, start: dt.time, end: dt.time, venue: str, today: dt.date,
                actor: str) -> None:
        """``today``: the date where the authority is."""
        if self.status == "confirmed":
            raise Conflict("The meeting is already confirmed.", "status")
        check_when({"date": day, "start": start, "end": end})
        if day < today:
            raise Invalid("The meeting cannot be in the past.", {"date": ["Propose a day from today on."]})
        self._proposed(urn=self.urn, code=self.code, date=day, start=start, end=end, venue=venue or None,
                       actor=actor)

    def confirm(self, today: dt.date, actor: str) -> None:
        if self.status != "proposed":
            raise Conflict("There is no proposed time to confirm.", "status")
        if self.proposal["date"] < today:
            raise Conflict("The proposed day has passed: ask the local lead for another time.", "status")
        self._confirmed(urn=self.urn, code=self.code, actor=actor,
                        **{k: self.proposal[k] for k in ("date", "start", "end", "venue")})

    def decline(self, reason: str, actor: str) -> None:
        if self.status != "proposed":
            raise Conflict("There is no proposed time to decline.", "status")
        self._declined(urn=self.urn, code=self.code, reason=reason, actor=actor)

    class Proposed(Aggregate.Event):
        urn: str | None
        code: str | None
        date: dt.date
        start: dt.time
        end: dt.time
        venue: str | None
        actor: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state.update(urn=None, code=None, venue=None)  # see the class's docstring

    @event(Proposed)
    def _proposed(self, urn: str | None, code: str | None, date: dt.date, start: dt.time, end: dt.time,
                  venue: str | None, actor: str) -> None:
        self.proposal = {
            "date": date,
            "start": start,
            "end": end,
            "venue": venue,
            "sequence": (self.proposal or {"sequence": -1})["sequence"] + 1,
        }
        self.status = "proposed"

    class Confirmed(Aggregate.Event):
        urn: str | None
        code: str | None
        date: dt.date | None
        start: dt.time | None
        end: dt.time | None
        venue: str | None
        actor: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state.update(urn=None, code=None, date=None, start=None, end=None, venue=None)

    @event(Confirmed)
    def _confirmed(self, urn: str | None, code: str | None, date: dt.date | None, start: dt.time | None,
                   end: dt.time | None, venue: str | None, actor: str) -> None:
        self.status = "confirmed"

    class Declined(Aggregate.Event):
        urn: str | None
        code: str | None
        reason: str
        actor: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state.update(urn=None, code=None)

    @event(Declined)
    def _declined(self, urn: str | None, code: str | None, reason: str, actor: str) -> None:
        self.status = "declined"
        self.declined_because = reason
