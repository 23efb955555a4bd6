"""Time comes from a clock object so deadlines and lapses are testable, and so a
deployment that is not production can rehearse the year on a shifted clock.

A rehearsal sets ``SANCTUARY_CLOCK_START`` (a local time, e.g. 2027-03-20T09:00,
UK time unless it carries an offset) from which time runs on, or
``SANCTUARY_CLOCK_OFFSET`` (e.g. ``+110d``, ``-3h30m``). Every service and timer
reads "now" and "today" through ``system_clock()``. Processes that must agree
share ``SANCTUARY_CLOCK_ANCHOR``: the real instant at which the clock read START
(``sanctuary up`` sets it for all it starts; without it, each process's own start).
Stored events keep their real timestamps: the record says when things happened.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from shared.secrets import production

UK = ZoneInfo("Europe/London")
START, OFFSET, ANCHOR = "SANCTUARY_CLOCK_START", "SANCTUARY_CLOCK_OFFSET", "SANCTUARY_CLOCK_ANCHOR"
_OFFSET = re.compile(r"([+-])?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")
_PROCESS_STARTED = dt.datetime.now(dt.UTC)  # the anchor when none is given


class Clock:
    """The real clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def today(self, tz: ZoneInfo = UK) -> dt.date:
        """Today's date where the authority is (UK local time by default)."""
        return self.now().astimezone(tz).date()

    @property
    def shifted(self) -> bool:
        return False


class FixedClock(Clock):
    """A clock that stands still until moved; for tests and demos."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


class ShiftedClock(Clock):
    """The real clock moved by ``offset``: time runs on, from wherever it was set to."""

    def __init__(self, offset: dt.timedelta) -> None:
        self.offset = offset

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    @property
    def shifted(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"ShiftedClock(offset={self.offset})"


def clock_from_env(env: Mapping[str, str]) -> Clock:
    """The clock a deployment's settings ask for; ValueError names a bad or forbidden setting."""
    start = env.get("SANCTUARY_CLOCK_START", "").strip()
    offset = env.get("SANCTUARY_CLOCK_OFFSET", "").strip()
    if not start and not offset:
        return Clock()
    name = START if start else OFFSET
    if production(dict(env)):
        raise ValueError(f"{name}: a shifted clock is for rehearsals and training; it is refused "
                         "when SANCTUARY_MODE=production")
    if start and offset:
        raise ValueError(f"set {START} or {OFFSET}, not both")
    if offset:
        return ShiftedClock(parse_offset(offset))
    given = env.get("SANCTUARY_CLOCK_ANCHOR", "").strip()
    anchor = _instant(given, ANCHOR) if given else _PROCESS_STARTED
    return ShiftedClock(_instant(start, START) - anchor)


def parse_offset(text: str) -> dt.timedelta:
    """``+110d``, ``-3h30m``, ``2d12h``: days, hours and minutes, in that order."""
    match = _OFFSET.fullmatch(text.strip())
    if not match or not any(match.group(2, 3, 4)):
        raise ValueError(f"{OFFSET}: {text!r} is not an offset; write e.g. +110d, -3h or 2d12h30m")
    days, hours, minutes = (int(part or 0) for part in match.group(2, 3, 4))
    delta = dt.timedelta(days=days, hours=hours, minutes=minutes)
    return -delta if match[1] == "-" else delta


def _instant(text: str, name: str) -> dt.datetime:
    """An ISO 8601 time; without an offset, UK local time."""
    try:
        at = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a time; write e.g. 2027-03-20T09:00") from None
    return (at if at.tzinfo else at.replace(tzinfo=UK)).astimezone(dt.UTC)


_system: Clock | None = None


def system_clock() -> Clock:
    """This process's clock, from its environment: the real one unless a rehearsal shifts it."""
    global _system  # one per process, made on first use
    if _system is None:
        _system = clock_from_env(os.environ)
    return _system
