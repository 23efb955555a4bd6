"""What people booked on CPD sessions (and schools reading the newsletter) are told, in
plain English. Plain Python. Each session is said as the pages say it ("Thursday 22 October
2026, 4pm to 5pm, Central Library"), with its calendar entry where its date is confirmed."""

from __future__ import annotations

import datetime as dt

from services.notifications.messages import (
    ABOUT_PLACE,
    BOOKED,
    COORDINATOR,
    NEWSLETTER,
    WAITING,
    Draft,
    calendar_file,
    clock_time,
    day,
    see,
    session_text,
)


def booked(name: str, email: str, session: dict, calendar: bytes | None) -> Draft:
    attachments = calendar_file(calendar, "PUBLISH")
    return Draft(
        "booked",
        email,
        name,
        f"Your place: {session.get('title', 'CPD session')}",
        f"You have a place at {session_text(session)}. The calendar entry is attached.",
        BOOKED,
        attachments=attachments,
        essential=ABOUT_PLACE,
    )


def waiting(name: str, email: str, session: dict) -> Draft:
    return Draft(
        "waiting-list",
        email,
        name,
        f"Waiting list: {session.get('title', 'CPD session')}",
        f"{session_text(session)} is full, so you are on its waiting list. If a place comes "
        "free we will offer it to you by email.",
        WAITING,
        essential=ABOUT_PLACE,
    )


def place_offered(name: str, email: str, session: dict, expires_at: str, tz: dt.tzinfo,
                  link: str | None = None) -> Draft:
    """The offer of a freed place, with the link that claims it (``link``: works once, for this
    person and this offer, until it lapses; no account needed)."""
    until = dt.datetime.fromisoformat(expires_at).astimezone(tz)  # UK time, as people read it
    return Draft(
        "place-offered",
        email,
        name,
        f"A place is free: {session.get('title', 'CPD session')}",
        see(f"A place has come free at {session_text(session)}. It is yours if you claim it by "
            f"{clock_time(until)} on {day(until.date())}; after that it goes to the next person.",
            link, "Claim the place"),
        WAITING,
        essential=ABOUT_PLACE,
    )


def place_offered_school(name: str, school: str, email: str, person: str, session: dict, expires_at: str,
                         tz: dt.tzinfo, link: str | None = None) -> Draft:
    """The school's coordinator hears of a place offered to one of its staff."""
    until = dt.datetime.fromisoformat(expires_at).astimezone(tz)
    return Draft(
        "place-offered-school", email, name,
        f"A place is offered to {person}: {session.get('title', 'CPD session')}",
        see(f"A place has come free at {session_text(session)} and is offered to {person} of {school}, "
            f"who was on the waiting list. They have been sent a link to claim it by {clock_time(until)} "
            f"on {day(until.date())}; you can claim it for them too.", link, "Your school's CPD"),
        COORDINATOR, essential=ABOUT_PLACE)


def session_changed(name: str, email: str, session: dict, what: str, calendar: bytes | None) -> Draft:
    attachments = calendar_file(calendar, "PUBLISH")
    return Draft(
        f"session-{what.replace(' ', '-')}",
        email,
        name,
        f"{what.capitalize()}: {session.get('title', 'CPD session')}",
        f"There is a change to a session you are booked on ({what}). It is now: "
        f"{session_text(session)}. The updated calendar entry is attached.",
        BOOKED,
        attachments=attachments,
        essential=ABOUT_PLACE,
    )


def session_cancelled(name: str, email: str, session: dict, reason: str, calendar: bytes | None) -> Draft:
    attachments = calendar_file(calendar, "CANCEL")
    return Draft(
        "session-cancelled",
        email,
        name,
        f"Cancelled: {session.get('title', 'CPD session')}",
        f"{session_text(session)} is cancelled. {reason}".strip(),
        BOOKED,
        attachments=attachments,
        essential=ABOUT_PLACE,
    )


def cpd_reminder(name: str, email: str, session: dict, days: int) -> Draft:
    when = "tomorrow" if days == 1 else f"in {days} days"
    return Draft(
        "cpd-reminder",
        email,
        name,
        f"Reminder: {session.get('title', 'CPD session')} {when}",
        f"A reminder that you are booked on {session_text(session)}.",
        BOOKED,
        optional=True,
        category="cpd-reminders",
    )


def new_session(name: str, email: str, session: dict) -> Draft:
    return Draft(
        "new-session",
        email,
        name,
        f"New CPD session: {session.get('title', 'CPD')}",
        f"A new session is open for booking: {session_text(session)}. It is free.",
        NEWSLETTER,
        optional=True,
        category="cpd-news",
    )
