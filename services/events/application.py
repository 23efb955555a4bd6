"""The events application: the authority's CPD programme, bookings, waiting lists,
attendance, catch-up meetings on request, calendars, and invitations to the
authority's celebration for schools the applications service has awarded."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from collections.abc import Callable
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.events.programme import (
    BOOKABLE,
    CELEBRATION,
    CELEBRATIONS,
    CatchUp,
    CpdEvent,
    has_started,
    listed_by_lead,
)
from shared import calendar
from shared.authority import Authority, CpdItem
from shared.clock import Clock, system_clock
from shared.envelope import IntegrationEvent
from shared.errors import Conflict, Forbidden, NotFound
from shared.personal import Personal, PersonalDataApplication, reveal, subject_for_email
from shared.projection import AggregateProjection

ON_REQUEST = "on_request"
OFFER_WINDOW = dt.timedelta(hours=48)  # how long a freed place is held for the next in line
CONFIG = "system:config"
_INVITATIONS = uuid.UUID("0e6b8f3a-9d2c-4b71-8a5e-3f1c7d9b2e64")


def invitation_id(application: str) -> str:
    """One invitation per award (an award is one application's decision)."""
    return uuid.uuid5(_INVITATIONS, f"invitation/{application}").hex[:12]


def sessions_of(item: CpdItem) -> list[dict]:
    """The sessions a configured programme item starts with (ids stable across restarts)."""
    if item.kind in (*BOOKABLE, CELEBRATION) and item.dates:
        whens = [{"date_status": "confirmed", "date": day, "month": None} for day in item.dates]
    elif item.date_status == "month":
        whens = [{"date_status": "month", "date": None, "month": item.month}]
    elif item.kind == "on_request":
        whens = []  # sessions come from schools' requests
    else:
        whens = [{"date_status": item.date_status, "date": (item.dates or (None,))[0],
                  "month": item.month}]
    return [{"id": f"{item.code}-{n}", **when, "start": item.start, "end": item.end,
             "venue_status": item.venue_status, "venue": item.venue, "joining_link": None}
            for n, when in enumerate(whens, start=1)]


class Programme(PersonalDataApplication):
    name = "events"

    def __init__(self, env: dict | None = None, *, authority: Authority, clock: Clock | None = None,
                 offer_for: dt.timedelta = OFFER_WINDOW) -> None:
        super().__init__(env)
        self.authority = authority
        self.clock = clock or system_clock()
        self.offer_for = offer_for
        self.index = AggregateProjection(self)

    def seed(self) -> int:
        """List every configured item not yet listed; the lead's later edits are kept."""
        listed = 0
        for item in self.authority.cpd:
            event = CpdEvent(code=item.code, title=item.title, description=item.description or "",
                             kind=item.kind, runs_by=item.runs_by, audience=item.audience,
                             capacity=item.capacity, sessions=sessions_of(item), actor=CONFIG)
            try:
                self.save(event)
                listed += 1
            except IntegrityError:
                pass  # listed already
        return listed

    # -- the lead ----------------------------------------------------------------------

    def list_event(self, actor: str, title: str, kind: str, runs_by: str, audience: str,
                   description: str = "", capacity: int | None = None) -> dict:
        """A new event in the programme, its code made from its title (unique)."""
        event = listed_by_lead(self._new_code(title), title, description, kind, runs_by, audience,
                               capacity, actor)
        try:
            self.save(event)
        except IntegrityError:  # listed by someone else a moment ago
            raise Conflict("An event of that name was listed a moment ago; check the programme.",
                           "title") from None
        return self.event_view(event)

    def describe(self, actor: str, code: str, title: str, description: str, audience: str,
                 capacity: int | None, runs_by: str | None = None) -> dict:
        return self._change(code, lambda e: e.describe(title, description, audience, capacity, actor,
                                                        self.clock.now(), self.offer_for, runs_by))

    def add_session(self, actor: str, code: str, venue_status: str = "tbc", venue: str | None = None,
                    joining_link: str | None = None, **when: Any) -> dict:
        session_id = f"{code}-{uuid.uuid4().hex[:8]}"
        where = {"venue_status": venue_status, "venue": venue, "joining_link": joining_link}
        return self._change(code, lambda e: e.add_session(session_id, when, actor, where))

    def edit_session(self, actor: str, code: str, session_id: str, venue_status: str = "tbc",
                     venue: str | None = None, joining_link: str | None = None, **when: Any) -> dict:
        where = {"venue_status": venue_status, "venue": venue, "joining_link": joining_link}
        return self._change(code, lambda e: e.edit_session(session_id, when, where, actor))

    def reschedule(self, actor: str, code: str, session_id: str, **when: Any) -> dict:
        return self._change(code, lambda e: e.reschedule(session_id, when, actor))

    def set_venue(self, actor: str, code: str, session_id: str, venue_status: str,
                  venue: str | None = None, joining_link: str | None = None) -> dict:
        return self._change(code, lambda e: e.set_venue(session_id, venue_status, venue,
                                                         joining_link, actor))

    def cancel_session(self, actor: str, code: str, session_id: str, reason: str) -> dict:
        return self._change(code, lambda e: e.cancel_session(session_id, reason, actor))

    def record_attendance(self, actor: str, code: str, booking_id: str, attended: bool) -> dict:
        return self._change(code, lambda e: e.record_attendance(booking_id, attended, self.local_now(),
                                                                 actor))

    def expire_offers(self) -> int:
        """Pass every expired offer down its waiting list (run by a timer)."""
        now, expired = self.clock.now(), 0
        for seen in self.index.all():
            if isinstance(seen, CpdEvent) and any(b["status"] == "offered" for b in seen.bookings.values()):
                event = self.repository.get(seen.id)
                count = event.expire_offers(now, self.offer_for)
                if count:
                    self.save_changes(event)
                    expired += count
        return expired

    # -- schools -------------------------------------------------------------------------

    def book(self, actor: str, code: str, session_id: str, urn: str, name: str, email: str) -> dict:
        booking_id = uuid.uuid4().hex[:12]
        person = Personal(subject_for_email(email), {"name": name, "email": email},
                          label=f"booked on {code} for {urn}")
        event = self._get(code)
        event.book(session_id, booking_id, urn, person, subject_for_email(email), self.today(), actor)
        self.save_changes(event)
        return self.booking_view(event, booking_id)

    def cancel_booking(self, actor: str, code: str, booking_id: str, urns: set[str] | None) -> dict:
        event = self._get(code)
        self._check_school(event, booking_id, urns)
        event.cancel_booking(booking_id, self.clock.now(), self.offer_for, actor)
        self.save_changes(event)
        return self.booking_view(event, booking_id)

    def claim_offer(self, actor: str, code: str, booking_id: str, urns: set[str] | None) -> dict:
        event = self._get(code)
        self._check_school(event, booking_id, urns)
        event.claim_offer(booking_id, self.clock.now(), actor)
        self.save_changes(event)
        return self.booking_view(event, booking_id)

    def request_catch_up(self, actor: str, urn: str, note: str, code: str | None = None) -> dict:
        """A school asks for a meeting: one of the programme's items on request (the
        authority's support meetings unless ``code`` names another)."""
        code = code or self.support_meetings_code()
        if code is None:
            raise Conflict(f"{self.authority.name} offers no meetings on request.", "code")
        event = self._get(code)
        if event.kind != ON_REQUEST:
            raise Conflict(f"{event.title!r} is not arranged on request.", "code")
        request = CatchUp(urn=urn, note=note, code=code, actor=actor)
        self.save_changes(request)
        return self.catch_up_view(request)

    def propose_catch_up(self, actor: str, request_id: str, date: dt.date, start: dt.time,
                         end: dt.time, venue: str = "") -> dict:
        return self._change_catch_up(request_id, None, lambda c: c.propose(date, start, end, venue,
                                                                            self.today(), actor))

    def answer_catch_up(self, actor: str, request_id: str, urns: set[str] | None, accept: bool,
                        reason: str = "") -> dict:
        return self._change_catch_up(request_id, urns, lambda c: c.confirm(self.today(), actor) if accept
                                     else c.decline(reason, actor))

    def answer_invitation(self, actor: str, urn: str, school_year: str, accept: bool) -> dict:
        """The school's answer to the invitation that came with its award of that school year."""
        event, invitation = self._invitation_of(urn, school_year)
        event.answer_invitation(invitation, urn, accept, self.today(), actor)
        self.save_changes(event)
        return self.invitation_view(event, invitation)

    # -- policies (reactions to other services' events) ------------------------------------

    def learn_award(self, news: IntegrationEvent) -> list[CpdEvent]:
        """An award (the applications service's ``Awarded``): the school is invited to the
        authority's next celebration, or waits for one to be scheduled. Saved by the
        caller with the consumed position; an authority with no celebration invites nobody."""
        code = self.celebration_code()
        if code is None:
            return []
        p = news.payload
        event = self._get(code)
        invitation = invitation_id(p["application"])
        if invitation in event.invitations:
            return []  # the same award heard again (a replay into a rebuilt consumer)
        event.invite(invitation, p["urn"], p["school_year"], p["application"],
                     dt.date.fromisoformat(p["on"]), CELEBRATIONS)
        return [event]

    def support_meetings_code(self) -> str | None:
        """The item a school's request for a meeting is for when it names none: the one the
        starter pack offers, else the programme's first item on request."""
        pack = self.authority.starter_pack
        if pack is not None and pack.support_meetings:
            return pack.support_meetings
        return next((item.code for item in self.authority.cpd if item.kind == ON_REQUEST), None)

    def celebration_code(self) -> str | None:
        """The authority's celebration (configuration allows at most one)."""
        return next((item.code for item in self.authority.cpd if item.kind == CELEBRATION), None)

    # -- queries --------------------------------------------------------------------------

    def today(self) -> dt.date:
        return self.clock.today(self.authority.timezone)

    def local_now(self) -> dt.datetime:
        """Now, where the authority is: sessions' dates and times are local."""
        return self.clock.now().astimezone(self.authority.timezone)

    def invitations(self, urn: str) -> list[dict]:
        """The school's invitations to celebrate, newest award first."""
        found = [self.invitation_view(e, i) for e in self._celebrations()
                 for i, v in e.invitations.items() if v["urn"] == urn]
        return sorted(found, key=lambda v: v["awarded_on"], reverse=True)

    def celebration_invitations(self, code: str) -> list[dict]:
        """The lead's list: every school invited to the celebration, and its answer."""
        event = self._get(code)
        if event.kind != CELEBRATION:
            raise NotFound(f"{code!r} is not a celebration.", "code")
        views = [self.invitation_view(event, i) for i in event.invitations]
        return sorted(views, key=lambda v: (v["date"] or dt.date.max, v["awarded_on"], v["urn"]))

    def programme(self) -> list[dict]:
        events = [e for e in self.index.all() if isinstance(e, CpdEvent)]
        return [self.event_view(e) for e in sorted(events, key=_first_date)]

    def event(self, code: str) -> dict:
        return self.event_view(self._get(code))

    def bookings(self, code: str, session_id: str) -> list[dict]:
        event = self._get(code)
        return [self.booking_view(event, b) for b, v in event.bookings.items() if v["session"] == session_id]

    def school_bookings(self, urn: str) -> list[dict]:
        """One school's bookings across the programme; a waiting one with its place in
        the session's queue."""
        return [booking for event in (e for e in self.index.all() if isinstance(e, CpdEvent))
                for booking in self.queued_views(event) if booking["urn"] == urn]

    def bookings_by_session(self) -> list[dict]:
        """The lead's register: every session of the bookable events with its bookings in
        the order they were made (waiting ones with their place in the queue), and whether
        it has started (attendance is recorded from then on)."""
        now, found = self.local_now(), []
        for event in sorted((e for e in self.index.all() if isinstance(e, CpdEvent) and e.kind in BOOKABLE),
                            key=_first_date):
            views = self.queued_views(event)
            for session_id, session in event.sessions.items():
                found.append({"code": event.code, "session": session_id,
                              "started": has_started(session, now),
                              "bookings": [b for b in views if b["session"] == session_id]})
        return found

    def queued_views(self, event: CpdEvent) -> list[dict]:
        """The event's bookings in the order they were made, a waiting one with its place
        in its session's queue (None for the others)."""
        queues: dict[str, int] = {}
        views = []
        for booking_id, booking in event.bookings.items():
            position = None
            if booking["status"] == "waiting":
                position = queues[booking["session"]] = queues.get(booking["session"], 0) + 1
            views.append({**self.booking_view(event, booking_id), "position": position})
        return views

    def catch_ups(self, urn: str | None = None) -> list[dict]:
        """Requests for meetings (one school's, or every school's for the lead), those
        still needing an answer first, then the newest first."""
        titles = self._titles()
        found = [self.catch_up_view(c, titles) for c in self.index.all()
                 if isinstance(c, CatchUp) and urn in (None, c.urn)]
        found.sort(key=lambda v: v["requested_at"], reverse=True)
        return sorted(found, key=lambda v: v["status"] == "confirmed")

    def school_catch_ups(self, urn: str) -> list[dict]:
        return self.catch_ups(urn)

    def booking(self, code: str, booking_id: str, urns: set[str] | None) -> dict:
        event = self._get(code)
        self._check_school(event, booking_id, urns)
        return self.booking_view(event, booking_id)

    def booker(self, event_id: str, booking_id: str) -> dict:
        """For the notifications service, as it writes about a booking: to whom (no contact
        travels on the bus). ``event_id``: the event's id as the news gives it. Erased, or
        no such booking: there is nobody to write to."""
        try:
            event = self.repository.get(uuid.UUID(hex=event_id))
        except (ValueError, AggregateNotFoundError):
            raise NotFound("No such event.", "event") from None
        booking = event.bookings.get(booking_id) if isinstance(event, CpdEvent) else None
        person = reveal(booking["person"]) if booking else None
        if not isinstance(person, dict):
            raise NotFound("No such booking, or the person's details have been erased.", "booking")
        return {"booking": booking_id, "name": person["name"], "email": person["email"]}

    def school_record(self, urn: str) -> list[dict]:
        """Who from the school attended what, and when (evidence for staff training)."""
        record = []
        for event in (e for e in self.index.all() if isinstance(e, CpdEvent)):
            for booking in event.bookings.values():
                session = event.sessions[booking["session"]]
                if (booking["urn"] == urn and booking["status"] in ("attended", "booked")
                        and session["status"] != "cancelled"):
                    record.append({"code": event.code, "title": event.title, "date": session["date"],
                                   "person": reveal(booking["person"]), "status": booking["status"]})
        return sorted(record, key=lambda r: (r["date"] or dt.date.max, r["title"]))

    def booking_calendar(self, code: str, booking_id: str, urns: set[str] | None) -> bytes:
        event = self._get(code)
        booking = self._check_school(event, booking_id, urns)
        session = event.sessions[booking["session"]]
        if not calendar.in_calendar(session):
            raise Conflict("The session's date is not confirmed yet.", "date")
        if booking["status"] in ("waiting", "offered"):
            raise Conflict("There is no place to put in a calendar yet: the booking is "
                           f"{booking['status']}.", "booking")
        return calendar.booking_calendar(self._item(event), session, booking, self.authority.slug,
                                         self.authority.timezone, self.clock.now())

    def feed(self) -> bytes:
        items = [self._item(e) for e in self.index.all() if isinstance(e, CpdEvent)]
        return calendar.programme_feed(items, self.authority.slug, self.authority.name,
                                       self.authority.timezone, self.clock.now())

    # -- views -------------------------------------------------------------------------------

    def event_view(self, e: CpdEvent) -> dict:
        item, today = self._item(e), self.today()
        for session in item["sessions"]:
            session.pop("joining_link", None)  # only people booked see it
            session["weekday"] = session["date"].strftime("%A") if session["date"] else None
            session["past"] = session["date"] is not None and session["date"] < today
            session["open"] = e.closed_to_bookings(session["id"], today) is None
            session["places_taken"] = e.places_taken(session["id"])
            session["places_left"] = None if e.capacity is None else max(
                0, e.capacity - session["places_taken"])
            session["waiting"] = sum(1 for b in e.bookings.values()
                                     if b["session"] == session["id"] and b["status"] == "waiting")
        item["bookable"] = e.kind in BOOKABLE
        return item

    def booking_view(self, e: CpdEvent, booking_id: str) -> dict:
        booking = e.bookings[booking_id]
        session = e.sessions[booking["session"]]
        link = session.get("joining_link") if booking["status"] == "booked" else None
        return reveal({"id": booking_id, "code": e.code, "title": e.title, "session": booking["session"],
                       "date": session["date"], "start": session["start"], "end": session["end"],
                       "urn": booking["urn"], "person": booking["person"], "status": booking["status"],
                       "offer_expires_at": booking["offer_expires_at"], "joining_link": link,
                       "session_status": session["status"]})

    def invitation_view(self, e: CpdEvent, key: str) -> dict:
        """An invitation with its session as it is now (the joining link once accepted)."""
        invitation = e.invitations[key]
        session = e.sessions.get(invitation["session"]) if invitation["session"] else None
        session = session or {}
        return {"id": key, "code": e.code, "title": e.title, "urn": invitation["urn"],
                "school_year": invitation["school_year"], "application": invitation["application"],
                "awarded_on": invitation["awarded_on"], "status": invitation["status"],
                "answered_by": invitation["answered_by"], "session": invitation["session"],
                "date": session.get("date"), "start": session.get("start"), "end": session.get("end"),
                "venue_status": session.get("venue_status"), "venue": session.get("venue"),
                "joining_link": session.get("joining_link") if invitation["status"] == "accepted"
                else None}

    def catch_up_view(self, c: CatchUp, titles: dict[str, str] | None = None) -> dict:
        code = c.code or self.support_meetings_code()
        titles = self._titles() if titles is None else titles
        return {"id": str(c.id), "urn": c.urn, "code": code, "title": titles.get(code, "Meeting"),
                "note": c.note, "status": c.status, "requested_at": c.created_on,
                "proposal": c.proposal, "declined_because": c.declined_because}

    def _item(self, e: CpdEvent) -> dict:
        return {"code": e.code, "title": e.title, "description": e.description, "kind": e.kind,
                "runs_by": e.runs_by, "audience": e.audience, "capacity": e.capacity,
                "sessions": [dict(s) for s in e.sessions.values()]}

    # -- internals ---------------------------------------------------------------------------

    def _titles(self) -> dict[str, str]:
        return {e.code: e.title for e in self.index.all() if isinstance(e, CpdEvent)}

    def _new_code(self, title: str) -> str:
        """A code for a new event from its title (``refugee-week-2``: a second of that name)."""
        base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].strip("-") or "event"
        taken = {e.code for e in self.index.all() if isinstance(e, CpdEvent)}
        return next(code for n in itertools.count(1)
                    if (code := base if n == 1 else f"{base}-{n}") not in taken)

    def _get(self, code: str) -> CpdEvent:
        try:
            return self.repository.get(CpdEvent.create_id(code))
        except AggregateNotFoundError:
            raise NotFound(f"No event {code!r} in the programme.", "code") from None

    def _celebrations(self) -> list[CpdEvent]:
        return [e for e in self.index.all() if isinstance(e, CpdEvent) and e.kind == CELEBRATION]

    def _invitation_of(self, urn: str, school_year: str) -> tuple[CpdEvent, str]:
        """The celebration holding the school's invitation for that year's award (read
        afresh, to change it), and the invitation's id."""
        for seen in self._celebrations():
            for invitation, found in seen.invitations.items():
                if (found["urn"], found["school_year"]) == (urn, school_year):
                    return self._get(seen.code), invitation
        raise NotFound(f"The school has no invitation to celebrate a {school_year} award.", "year")

    @staticmethod
    def _check_school(event: CpdEvent, booking_id: str, urns: set[str] | None) -> dict:
        """``urns`` None: the lead, who sees every booking; else only the school's own."""
        booking = event.bookings.get(booking_id)
        if booking is None:
            raise NotFound("No such booking.", "booking")
        if urns is not None and booking["urn"] not in urns:
            raise Forbidden("That booking is another school's.")
        return booking

    def _change(self, code: str, command: Callable[[CpdEvent], Any]) -> dict:
        event = self._get(code)
        command(event)
        self.save_changes(event)
        return self.event_view(event)

    def _change_catch_up(self, request_id: str, urns: set[str] | None,
                         command: Callable[[CatchUp], Any]) -> dict:
        try:
            aggregate_id = uuid.UUID(request_id)
        except ValueError:
            raise NotFound("No such catch-up request.", "request") from None
        try:  # a store error while loading stays an error, not a 404
            request = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound("No such catch-up request.", "request") from None
        if not isinstance(request, CatchUp):
            raise NotFound("No such catch-up request.", "request")
        if urns is not None and request.urn not in urns:
            raise Forbidden("That request is another school's.")
        command(request)
        self.save_changes(request)
        return self.catch_up_view(request)


def _first_date(e: CpdEvent) -> tuple:
    dates = [s["date"] for s in e.sessions.values() if s["date"] is not None]
    return (min(dates) if dates else dt.date.max, e.title)
