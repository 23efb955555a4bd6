"""iCalendar (RFC 5545) files: one per booking, a feed of the whole programme, and one for
any other dated thing a person attends (a school's visit, a catch-up meeting).

A session keeps one UID for life and its SEQUENCE rises with every change, so
a calendar that imported it updates the entry instead of adding another. A
cancelled session is sent as cancelled. Sessions whose date is TBC or known
only to the month stay out of calendars until confirmed. Times are UK local
time, written with their time zone (BST included).

The zone is written as the standard Europe/London rules (last Sunday of March
and of October), not as the list of past changes icalendar derives from the tz
database: some clients read such a list wrongly for dates past its end (vobject
read 17 November 2026 as BST).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

PRODID = "-//Schools of Sanctuary//CPD programme//EN"

EUROPE_LONDON = """BEGIN:VTIMEZONE
TZID:Europe/London
BEGIN:DAYLIGHT
TZNAME:BST
TZOFFSETFROM:+0000
TZOFFSETTO:+0100
DTSTART:19810329T010000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZNAME:GMT
TZOFFSETFROM:+0100
TZOFFSETTO:+0000
DTSTART:19961027T020000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""


def finished(cal: Calendar, tz: ZoneInfo) -> bytes:
    """The file's bytes, with the time zone its entries use written as its rules."""
    if tz.key == "Europe/London":
        # before the entries, as clients that read in one pass expect
        cal.subcomponents.insert(0, Timezone.from_ical(EUROPE_LONDON.replace("\n", "\r\n")))
    else:  # not met in England, but never an entry without its zone
        cal.add_missing_timezones()
    return cal.to_ical()


def appointment_uid(kind: str, key: str, authority: str) -> str:
    """A visit's or a meeting's UID: what it is and its own id, at the authority."""
    return f"{kind}-{key}@{authority}.schools-of-sanctuary"


def appointment(uid: str, sequence: int, summary: str, day: dt.date, start: dt.time | None,
                end: dt.time | None, location: str, description: str, tz: ZoneInfo, stamp: dt.datetime,
                cancelled: bool = False) -> bytes:
    """One dated thing a person attends, as a file of its own: a calendar that imported it
    updates it (same UID, higher SEQUENCE) or removes it (CANCEL). No time: all day."""
    cal = calendar("CANCEL" if cancelled else "PUBLISH", summary)
    entry = Event()
    entry.add("uid", uid)
    entry.add("sequence", sequence)
    entry.add("dtstamp", stamp)
    entry.add("summary", summary)
    if start is not None and end is not None:
        entry.add("dtstart", dt.datetime.combine(day, start, tzinfo=tz))
        entry.add("dtend", dt.datetime.combine(day, end, tzinfo=tz))
    else:
        entry.add("dtstart", day)
        entry.add("dtend", day + dt.timedelta(days=1))
    entry.add("location", location)
    entry.add("description", description)
    entry.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    cal.add_component(entry)
    return finished(cal, tz)


def session_uid(session_id: str, authority: str) -> str:
    return f"{session_id}@{authority}.schools-of-sanctuary"


def calendar(method: str, name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    cal.add("x-wr-calname", name)
    return cal


def in_calendar(session: dict) -> bool:
    return session["date_status"] == "confirmed" and session["date"] is not None


def vevent(item: dict, session: dict, authority: str, tz: ZoneInfo, stamp: dt.datetime,
           show_link: bool) -> Event:
    entry = Event()
    entry.add("uid", session_uid(session["id"], authority))
    entry.add("sequence", session["sequence"])
    entry.add("dtstamp", stamp)
    entry.add("summary", item["title"])
    day: dt.date = session["date"]
    if session["start"] is not None:
        entry.add("dtstart", dt.datetime.combine(day, session["start"], tzinfo=tz))
        entry.add("dtend", dt.datetime.combine(day, session["end"], tzinfo=tz))
    else:  # a date with no time given: an all-day entry
        entry.add("dtstart", day)
        entry.add("dtend", day + dt.timedelta(days=1))
    entry.add("location", _location(session, show_link))
    entry.add("description", _description(item, session, show_link))
    cancelled = session["status"] == "cancelled"
    entry.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return entry


def booking_calendar(item: dict, session: dict, booking: dict, authority: str, tz: ZoneInfo,
                     stamp: dt.datetime) -> bytes:
    """The .ics for one booking: an invitation, or a cancellation once it no longer stands."""
    gone = session["status"] == "cancelled" or booking["status"] in ("cancelled", "offer_expired")
    cal = calendar("CANCEL" if gone else "PUBLISH", item["title"])
    entry = vevent(item, session, authority, tz, stamp, show_link=booking["status"] == "booked")
    if gone:
        entry["status"] = "CANCELLED"
    cal.add_component(entry)
    return finished(cal, tz)


def programme_feed(items: list[dict], authority: str, authority_name: str, tz: ZoneInfo,
                   stamp: dt.datetime) -> bytes:
    cal = calendar("PUBLISH", f"{authority_name} Schools of Sanctuary CPD")
    for item in items:
        for session in item["sessions"]:
            if in_calendar(session):
                cal.add_component(vevent(item, session, authority, tz, stamp, show_link=False))
    return finished(cal, tz)


def _location(session: dict, show_link: bool) -> str:
    if session["venue_status"] == "online":
        link = session.get("joining_link")
        return link if (link and show_link) else "Online (the joining link goes to people booked)"
    if session["venue_status"] == "tbc":
        return "Venue to be confirmed"
    if session["venue_status"] == "at_school":
        return "At the school"
    return session["venue"] or ""


def _description(item: dict, session: dict, show_link: bool) -> str:
    lines = [item.get("description") or "", f"Run by {item['runs_by']}."]
    if session["status"] == "cancelled":
        lines.insert(0, "CANCELLED. " + (session.get("cancelled_because") or ""))
    return "\n".join(line for line in lines if line)
