"""The school-year advice and the month arithmetic behind it."""

from __future__ import annotations

import datetime as dt

import pytest

from services.applications.accreditation import add_months, school_year_advice


@pytest.mark.parametrize(("day", "months", "expected"), [
    (dt.date(2026, 9, 1), 12, dt.date(2027, 9, 1)),
    (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
    (dt.date(2027, 12, 15), 3, dt.date(2028, 3, 15)),
    (dt.date(2028, 2, 29), 12, dt.date(2029, 2, 28)),
    (dt.date(2026, 8, 31), 6, dt.date(2027, 2, 28)),
])
def test_add_months(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(day, months) == expected


def test_a_start_on_the_advised_day_or_later_is_not_warned() -> None:
    assert school_year_advice(dt.date(2026, 9, 1), dt.date(2027, 9, 1), 12) is None
    assert school_year_advice(dt.date(2026, 9, 1), dt.date(2028, 1, 1), 12) is None


def test_a_start_one_day_early_is_warned_with_the_dates() -> None:
    advice = school_year_advice(dt.date(2026, 9, 1), dt.date(2027, 8, 31), 12)
    assert advice is not None
    assert advice["advised_from"] == dt.date(2027, 9, 1)
    assert "may still apply" in advice["message"]


def test_no_advice_without_a_pledge_date_or_when_the_authority_gives_none() -> None:
    assert school_year_advice(None, dt.date(2027, 1, 1), 12) is None
    assert school_year_advice(dt.date(2026, 12, 1), dt.date(2027, 1, 1), 0) is None
