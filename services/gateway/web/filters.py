"""How pages say dates and times: UK style, UK time ("Friday 26 February 2027",
"3:30pm"), and how far away a deadline is in days. Template filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2

from shared.clock import UK, system_clock

CLOCK = system_clock()  # shifted only for a rehearsal


def as_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(UK).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value)
    if len(text) > 10:
        return as_datetime(text).date()
    return dt.date.fromisoformat(text)


def as_datetime(value: Any) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment.astimezone(UK) if moment.tzinfo else moment


def long_date(value: Any) -> str:
    """'Friday 26 February 2027': GOV.UK style, with the weekday people plan by."""
    day = as_date(value)
    return f"{day:%A} {day.day} {day:%B %Y}" if day else ""


def plain_date(value: Any) -> str:
    """'26 February 2027'."""
    day = as_date(value)
    return f"{day.day} {day:%B %Y}" if day else ""


def clock_time(value: Any) -> str:
    """'3:30pm', '9am', 'midday' in UK time."""
    if value in (None, ""):
        return ""
    moment = as_datetime(value) if not isinstance(value, dt.time) else value
    if (moment.hour, moment.minute) == (12, 0):
        return "midday"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def date_time(value: Any) -> str:
    """'Friday 26 February 2027 at 3:30pm' in UK time."""
    if value in (None, ""):
        return ""
    return f"{long_date(as_datetime(value))} at {clock_time(value)}"


def days_left(value: Any, today: dt.date | None = None) -> str:
    """How far away a date is, in whole days: '12 days left', 'today', '3 days ago'."""
    day = as_date(value)
    if day is None:
        return ""
    days = (day - (today or CLOCK.today())).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"{days} days left" if days > 0 else f"{-days} days ago"


def install(env: jinja2.Environment) -> None:
    env.filters.update(long_date=long_date, plain_date=plain_date, clock_time=clock_time,
                       date_time=date_time, days_left=days_left)
    env.globals.update(today=CLOCK.today)
