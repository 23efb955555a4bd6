"""How this service reacts to each public event it hears: a function per kind of news,
registered under the event's public name with ``@reacts_to``, so a search for the name
finds the code. Each reaction learns what it needs into the directory and returns the
notifications it intends, all saved together with the consumed position (so a
redelivery changes nothing). Reactions use only the application's public surface."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.notifications import messages as m
from services.notifications.application import Notifications, calendar_location
from services.pledges.api import PledgesApi
from shared.envelope import IntegrationEvent
from shared.errors import NotFound
from shared.personal import Personal, reveal, subject_for_email

Reaction = Callable[..., list]  # (app, news), or (app, news, pledges) for those that ask

# (origin, public event type) -> its reaction; one handler, and so one queue, each
REACTIONS: dict[tuple[str, str], Reaction] = {}
# reactions that ask the pledges service for what the news leaves out (an address)
ASKING: set[Reaction] = set()


def reacts_to(origin: str, *types: str, asks: bool = False) -> Callable[[Reaction], Reaction]:
    def register(reaction: Reaction) -> Reaction:
        for kind in types:
            REACTIONS[(origin, kind)] = reaction
        if asks:
            ASKING.add(reaction)
        return reaction

    return register


def react(app: Notifications, news: IntegrationEvent, pledges: PledgesApi | None = None) -> list:
    """The aggregates one event changes or creates (saved by the caller, with tracking).
    ``pledges``: the pledges service's client, for the reactions that ask it."""
    reaction = REACTIONS.get((news.origin, news.type))
    if reaction is None:
        changed = []
    elif reaction in ASKING:
        if pledges is None:
            raise RuntimeError(f"{news.type} needs the pledges service to answer, and none was given")
        changed = reaction(app, news, pledges)
    else:
        changed = reaction(app, news)
    app.hold_back_replayed(news, changed)
    return changed


def _key(news: IntegrationEvent) -> str:
    return f"{news.origin}:{news.position}"


def _coordinator(app: Notifications, urn: str, draft: Any, *args: Any) -> list:
    """A draft for the school's coordinator, if the service knows who that is."""
    known = app.coordinator(urn)
    if known is None:
        return []
    name, email = known
    school = app.entry("school", urn).get("name", "your school")
    return [draft(name, school, email, *args)]


# -- pledges ----------------------------------------------------------------------------------


def _contact(urn: str, contact: dict) -> Personal:
    """A coordinator's contact, encrypted under their address's key."""
    return Personal(subject_for_email(contact["email"]), contact, label=f"coordinator of {urn}")


@reacts_to("pledges", "SchoolRegistered")
def school_registered(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    contact = p["coordinator"]
    entry = app.learn(
        "school",
        p["urn"],
        news,
        name=p["name"],
        coordinator=_contact(p["urn"], contact),
    )
    draft = m.school_registered(contact["name"], p["name"], contact["email"], app.authority)
    # the pledge may be heard first (each kind of news has its own queue, and a backlog
    # after downtime is not taken in order): its mail waited for the school's name
    pledged = entry.get("pledged_on")
    moments = {"registered", "pledge_signed"} if pledged else {"registered"}
    pack = _starter_pack(app, p["urn"], moments, known=(contact["name"], p["name"], contact["email"]))
    waiting = []
    if pledged and entry.get("pledge_news"):
        waiting = app.intend([m.pledge_signed(contact["name"], p["name"], contact["email"], pledged,
                                              app.authority),
                              m.pledge_signed_lead(app.authority, p["name"], pledged)],
                             entry.get("pledge_news"))  # the pledge's own key: sent once either way
    return [entry, *app.intend([draft], _key(news)), *pack, *waiting]


@reacts_to("pledges", "CoordinatorChanged")
def coordinator_changed(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    return [app.learn("school", p["urn"], news, coordinator=_contact(p["urn"], p["coordinator"]))]


@reacts_to("pledges", "NewsletterSubscribed", "NewsletterUnsubscribed")
def newsletter(app: Notifications, news: IntegrationEvent) -> list:
    return [app.learn("school", news.payload["urn"], news, newsletter=news.type == "NewsletterSubscribed")]


@reacts_to("pledges", "PledgeSigned")
def pledge_signed(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    entry = app.learn("school", p["urn"], news, pledged_on=p["signed_on"], pledge_news=_key(news))
    if entry.get("name") is None:  # heard before the registration, which will send this mail
        return [entry]
    drafts = _coordinator(app, p["urn"], m.pledge_signed, p["signed_on"], app.authority)
    drafts.append(m.pledge_signed_lead(app.authority, entry.get("name"), p["signed_on"]))
    return [entry, *app.intend(drafts, _key(news)), *_starter_pack(app, p["urn"], {"pledge_signed"})]


def _starter_pack(app: Notifications, urn: str, moments: set[str], known: tuple | None = None) -> list:
    """The authority's starter pack for the coordinator, if it sends one at one of these
    moments (``known``: the coordinator's name, the school's name and the address, when
    the news itself brings them). Keyed by the school, not the news: one pack per school
    (and address), however often it pledges, whichever of its news arrives first."""
    pack = app.authority.starter_pack
    if pack is None or pack.send_when not in moments:
        return []
    if known is not None:
        drafts = [m.starter_pack(*known, app.authority)]
    else:
        drafts = _coordinator(app, urn, m.starter_pack, app.authority)
    return app.intend(drafts, f"school/{urn}")


# -- schools asking to join: no address travels with the news; the pledges service is asked ---


@reacts_to("pledges", "JoinRequestReceived")
def join_request_received(app: Notifications, news: IntegrationEvent) -> list:
    return app.intend([m.join_request_received_lead(app.authority)], _key(news))


@reacts_to("pledges", "JoinRequestAccepted", "JoinRequestDeclined", asks=True)
def join_request_decided(app: Notifications, news: IntegrationEvent, pledges: PledgesApi) -> list:
    """The person who asked is told either way, at the address the pledges service holds
    now (none once their data is erased)."""
    try:
        notice = pledges.join_request_notice(news.payload["request"])
    except NotFound:
        return []
    if news.type == "JoinRequestAccepted":
        draft = m.join_request_accepted(notice["name"], notice["school_name"], notice["email"], app.authority)
    else:
        draft = m.join_request_declined(notice["name"], notice["school_name"], notice["email"],
                                        notice["reason"] or "", app.authority)
    return app.intend([draft], _key(news))


# -- applications ---------------------------------------------------------------------------


# The day each submission is due is the applications service's to set: it is kept as told
# (``due_<stage>``), from the start (schema 2), an extension, or a further-evidence decision.
# Schema 1 of ApplicationStarted did not tell it: see ``Notifications.due_days``.


@reacts_to("applications", "ApplicationStarted")
def application_started(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    told = {}
    if news.schema_version >= 2:  # schema 1 did not tell the days
        told = {"stages": list(p["due"]), **{f"due_{stage}": day for stage, day in p["due"].items()}}
    return [
        app.learn(
            "application",
            p["application"],
            news,
            urn=p["urn"],
            school_year=p["school_year"],
            school_name=p["school_name"],
            **told,
        )
    ]


@reacts_to("applications", "DraftSubmitted", "FinalSubmitted")
def submitted(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    stage = p["stage"]
    entry = app.learn(
        "application",
        p["application"],
        news,
        urn=p["urn"],
        school_year=p["school_year"],
        **{f"submitted_{stage}": True},
    )
    school = app.entry("school", p["urn"]).get("name", "A school")
    drafts = _coordinator(app, p["urn"], m.submitted, stage, p["on"])
    drafts.append(m.submitted_lead(app.authority, school, stage, p["on"]))
    return [entry, *app.intend(drafts, _key(news))]


@reacts_to("applications", "ExtensionGranted")
def extension_granted(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    entry = app.learn("application", p["application"], news, **{f"due_{p['stage']}": p["until"]})
    return [
        entry,
        *app.intend(_coordinator(app, p["urn"], m.extension_granted, p["stage"], p["until"]), _key(news)),
    ]


@reacts_to("applications", "FeedbackReleased")
def feedback_released(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    return app.intend(_coordinator(app, p["urn"], m.feedback_released, p["stage"]), _key(news))


@reacts_to("applications", "VisitScheduled")
def visit_scheduled(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    return app.intend(_coordinator(app, p["urn"], m.visit_scheduled, p["on"]), _key(news))


@reacts_to("applications", "Awarded", "DecisionRecorded")
def decided(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    final = p["outcome"] != "further_evidence"
    # further evidence: the final submission is owed again, by the school's own day
    again = {} if final else {"submitted_final": False, "further_evidence": True,
                              "due_final": p["evidence_due"]}
    entry = app.learn("application", p["application"], news, decided=final, **again)
    drafts = _coordinator(app, p["urn"], m.decision, p["outcome"], p.get("expires_on"), p.get("evidence_due"))
    return [entry, *app.intend(drafts, _key(news))]


@reacts_to("applications", "ApplicationWithdrawn")
def withdrawn(app: Notifications, news: IntegrationEvent) -> list:
    return [app.learn("application", news.payload["application"], news, withdrawn=True)]


@reacts_to("applications", "RenewalDue")
def renewal_due(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    return app.intend(_coordinator(app, p["urn"], m.renewal_due, p["expires_on"]), _key(news))


@reacts_to("events", "CelebrationInvited")
def celebration_invited(app: Notifications, news: IntegrationEvent) -> list:
    """An awarded school invited to a celebration session: its coordinator only. Keyed by
    the invitation and its session, so it goes once however often the news is heard (and
    again only if the invitation moves to another session)."""
    p = news.payload
    session = {**p, "place": calendar_location(p)}
    drafts = _coordinator(app, p["urn"], m.celebration_invitation, session, app.authority)
    return app.intend(drafts, f"celebration/{p['invitation']}/{p['session']}")


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
    title = next(
        (
            e.get("title")
            for e in app.entries("session")
            if e.get("code") and s["id"].startswith(e.get("code") + "-")
        ),
        "CPD session",
    )
    entry = app.learn(
        "session",
        s["id"],
        news,
        title=title,
        sequence=0,
        status="scheduled",
        **{k: s.get(k) for k in SESSION_FIELDS},
    )
    session = {**entry.facts, "place": "venue to be confirmed"}
    drafts = [m.new_session(*contact, session) for contact in _newsletter_readers(app)]
    return [entry, *app.intend(drafts, _key(news))]


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
    for person in _people_booked(app, p["session"]):
        ics = app.session_calendar(session, booked=True)
        if what == "cancelled":
            drafts.append(
                m.session_cancelled(person["name"], person["email"], session, p.get("reason", ""), ics)
            )
        else:
            drafts.append(m.session_changed(person["name"], person["email"], session, what, ics))
    return [entry, *app.intend(drafts, _key(news))]


@reacts_to("events", "PlaceBooked", "WaitingListJoined")
def place_booked(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    status = "booked" if news.type == "PlaceBooked" else "waiting"
    facts: dict[str, Any] = {"session": p["session"], "urn": p["urn"], "status": status}
    if p.get("person"):
        facts["person"] = Personal(
            subject_for_email(p["person"]["email"]),
            p["person"],
            label=f"booked on a CPD session for {p['urn']}",
        )
    entry = app.learn("booking", p["booking"], news, **facts)
    person, session = reveal(entry.get("person")), app.session(p["session"])
    if not isinstance(person, dict) or session is None:
        return [entry]
    if status == "booked":
        return [entry, *app.confirm_booking(entry, session)]
    draft = m.waiting(person["name"], person["email"], session)
    return [entry, *app.intend([draft], _key(news))]


@reacts_to("events", "BookingCancelled", "PlaceOffered", "OfferExpired", "AttendanceRecorded")
def booking_changed(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    status = {
        "BookingCancelled": "cancelled",
        "PlaceOffered": "offered",
        "OfferExpired": "offer_expired",
        "AttendanceRecorded": "attended",
    }[news.type]
    entry = app.learn("booking", p["booking"], news, status=status)
    person, session = reveal(entry.get("person")), app.session(p["session"])
    if news.type != "PlaceOffered" or not isinstance(person, dict) or session is None:
        return [entry]
    draft = m.place_offered(person["name"], person["email"], session, p["expires_at"], app.authority.timezone)
    return [entry, *app.intend([draft], _key(news))]


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
