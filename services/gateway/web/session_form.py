"""The forms the lead fills in for the CPD programme, read into what the events service
takes: an event's details, and a session's date (confirmed, a month, or TBC), times and
venue (confirmed, TBC, online with its joining link, or at the school). Every missing
or malformed answer is named at once, in words, before the service is asked."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from services.gateway.web.pages import field_errors, form_date
from shared.errors import Conflict, Invalid

KINDS = [("session", "Single sessions", "Schools book places on each dated session"),
         ("series", "A series", "Schools book places on each meeting of the series"),
         ("on_request", "On request", "Schools ask for a meeting and you propose a time"),
         ("run_by_others", "Run by others", "Listed for information; not booked here")]
DATE_STATUSES = [("confirmed", "On a confirmed date"), ("month", "In a month, date to be confirmed"),
                 ("tbc", "Date to be confirmed")]
VENUE_STATUSES = [("confirmed", "At a confirmed venue"), ("tbc", "Venue to be confirmed"),
                  ("online", "Online"), ("at_school", "At the school")]
TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
SAID = {  # the service's field names, in the words the form uses
    "date": "Enter the date of the session", "month": "Enter the month as a number and the year",
    "end": "The session must end after it starts", "venue": "Enter the name of the venue",
    "joining_link": "Enter the joining link as a web address starting https://",
    "title": "Enter the title of the event", "audience": "Enter who the event is for",
    "runs_by": "Enter who runs the event",
    "capacity": "Enter the number of places as a whole number from 1 to 10000, or leave it empty",
}


def event_details(form: Mapping[str, str], new: bool) -> dict:
    """An event's details from the form (``new``: listing one, so its kind is asked)."""
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {name: form.get(name, "").strip()
                            for name in ("title", "description", "runs_by", "audience")}
    for name, message in (("title", "Enter the title of the event"),
                          ("runs_by", "Enter who runs the event"),
                          ("audience", "Enter who the event is for")):
        if not data[name]:
            errors[name] = [message]
    if new:
        data["kind"] = form.get("kind", "")
        if data["kind"] not in dict((k[0], k[1]) for k in KINDS):
            errors["kind"] = ["Select what kind of event it is"]
    data["capacity"] = _capacity(form.get("capacity", ""), errors)
    if errors:
        raise Invalid("Some answers are missing or wrong.", errors)
    return data


def _capacity(text: str, errors: dict[str, list[str]]) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 10000:
        errors["capacity"] = [SAID["capacity"]]
        return None
    return int(text)


def session_details(form: Mapping[str, str]) -> dict:
    """A session's when and where from the form, as ``add_session``/``edit_session`` take it."""
    errors: dict[str, list[str]] = {}
    status = form.get("date_status", "")
    data: dict[str, Any] = {"date_status": status}
    if status not in dict(DATE_STATUSES):
        errors["date_status"] = ["Select whether the date is confirmed"]
    elif status == "confirmed":
        data["date"] = _or_error(errors, "date", lambda: form_date(form, "date", "the date of the session"))
    elif status == "month":
        data["month"] = _or_error(errors, "month", lambda: _month(form))
    start, end = (_or_error(errors, name, lambda name=name: time_of(form, name, f"the {name} time"))
                  for name in ("start", "end"))
    if (start is None) != (end is None) and not errors.keys() & {"start", "end"}:
        errors["end" if end is None else "start"] = ["Enter both the start and end times, or neither"]
    elif start and end and end <= start:
        errors["end"] = [SAID["end"]]
    data.update(start=start, end=end)
    data.update(_venue(form, errors))
    if errors:
        raise Invalid("Some answers are missing or wrong.", errors)
    return data


def _or_error(errors: dict[str, list[str]], name: str, read: Any) -> Any:
    try:
        return read()
    except Invalid as error:
        errors[name] = error.fields.get(name, [error.message])
        return None


def _month(form: Mapping[str, str]) -> str:
    month, year = (form.get(f"month-{part}", "").strip() for part in ("month", "year"))
    if not (month.isdigit() and year.isdigit() and 1 <= int(month) <= 12 and len(year) == 4):
        raise Invalid("No month", {"month": [SAID["month"]]})
    return f"{int(year):04d}-{int(month):02d}"


def time_of(form: Mapping[str, str], name: str, label: str) -> str | None:
    """A 24-hour time ("16:00", "9.30") as HH:MM; None if left empty."""
    text = form.get(name, "").strip().replace(" ", "")
    if not text:
        return None
    match = TIME.match(text)
    if not match:
        raise Invalid("Bad time", {name: [f"Enter {label} in 24-hour hours and minutes, like 16:00"]})
    return dt.time(int(match[1]), int(match[2])).isoformat("minutes")


def _venue(form: Mapping[str, str], errors: dict[str, list[str]]) -> dict:
    status = form.get("venue_status", "")
    venue, link = form.get("venue", "").strip(), form.get("joining_link", "").strip()
    if status not in dict(VENUE_STATUSES):
        errors["venue_status"] = ["Select where the session is"]
    elif status == "confirmed" and not venue:
        errors["venue"] = [SAID["venue"]]
    if status == "online" and link and not link.startswith("https://"):
        errors["joining_link"] = [SAID["joining_link"]]
    return {"venue_status": status, "venue": venue or None,
            "joining_link": link if status == "online" and link else None}


def friendly(error: Invalid | Conflict) -> dict[str, str]:
    """The service's refusal of a form: a conflict says itself; a malformed field is
    explained in the words of the form."""
    errors = field_errors(error)
    if isinstance(error, Invalid):
        errors = {field: SAID.get(field, message) for field, message in errors.items()}
    return errors


def session_values(session: dict) -> dict[str, str]:
    """A session as the form's fields, to change it."""
    values = {"date_status": session["date_status"], "venue_status": session.get("venue_status") or "tbc",
              "venue": session.get("venue") or "", "joining_link": session.get("joining_link") or "",
              "start": (session.get("start") or "")[:5], "end": (session.get("end") or "")[:5]}
    if session.get("date"):
        day = dt.date.fromisoformat(session["date"])
        values.update({"date-day": str(day.day), "date-month": str(day.month), "date-year": str(day.year)})
    if session.get("month"):
        year, month = session["month"].split("-")
        values.update({"month-month": str(int(month)), "month-year": year})
    return values


def event_values(event: dict) -> dict[str, str]:
    return {"title": event["title"], "description": event.get("description") or "",
            "runs_by": event.get("runs_by") or "", "audience": event.get("audience") or "",
            "capacity": str(event["capacity"]) if event.get("capacity") else "", "kind": event["kind"]}
