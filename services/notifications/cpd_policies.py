"""How the notifications service reacts to the CPD programme's news: sessions listed, added,
moved, their venue set or cancelled (everyone booked told, with the calendar entry at its
next SEQUENCE); places booked, waited for, offered (with a link that claims it), lapsed; and
the celebration an awarded school is invited to (its invitation, and any change to it)."""

from __future__ import annotations

from typing import Any

from services.events.api import EventsApi
from services.notifications import cpd_messages as cm
from services.notifications import lead_messages as lm
from services.notifications import messages as m
from services.notifications.application import Notifications, calendar_location
from services.notifications.directory import Entry
from services.notifications.reactions import coordinator_draft, key_of, needed, reacts_to
from shared.envelope import IntegrationEvent
from shared.errors import NotFound
from shared.personal import Personal, reveal, subject_for_email


@reacts_to("events", "CelebrationInvited", "CelebrationInvitationWaiting")
def celebration_invited(app: Notifications, news: IntegrationEvent) -> list:
    """An awarded school invited to a celebration session: its coordinator only, with the
    session's calendar entry and a link to answer. Keyed by the invitation and its session,
    so it goes once however often the news is heard (and again only if the invitation moves
    to another session). Waiting for a session: nothing to say yet."""
    p = news.payload
    entry = app.learn("invitation", p["invitation"], news, urn=p["urn"], session=p["session"])
    if p["session"] is None:
        return [entry]
    told = {k: p[k] for k in ("date", "start", "end", "venue_status", "venue")}
    known = app.session(p["session"]) or {}  # its SEQUENCE, and any change heard since
    session = {"id": p["session"], "date_status": "confirmed" if p["date"] else "tbc", **told,
               **({k: v for k, v in known.items() if v is not None} if known.get("date") else {}),
               "sequence": known.get("sequence", 0), "title": p["title"]}
    session["place"] = calendar_location(session)
    ics = app.session_calendar(session, booked=False)
    drafts = coordinator_draft(app, p["urn"], m.celebration_invitation, session, app.authority,
                               app.links.page(f"/school/{p['urn']}"), ics)
    return [entry, *app.intend(drafts, f"celebration/{p['invitation']}/{p['session']}")]


@reacts_to("events", "CelebrationAccepted", "CelebrationDeclined")
def celebration_answered(app: Notifications, news: IntegrationEvent) -> list:
    answer = "accepted" if news.type == "CelebrationAccepted" else "declined"
    return [app.learn("invitation", news.payload["invitation"], news, answer=answer)]


def _invited_to(app: Notifications, session_id: str) -> list[str]:
    """The schools invited to a celebration session that have not declined."""
    return [i.get("urn") for i in app.entries("invitation")
            if i.get("session") == session_id and i.get("answer") != "declined"]


# -- CPD --------------------------------------------------------------------------------------

SESSION_FIELDS = ("date_status", "date", "month", "start", "end", "venue_status", "venue")


@reacts_to("events", "ProgrammeListed")
def programme_listed(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    sessions = [
        app.learn(
            "session",
            s["id"],
            news,
            title=p["title"],
            code=p["code"],
            sequence=0,
            status="scheduled",
            **{k: s.get(k) for k in SESSION_FIELDS},
        )
        for s in p["sessions"]
    ]
    return [*sessions, *_waiting_confirmations(app, sessions)]


def _waiting_confirmations(app: Notifications, sessions: list) -> list:
    """Bookings heard before their session (news travels on separate queues) are confirmed now."""
    known = {entry.key: entry for entry in sessions}
    notes = []
    for booking in app.entries("booking"):
        entry = known.get(booking.get("session"))
        if entry is not None and booking.get("status") == "booked":
            notes += app.confirm_booking(booking, app.session_of(entry))
    return notes


@reacts_to("events", "SessionScheduled")
def session_scheduled(app: Notifications, news: IntegrationEvent) -> list:
    s = news.payload["session"]
    title, code = next(
        (
            (e.get("title"), e.get("code"))
            for e in app.entries("session")
            if e.get("code") and s["id"].startswith(e.get("code") + "-")
        ),
        ("CPD session", s["id"].rsplit("-", 1)[0]),  # a session's id is its event's code and a suffix
    )
    entry = app.learn(
        "session",
        s["id"],
        news,
        title=title,
        code=code,
        sequence=0,
        status="scheduled",
        **{k: s.get(k) for k in SESSION_FIELDS},
    )
    session = {**entry.facts, "place": "venue to be confirmed"}
    drafts = [cm.new_session(*contact, session) for contact in _newsletter_readers(app)]
    return [entry, *app.intend(drafts, key_of(news))]


@reacts_to("events", "SessionRescheduled", "VenueConfirmed", "VenueChanged", "SessionCancelled")
def session_changed(app: Notifications, news: IntegrationEvent) -> list:
    """Rescheduled, venue confirmed or changed, cancelled: everyone booked is told, with
    the calendar entry at its next SEQUENCE (the events service counts the same way)."""
    p = news.payload
    current = app.entry("session", p["session"])
    facts: dict[str, Any] = {"sequence": current.get("sequence", 0) + 1}
    if news.type == "SessionRescheduled":
        facts.update({k: p["when"].get(k) for k in ("date_status", "date", "month", "start", "end")})
        what = "new time"
    elif news.type == "SessionCancelled":
        facts.update(status="cancelled", cancelled_because=p.get("reason"))
        what = "cancelled"
    else:
        facts.update(venue_status=p["venue_status"], venue=p.get("venue"))
        what = "venue"
    entry = app.learn("session", p["session"], news, **facts)
    session = app.session_of(entry)  # as it is now, not as last saved
    drafts = []
    for urn in _invited_to(app, p["session"]):  # a celebration's date or venue: the schools invited
        ics = app.session_calendar(session, booked=False)
        drafts += coordinator_draft(app, urn, m.celebration_changed, session, what, ics,
                                    app.links.page(f"/school/{urn}"))
    for person in _people_booked(app, p["session"]):
        ics = app.session_calendar(session, booked=True)
        if what == "cancelled":
            drafts.append(
                cm.session_cancelled(person["name"], person["email"], session, p.get("reason", ""), ics)
            )
        else:
            drafts.append(cm.session_changed(person["name"], person["email"], session, what, ics))
    return [entry, *app.intend(drafts, key_of(news))]


def _booker(app: Notifications, news: IntegrationEvent, events: EventsApi | None) -> dict | None:
    """Who booked: told by schema 1 of the news (if at all), asked of the events service
    since, unless already known (none once their data is erased)."""
    p = news.payload
    if news.schema_version < 2:
        return p.get("person")
    if isinstance(reveal(app.entry("booking", p["booking"]).get("person")), dict):
        return None  # known already: nothing new to learn
    try:
        found = needed(events, news, "events").booker(p["event"], p["booking"])
    except NotFound:
        return None
    return {"name": found["name"], "email": found["email"]}


@reacts_to("events", "PlaceBooked", "WaitingListJoined", asks="events")
def place_booked(app: Notifications, news: IntegrationEvent, events: EventsApi | None) -> list:
    """Each kind of news has its own queue: the offer of a waiting place may be heard before
    the place was (asking who booked takes a moment), so joining the list never undoes a
    later status, and an offer heard first is mailed once the person is known."""
    p = news.payload
    person = _booker(app, news, events)  # asked first: what is known is read after the answer
    known = app.entry("booking", p["booking"]).get("status")
    status = "booked" if news.type == "PlaceBooked" else known or "waiting"
    facts: dict[str, Any] = {"session": p["session"], "urn": p["urn"], "status": status}
    if person:
        facts["person"] = Personal(
            subject_for_email(person["email"]),
            person,
            label=f"booked on a CPD session for {p['urn']}",
        )
    entry = app.learn("booking", p["booking"], news, **facts)
    person, session = reveal(entry.get("person")), app.session(p["session"])
    if not isinstance(person, dict) or session is None:
        return [entry]
    if status == "booked":
        return [entry, *app.confirm_booking(entry, session)]
    if status == "offered":
        return [entry, *_offered(app, entry, person, session, entry.get("offer_expires_at"),
                                 entry.get("offer_key"))]
    if status != "waiting":
        return [entry]
    draft = cm.waiting(person["name"], person["email"], session)
    return [entry, *app.intend([draft], key_of(news))]


@reacts_to("events", "BookingCancelled", "PlaceOffered", "OfferExpired", "AttendanceRecorded")
def booking_changed(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    status = {
        "BookingCancelled": "cancelled",
        "PlaceOffered": "offered",
        "OfferExpired": "offer_expired",
        "AttendanceRecorded": "attended",
    }[news.type]
    # an offer's facts are kept: it is mailed when the person is known, if that comes later
    offer = {"offer_expires_at": p["expires_at"], "offer_key": key_of(news)} if status == "offered" else {}
    entry = app.learn("booking", p["booking"], news, status=status, **offer)
    person, session = reveal(entry.get("person")), app.session(p["session"])
    if session is None:
        return [entry]
    if news.type == "OfferExpired":
        return [entry, *_offer_lapsed(app, entry, session, news)]
    if news.type != "PlaceOffered" or not isinstance(person, dict):
        return [entry]
    return [entry, *_offered(app, entry, person, session, p["expires_at"], key_of(news))]


def _offered(app: Notifications, booking: Entry, person: dict, session: dict, expires_at: str,
             key: str) -> list:
    """The person offered the place, with a link that claims it without signing in (bound to
    this offer and this person), and their school's coordinator, who may claim it for them."""
    claim = app.links.claim(session.get("code") or session["id"].rsplit("-", 1)[0], booking.key,
                            subject_for_email(person["email"]), expires_at)
    zone, urn = app.authority.timezone, booking.get("urn")
    drafts = [cm.place_offered(person["name"], person["email"], session, expires_at, zone, claim)]
    school = coordinator_draft(app, urn, cm.place_offered_school, person["name"], session, expires_at, zone,
                          app.links.page(f"/school/{urn}/cpd"))
    if school and school[0].to_email.lower() != person["email"].lower():  # not twice to one person
        drafts += school
    return app.intend(drafts, key)


def _offer_lapsed(app: Notifications, booking: Entry, session: dict, news: IntegrationEvent) -> list:
    school = app.entry("school", booking.get("urn") or "").get("name") or f"School {booking.get('urn')}"
    when = m.session_text(session).split(": ", 1)[-1]
    draft = lm.offer_lapsed(session.get("title", "a CPD session"), school, when, app.links.page("/lead/cpd"))
    return app.intend([draft], key_of(news))


def _people_booked(app: Notifications, session_id: str) -> list[dict]:
    people = [
        reveal(b.get("person"))
        for b in app.entries("booking")
        if b.get("session") == session_id and b.get("status") == "booked"
    ]
    return [p for p in people if isinstance(p, dict)]


def _newsletter_readers(app: Notifications) -> list[tuple[str, str]]:
    return [
        known
        for school in app.entries("school")
        if school.get("newsletter") and (known := app.coordinator(school.key)) is not None
    ]
