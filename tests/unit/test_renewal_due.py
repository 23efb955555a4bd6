"""An award is marked for renewal once, three months before it expires."""

from __future__ import annotations

import datetime as dt

from services.applications.accreditation import AwardApplication, _months_before


def awarded(on: dt.date) -> AwardApplication:
    a = AwardApplication(urn="103712", school_name="Hill", school_year="2026-27",
                         criteria_version="v", criteria=["learn-1"], has_draft=False,
                         renewal_of=None, carried_actions=[], actor="account:x")
    a.award = {"awarded_on": on, "expires_on": on.replace(year=on.year + 3)}
    return a


def test_renewal_falls_due_three_months_before_expiry_once() -> None:
    a = awarded(dt.date(2027, 7, 1))
    assert a.renewal_due(dt.date(2030, 3, 31)) is False
    assert a.renewal_due(dt.date(2030, 4, 1)) is True
    assert a.renewal_due(dt.date(2030, 4, 2)) is False
    assert [type(e).__name__ for e in a.collect_events()][-1] == "RenewalDue"


def test_months_before_handles_short_months() -> None:
    assert _months_before(dt.date(2030, 5, 31), 3) == dt.date(2030, 2, 28)
    assert _months_before(dt.date(2030, 2, 15), 3) == dt.date(2029, 11, 15)
