"""Time comes from a clock object so deadlines and lapses are testable."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


class Clock:
    """The real clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def today(self, tz: ZoneInfo = UK) -> dt.date:
        """Today's date where the authority is (UK local time by default)."""
        return self.now().astimezone(tz).date()


class FixedClock(Clock):
    """A clock that stands still until moved; for tests and demos."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)
