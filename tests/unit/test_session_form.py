"""The lead's programme forms read into what the events service takes: a session's
date (confirmed, a month, TBC), its times and venue, and an event's details; every
missing or malformed answer named at once, in the form's words."""

from __future__ import annotations

import pytest

from services.gateway.web.meeting_pages import proposal_form, proposal_text
from services.gateway.web.session_form import event_details, session_details, session_values
from shared.errors import Invalid

CONFIRMED = {"date_status": "confirmed", "date-day": "5", "date-month": "10", "date-year": "2026",
             "start": "16:00", "end": "17.30", "venue_status": "confirmed", "venue": "Council House"}


def refused(read, form: dict) -> dict:
    with pytest.raises(Invalid) as caught:
        read(form)
    return caught.value.fields


def test_a_confirmed_session_with_times_and_a_venue() -> None:
    assert session_details(CONFIRMED) == {
        "date_status": "confirmed", "date": "2026-10-05", "start": "16:00", "end": "17:30",
        "venue_status": "confirmed", "venue": "Council House", "joining_link": None}


def test_a_month_online_and_a_tbc_date_at_school() -> None:
    month = session_details({"date_status": "month", "month-month": "2", "month-year": "2027",
                             "venue_status": "online", "joining_link": "https://meet.example.org/x",
                             "venue": ""})
    assert (month["month"], month["start"], month["joining_link"]) == (
        "2027-02", None, "https://meet.example.org/x")
    tbc = session_details({"date_status": "tbc", "venue_status": "at_school",
                           "joining_link": "https://meet.example.org/x"})
    assert (tbc["date_status"], tbc["joining_link"]) == ("tbc", None)  # a link only online
    assert "date" not in tbc and "month" not in tbc


def test_every_wrong_answer_is_named_at_once() -> None:
    errors = refused(session_details, {"date_status": "confirmed", "date-day": "31", "date-month": "2",
                                       "date-year": "2027", "start": "25:00", "venue_status": "confirmed"})
    assert set(errors) == {"date", "start", "venue"}
    assert refused(session_details, {}) == {"date_status": ["Select whether the date is confirmed"],
                                           "venue_status": ["Select where the session is"]}
    assert set(refused(session_details, {"date_status": "month", "month-month": "13", "month-year": "2027",
                                         "venue_status": "online", "joining_link": "http://x"})) == {
        "month", "joining_link"}


def test_times_both_or_neither_and_in_order() -> None:
    only_start = {**CONFIRMED, "end": ""}
    assert refused(session_details, only_start) == {"end": ["Enter both the start and end times, or neither"]}
    backwards = {**CONFIRMED, "start": "17:00", "end": "16:00"}
    assert refused(session_details, backwards) == {"end": ["The session must end after it starts"]}


def test_a_session_as_the_form_shows_it_again() -> None:
    values = session_values({"date_status": "confirmed", "date": "2026-10-05", "month": None,
                             "start": "16:00:00", "end": "17:30:00", "venue_status": "confirmed",
                             "venue": "Council House"})
    assert session_details(values) == session_details(CONFIRMED)


def test_an_events_details() -> None:
    form = {"title": " Governors' briefing ", "kind": "series", "runs_by": "EMAS", "audience": "Governors",
            "capacity": "20", "description": ""}
    assert event_details(form, new=True) == {"title": "Governors' briefing", "kind": "series",
                                             "runs_by": "EMAS", "audience": "Governors", "capacity": 20,
                                             "description": ""}
    assert "kind" not in event_details(form, new=False)
    assert set(refused(lambda f: event_details(f, new=True), {"capacity": "0"})) == {
        "title", "kind", "runs_by", "audience", "capacity"}


def test_a_proposed_meeting_and_how_it_is_said() -> None:
    form = {"date-day": "12", "date-month": "1", "date-year": "2027", "start": "15:30", "end": "16:30",
            "venue": "At the school"}
    proposal = proposal_form(form)
    assert proposal == {"date": "2027-01-12", "start": "15:30", "end": "16:30", "venue": "At the school"}
    assert proposal_text(proposal) == "Tuesday 12 January 2027, 3:30pm to 4:30pm, At the school"
    assert set(refused(proposal_form, {"start": "9"})) == {"date", "start", "end"}
    backwards = {**form, "end": "15:00"}
    assert refused(proposal_form, backwards) == {"end": ["The meeting must end after it starts"]}
