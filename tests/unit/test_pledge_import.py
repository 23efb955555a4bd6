"""A pledge signed before the school's records came into this system (issue 17, item 5): the
lead enters it from earlier records; it keeps its own day, lapses by it, and is told as an
import, so nobody is thanked for signing it again."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from services.pledges.contract import PLEDGES
from services.pledges.domain import PledgeStatus, School
from shared.errors import Conflict, Invalid

TODAY = dt.date(2027, 3, 1)
COVENTRY = ("slt", "governors")


def school() -> School:
    return School(urn="103712", name="Hill Primary", phase="primary", postcode="CV1 2AB",
                  coordinator={"name": "Ann", "email": "ann@example.org"}, actor="lead")


def imported(on: dt.date, s: School | None = None) -> School:
    s = s or school()
    s.import_pledge("Ms Head", "Head teacher", on, TODAY, 3, "account:lead")
    return s


def test_an_imported_pledge_keeps_its_day_and_lapses_by_it() -> None:
    s = imported(dt.date(2025, 1, 15))  # no interest or commitments here: they are in the old records
    assert s.signed == {"signed_by": "Ms Head", "role": "Head teacher", "signed_on": dt.date(2025, 1, 15),
                        "imported": True}
    assert s.lapses_on(3) == dt.date(2028, 1, 15)
    assert s.status(TODAY, 3, COVENTRY) == PledgeStatus.SIGNED
    assert s.status(dt.date(2028, 1, 15), 3, COVENTRY) == PledgeStatus.LAPSED


def test_a_pledge_imported_from_long_ago_has_lapsed_already() -> None:
    s = imported(dt.date(2023, 2, 28))
    assert s.lapses_on(3) == dt.date(2026, 2, 28)
    assert s.status(TODAY, 3, COVENTRY) == PledgeStatus.LAPSED


def test_a_pledge_signed_in_the_future_is_refused_naming_the_day() -> None:
    s = school()
    with pytest.raises(Invalid) as refused:
        s.import_pledge("Ms Head", "Head teacher", TODAY + dt.timedelta(days=1), TODAY, 3, "account:lead")
    assert "signed_on" in refused.value.fields
    assert s.signed is None and not s.collect_events()[1:]


def test_today_is_not_the_future() -> None:
    assert imported(TODAY).lapses_on(3) == dt.date(2030, 3, 1)


def test_a_school_with_a_pledge_recorded_cannot_import_another() -> None:
    s = imported(dt.date(2025, 1, 15))
    with pytest.raises(Conflict) as refused:
        s.import_pledge("Ms Head", "Head teacher", dt.date(2024, 1, 15), TODAY, 3, "account:lead")
    assert refused.value.field == "pledge"
    lapsed = imported(dt.date(2023, 2, 28))  # lapsed, but recorded: renew it instead
    with pytest.raises(Conflict):
        lapsed.import_pledge("Ms Head", "Head teacher", dt.date(2024, 1, 15), TODAY, 3, "account:lead")


def test_after_a_withdrawal_an_earlier_signature_may_be_imported() -> None:
    s = imported(dt.date(2024, 1, 15))
    s.withdraw_pledge("Closed for rebuilding", dt.date(2024, 6, 1), TODAY, "account:lead")
    imported(dt.date(2025, 9, 1), s)
    assert s.status(TODAY, 3, COVENTRY) == PledgeStatus.SIGNED and s.withdrawn is None


def test_a_pledge_signed_here_is_not_imported() -> None:
    s = school()
    s.express_interest(TODAY, TODAY, "lead")
    s.sign_pledge("Ms Head", "Head teacher", TODAY, TODAY, (), 3, "coordinator")
    assert s.signed["imported"] is False


# -- what is told (schema 3), and a signature stored before imports were recorded ----------------


def test_an_import_is_told_as_one() -> None:
    event = PLEDGES.envelope(imported(dt.date(2025, 1, 15)).collect_events()[-1], 2, "coventry")
    assert (event.type, event.schema_version) == ("PledgeSigned", 3)
    assert event.payload == {"urn": "103712", "role": "Head teacher",
                             "signed_on": "2025-01-15", "lapses_on": "2028-01-15", "imported": True}


def test_a_signature_stored_before_imports_were_recorded_reads_and_is_told_as_it_was() -> None:
    state: dict = {"urn": "103712", "lapses_on": dt.date(2028, 1, 15)}
    School.PledgeSigned.upcast_v2_v3(state)
    assert state["imported"] is None
    signed = dataclasses.replace(imported(dt.date(2025, 1, 15)).collect_events()[-1], imported=None)
    event = PLEDGES.envelope(signed, 2, "coventry")
    assert event.schema_version == 3 and "imported" not in event.payload
    s = None
    for e in [*school().collect_events(), signed]:
        s = e.mutate(s)
    assert s.signed["imported"] is False
