"""iCalendar files built from plain dicts and read back with the icalendar library,
field by field: one per booking, and the feed of the whole programme."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar

from shared import calendar

LONDON = ZoneInfo("Europe/London")
STAMP = dt.datetime(2026, 9, 1, 8, 30, tzinfo=dt.UTC)
LINK = "https://meet.example.org/sanctuary-network"


def session(session_id: str = "network-meeting-3", **changes: object) -> dict:
    return {"id": session_id, "date_status": "confirmed", "date": dt.date(2027, 6, 30), "month": None,
            "start": dt.time(16, 0), "end": dt.time(17, 0), "venue_status": "tbc",
            "venue": "In person, venue TBC", "joining_link": None, "status": "scheduled", "sequence": 0,
            **changes}


def item(*sessions: dict, **changes: object) -> dict:
    return {"code": "network-meeting", "title": "Schools of Sanctuary – network meeting of local schools",
            "description": "Meet other schools.", "kind": "series", "runs_by": "Coventry EMAS",
            "audience": "Staff", "capacity": None, "sessions": list(sessions), **changes}


def booking_ics(s: dict, status: str = "booked", authority: str = "coventry") -> Calendar:
    raw = calendar.booking_calendar(item(s), s, {"status": status}, authority, LONDON, STAMP)
    assert isinstance(raw, bytes)
    return Calendar.from_ical(raw)


def only_event(cal: Calendar):
    events = cal.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


# -- identity and sequence -----------------------------------------------------------------


def test_the_uid_is_the_session_id_at_the_authority() -> None:
    entry = only_event(booking_ics(session()))
    assert str(entry["UID"]) == "network-meeting-3@coventry.schools-of-sanctuary"
    assert calendar.session_uid("introduction-1", "lancashire") == \
        "introduction-1@lancashire.schools-of-sanctuary"


def test_the_uid_stays_the_same_through_changes_and_for_everyone() -> None:
    before = only_event(booking_ics(session()))
    after = only_event(booking_ics(session(date=dt.date(2027, 7, 1), sequence=3, venue_status="confirmed",
                                           venue="Council House")))
    waiting = only_event(booking_ics(session(), status="waiting"))
    assert str(before["UID"]) == str(after["UID"]) == str(waiting["UID"])
    other = only_event(booking_ics(session("network-meeting-2")))
    assert str(other["UID"]) != str(before["UID"])


@pytest.mark.parametrize("sequence", [0, 1, 7])
def test_the_sequence_is_the_sessions(sequence: int) -> None:
    assert only_event(booking_ics(session(sequence=sequence)))["SEQUENCE"] == sequence


def test_the_calendar_headers() -> None:
    cal = booking_ics(session())
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == calendar.PRODID
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == item()["title"]
    entry = only_event(cal)
    assert entry["DTSTAMP"].dt == STAMP
    assert str(entry["SUMMARY"]) == item()["title"]
    assert str(entry["STATUS"]) == "CONFIRMED"
    assert "Run by Coventry EMAS." in str(entry["DESCRIPTION"])
    assert "Meet other schools." in str(entry["DESCRIPTION"])


# -- times: UK local time with BST ----------------------------------------------------------


def test_a_summer_session_is_in_bst() -> None:
    entry = only_event(booking_ics(session(date=dt.date(2027, 6, 30))))
    start, end = entry["DTSTART"], entry["DTEND"]
    assert start.params["TZID"] == end.params["TZID"] == "Europe/London"
    assert start.dt == dt.datetime(2027, 6, 30, 16, 0, tzinfo=LONDON)
    assert start.dt.utcoffset() == dt.timedelta(hours=1)
    assert utc(start.dt) == dt.datetime(2027, 6, 30, 15, 0, tzinfo=dt.UTC)
    assert utc(end.dt) == dt.datetime(2027, 6, 30, 16, 0, tzinfo=dt.UTC)


def test_a_winter_session_is_in_gmt() -> None:
    entry = only_event(booking_ics(session("network-meeting-2", date=dt.date(2027, 3, 2))))
    start, end = entry["DTSTART"], entry["DTEND"]
    assert start.params["TZID"] == "Europe/London"
    assert start.dt.utcoffset() == dt.timedelta(0)
    assert utc(start.dt) == dt.datetime(2027, 3, 2, 16, 0, tzinfo=dt.UTC)
    assert utc(end.dt) == dt.datetime(2027, 3, 2, 17, 0, tzinfo=dt.UTC)


def test_the_raw_text_writes_local_times_with_their_zone() -> None:
    s = session(date=dt.date(2026, 11, 17), start=dt.time(13, 15), end=dt.time(15, 0))
    raw = calendar.booking_calendar(item(s), s, {"status": "booked"}, "coventry", LONDON, STAMP).decode()
    assert "DTSTART;TZID=Europe/London:20261117T131500" in raw
    assert "DTEND;TZID=Europe/London:20261117T150000" in raw


def test_a_vtimezone_for_europe_london_comes_with_the_file_and_gives_the_right_offsets() -> None:
    """A calendar that knows no time zones reads the times through the VTIMEZONE alone."""
    cal = booking_ics(session())
    zones = cal.walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ["Europe/London"]
    assert cal.subcomponents.index(zones[0]) < cal.subcomponents.index(cal.walk("VEVENT")[0])
    names = {str(part["TZNAME"]) for part in zones[0].walk() if part.name in ("STANDARD", "DAYLIGHT")}
    assert {"GMT", "BST"} <= names
    embedded = zones[0].to_tz(lookup_tzid=False)  # built from the component, not the tz database
    summer = dt.datetime(2027, 6, 30, 16, 0, tzinfo=embedded)
    winter = dt.datetime(2027, 3, 2, 16, 0, tzinfo=embedded)
    assert summer.utcoffset() == dt.timedelta(hours=1)
    assert winter.utcoffset() == dt.timedelta(0)


def test_the_day_the_clocks_go_forward() -> None:
    """28 March 2027: 01:00 GMT becomes 02:00 BST; a 16:00 session that day is BST."""
    entry = only_event(booking_ics(session(date=dt.date(2027, 3, 28))))
    assert utc(entry["DTSTART"].dt) == dt.datetime(2027, 3, 28, 15, 0, tzinfo=dt.UTC)
    entry = only_event(booking_ics(session(date=dt.date(2027, 3, 27))))
    assert utc(entry["DTSTART"].dt) == dt.datetime(2027, 3, 27, 16, 0, tzinfo=dt.UTC)


def test_a_date_with_no_times_is_an_all_day_entry() -> None:
    s = session("refugee-week-planning-1", date=dt.date(2027, 4, 15), start=None, end=None)
    raw = calendar.booking_calendar(item(s), s, {"status": "booked"}, "coventry", LONDON, STAMP)
    entry = only_event(Calendar.from_ical(raw))
    assert entry["DTSTART"].params["VALUE"] == "DATE"
    assert entry["DTSTART"].dt == dt.date(2027, 4, 15)
    assert not isinstance(entry["DTSTART"].dt, dt.datetime)
    assert entry["DTEND"].dt == dt.date(2027, 4, 16)  # exclusive: one day
    assert b"DTSTART;VALUE=DATE:20270415" in raw


# -- cancellations ----------------------------------------------------------------------


def test_a_cancelled_session_is_sent_as_cancelled() -> None:
    cal = booking_ics(session(status="cancelled", cancelled_because="Snow", sequence=2))
    assert str(cal["METHOD"]) == "CANCEL"
    entry = only_event(cal)
    assert str(entry["STATUS"]) == "CANCELLED"
    assert entry["SEQUENCE"] == 2
    assert str(entry["UID"]) == "network-meeting-3@coventry.schools-of-sanctuary"
    assert str(entry["DESCRIPTION"]).startswith("CANCELLED. Snow")


@pytest.mark.parametrize("status", ["cancelled", "offer_expired"])
def test_a_booking_that_no_longer_stands_is_sent_as_cancelled(status: str) -> None:
    cal = booking_ics(session(venue_status="online", venue="Online", joining_link=LINK), status=status)
    assert str(cal["METHOD"]) == "CANCEL"
    entry = only_event(cal)
    assert str(entry["STATUS"]) == "CANCELLED"
    assert LINK not in cal.to_ical().decode()


@pytest.mark.parametrize("status", ["booked", "attended", "waiting", "offered"])
def test_a_booking_that_stands_is_published(status: str) -> None:
    cal = booking_ics(session(), status=status)
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(only_event(cal)["STATUS"]) == "CONFIRMED"


# -- where -----------------------------------------------------------------------------------


def online(**changes: object) -> dict:
    return session("introduction-1", date=dt.date(2026, 9, 17), venue_status="online", venue="Online",
                   joining_link=LINK, **changes)


def test_the_joining_link_is_given_to_a_booked_person() -> None:
    cal = booking_ics(online())
    assert str(only_event(cal)["LOCATION"]) == LINK


@pytest.mark.parametrize("status", ["waiting", "offered", "attended", "cancelled", "offer_expired"])
def test_nobody_else_gets_the_joining_link(status: str) -> None:
    cal = booking_ics(online(), status=status)
    assert LINK not in cal.to_ical().decode()
    assert str(only_event(cal)["LOCATION"]) == "Online (the joining link goes to people booked)"


def test_the_feed_never_carries_the_joining_link() -> None:
    raw = calendar.programme_feed([item(online())], "coventry", "Coventry", LONDON, STAMP).decode()
    assert LINK not in raw
    assert "Online (the joining link goes to people booked)" in raw.replace("\r\n ", "")


@pytest.mark.parametrize(("venue_status", "venue", "location"), [
    ("confirmed", "Council House, Diamond Room 5", "Council House, Diamond Room 5"),
    ("tbc", "In person, venue TBC", "Venue to be confirmed"),
    ("at_school", "In person at school", "At the school"),
])
def test_the_location(venue_status: str, venue: str, location: str) -> None:
    entry = only_event(booking_ics(session(venue_status=venue_status, venue=venue)))
    assert str(entry["LOCATION"]) == location


# -- the programme feed -----------------------------------------------------------------------


def feed(*items: dict) -> Calendar:
    return Calendar.from_ical(calendar.programme_feed(list(items), "coventry", "Coventry", LONDON, STAMP))


def test_the_feed_leaves_out_dates_tbc_or_known_only_to_the_month() -> None:
    cal = feed(
        item(session("network-meeting-1", date=dt.date(2026, 10, 22)),
             session("network-meeting-2", date=dt.date(2027, 3, 2)),
             session("network-meeting-3", date_status="tbc", date=None)),
        item(session("panel-training-1", date_status="tbc", date=None, start=None, end=None),
             code="panel-training", title="Online Training for Panel Members and Local Leads"),
        item(session("healing-classrooms-1", date_status="month", date=None, month="2027-06"),
             code="healing-classrooms", title="IRC Healing Classrooms"),
        item(code="catch-up-meeting", title="Catch-up", kind="on_request"),
        item(session("refugee-week-planning-1", date=dt.date(2027, 4, 15), start=None, end=None),
             code="refugee-week-planning", title="Refugee Week"),
    )
    uids = sorted(str(e["UID"]).split("@")[0] for e in cal.walk("VEVENT"))
    assert uids == ["network-meeting-1", "network-meeting-2", "refugee-week-planning-1"]
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "Coventry Schools of Sanctuary CPD"
    assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == ["Europe/London"]


def test_the_feed_keeps_each_sessions_time_and_sequence() -> None:
    cal = feed(item(session("network-meeting-1", date=dt.date(2026, 10, 22), sequence=4),
                    session("network-meeting-3", date=dt.date(2027, 6, 30))))
    entries = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    october = entries["network-meeting-1@coventry.schools-of-sanctuary"]
    june = entries["network-meeting-3@coventry.schools-of-sanctuary"]
    assert october["SEQUENCE"] == 4 and june["SEQUENCE"] == 0
    # 22 October 2026 is still BST (the clocks go back on the 25th)
    assert utc(october["DTSTART"].dt) == dt.datetime(2026, 10, 22, 15, 0, tzinfo=dt.UTC)
    assert utc(june["DTSTART"].dt) == dt.datetime(2027, 6, 30, 15, 0, tzinfo=dt.UTC)


def test_a_cancelled_session_stays_in_the_feed_as_cancelled() -> None:
    cal = feed(item(session(status="cancelled", cancelled_because="Snow", sequence=1)))
    assert str(only_event(cal)["STATUS"]) == "CANCELLED"


def test_an_empty_programme_is_still_a_calendar() -> None:
    cal = feed()
    assert cal.walk("VEVENT") == []
    assert str(cal["VERSION"]) == "2.0"


def test_in_calendar() -> None:
    assert calendar.in_calendar(session())
    assert not calendar.in_calendar(session(date_status="tbc", date=None))
    assert not calendar.in_calendar(session(date_status="month", date=None, month="2027-06"))


# -- read by two independent parsers -----------------------------------------------------------

# (day, local start): each side of both clock changes of the 2026-27 school year
ACROSS_THE_CHANGES = [
    (dt.date(2026, 10, 24), dt.time(16, 0)), (dt.date(2026, 10, 26), dt.time(16, 0)),
    (dt.date(2026, 11, 17), dt.time(13, 15)), (dt.date(2027, 3, 27), dt.time(16, 0)),
    (dt.date(2027, 3, 29), dt.time(16, 0)), (dt.date(2027, 6, 30), dt.time(16, 0)),
    (dt.date(2029, 11, 20), dt.time(16, 0)),  # years past the rules' first use: the RRULE, not a list
]


@pytest.mark.parametrize(("day", "start"), ACROSS_THE_CHANGES)
def test_icalendar_and_vobject_read_the_same_uk_time(day: dt.date, start: dt.time) -> None:
    s = session(date=day, start=start, end=dt.time(start.hour + 1, start.minute))
    raw = calendar.booking_calendar(item(s), s, {"status": "booked"}, "coventry", LONDON, STAMP)
    expected = dt.datetime.combine(day, start, tzinfo=LONDON).astimezone(dt.UTC)
    by_icalendar = only_event(Calendar.from_ical(raw))["DTSTART"].dt
    zone = Calendar.from_ical(raw).walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
    by_its_own_rules = by_icalendar.replace(tzinfo=zone)
    by_vobject = vobject.readOne(raw.decode()).vevent.dtstart.value
    assert utc(by_icalendar) == utc(by_its_own_rules) == utc(by_vobject) == expected


def test_the_zone_is_written_as_rules_not_a_list_of_changes() -> None:
    raw = calendar.booking_calendar(item(session()), session(), {"status": "booked"}, "coventry",
                                    LONDON, STAMP).decode()
    zone = Calendar.from_ical(raw).walk("VTIMEZONE")[0]
    rules = {part.name: part["RRULE"] for part in zone.walk() if part.name in ("STANDARD", "DAYLIGHT")}
    assert rules["DAYLIGHT"] == {"FREQ": ["YEARLY"], "BYMONTH": [3], "BYDAY": ["-1SU"]}
    assert rules["STANDARD"] == {"FREQ": ["YEARLY"], "BYMONTH": [10], "BYDAY": ["-1SU"]}
    assert "RDATE" not in raw
