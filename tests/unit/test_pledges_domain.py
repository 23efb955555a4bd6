"""The School aggregate in memory: the pledge journey and its invariants."""

from __future__ import annotations

import datetime as dt

import pytest

from services.pledges.domain import PledgeStatus, School, add_years
from shared.errors import Conflict, Invalid

TODAY = dt.date(2026, 11, 23)
COVENTRY = ("slt", "governors")


def school(urn: str = "103712") -> School:
    return School(urn=urn, name="Hill Primary", phase="primary", postcode="CV1 2AB",
                  coordinator={"name": "Ann", "email": "ann@example.org"}, actor="lead")


def committed() -> School:
    s = school()
    s.express_interest(TODAY, TODAY, "lead")
    s.record_commitment("slt", "Ms Head", "Head teacher", TODAY, TODAY, "lead")
    s.record_commitment("governors", "Mr Chair", "Chair", TODAY, TODAY, "lead")
    return s


def sign(s: School, on: dt.date = TODAY, today: dt.date = TODAY) -> None:
    s.sign_pledge("Ms Head", "Head teacher", on, today, COVENTRY, 3, "coordinator")


def status(s: School, today: dt.date = TODAY) -> str:
    return s.status(today, 3, COVENTRY)


def test_the_id_is_the_urn_so_a_second_registration_collides() -> None:
    assert school("103712").id == school("103712").id != school("103713").id


def test_the_journey_moves_through_each_status() -> None:
    s = school()
    assert status(s) == PledgeStatus.REGISTERED
    s.express_interest(TODAY, TODAY, "lead")
    assert status(s) == PledgeStatus.INTERESTED
    s.record_commitment("slt", "Ms Head", "Head teacher", TODAY, TODAY, "lead")
    assert status(s) == PledgeStatus.INTERESTED  # governors still to commit
    s.record_commitment("governors", "Mr Chair", "Chair", TODAY, TODAY, "lead")
    assert status(s) == PledgeStatus.COMMITTED
    sign(s)
    assert status(s) == PledgeStatus.SIGNED
    assert s.signed == {"signed_by": "Ms Head", "role": "Head teacher", "signed_on": TODAY, "imported": False}


def test_every_event_records_who_acted() -> None:
    s = committed()
    sign(s)
    events = s.collect_events()
    assert [e.actor for e in events] == ["lead", "lead", "lead", "lead", "coordinator"]


def test_a_second_signature_is_refused() -> None:
    s = committed()
    sign(s)
    with pytest.raises(Conflict) as refused:
        sign(s)
    assert refused.value.field == "pledge"


def test_signing_needs_every_commitment_the_authority_requires() -> None:
    s = school()
    s.express_interest(TODAY, TODAY, "lead")
    s.record_commitment("slt", "Ms Head", "Head teacher", TODAY, TODAY, "lead")
    with pytest.raises(Conflict, match="the governors"):
        sign(s)
    # Lancashire asks for the head teacher only
    s.record_commitment("head_teacher", "Ms Head", "Head teacher", TODAY, TODAY, "lead")
    s.sign_pledge("Ms Head", "Head teacher", TODAY, TODAY, ("head_teacher",), 3, "lead")
    assert s.status(TODAY, 3, ("head_teacher",)) == PledgeStatus.SIGNED


def test_signing_needs_interest_first() -> None:
    with pytest.raises(Conflict, match="interest"):
        sign(school())


def test_a_pledge_cannot_be_signed_in_the_future() -> None:
    with pytest.raises(Invalid) as refused:
        sign(committed(), on=TODAY + dt.timedelta(days=1))
    assert "signed_on" in refused.value.fields


def test_a_pledge_lapses_three_years_after_signing_unless_renewed() -> None:
    s = committed()
    sign(s)
    lapses = dt.date(2029, 11, 23)
    assert s.lapses_on(3) == lapses
    assert status(s, lapses - dt.timedelta(days=1)) == PledgeStatus.SIGNED
    assert status(s, lapses) == PledgeStatus.LAPSED
    renewal = dt.date(2029, 9, 1)
    s.renew_pledge("Ms Head", "Head teacher", renewal, renewal, 3, "lead")
    assert s.lapses_on(3) == dt.date(2032, 9, 1)
    assert status(s, lapses) == PledgeStatus.SIGNED


def test_a_lapsed_pledge_can_be_renewed() -> None:
    s = committed()
    sign(s)
    later = dt.date(2030, 1, 10)
    s.renew_pledge("Ms Head", "Head teacher", later, later, 3, "lead")
    assert status(s, later) == PledgeStatus.SIGNED


def test_a_renewal_must_follow_the_signature() -> None:
    s = committed()
    sign(s)
    with pytest.raises(Invalid) as refused:
        s.renew_pledge("Ms Head", "Head teacher", TODAY, TODAY, 3, "lead")
    assert "renewed_on" in refused.value.fields


def test_a_withdrawn_pledge_cannot_be_renewed_but_can_be_signed_afresh() -> None:
    s = committed()
    sign(s)
    s.withdraw_pledge("New head teacher", TODAY, TODAY, "lead")
    assert status(s) == PledgeStatus.WITHDRAWN
    later = TODAY + dt.timedelta(days=30)
    with pytest.raises(Conflict, match="withdrawn"):
        s.renew_pledge("Ms Head", "Head teacher", later, later, 3, "lead")
    with pytest.raises(Conflict, match="already withdrawn"):
        s.withdraw_pledge("again", later, later, "lead")
    sign(s, on=later, today=later)
    assert status(s, later) == PledgeStatus.SIGNED


def test_nothing_to_renew_or_withdraw_before_signing() -> None:
    s = committed()
    with pytest.raises(Conflict, match="no signed pledge"):
        s.renew_pledge("Ms Head", "Head teacher", TODAY, TODAY, 3, "lead")
    with pytest.raises(Conflict, match="no signed pledge"):
        s.withdraw_pledge("reason", TODAY, TODAY, "lead")


def test_newsletter_records_only_changes() -> None:
    s = school()
    assert s.set_newsletter(True, "coordinator") is True
    assert s.set_newsletter(True, "coordinator") is False
    assert s.set_newsletter(False, "coordinator") is True
    names = [type(e).__name__ for e in s.collect_events()]
    assert names == ["Registered", "NewsletterSubscribed", "NewsletterUnsubscribed"]


def test_an_unknown_commitment_body_is_refused() -> None:
    with pytest.raises(Invalid) as refused:
        school().record_commitment("parents", "Ms P", "Chair of PTA", TODAY, TODAY, "lead")
    assert "body" in refused.value.fields


def test_add_years_handles_leap_days() -> None:
    assert add_years(dt.date(2028, 2, 29), 3) == dt.date(2031, 2, 28)


def test_interest_and_commitments_cannot_be_dated_in_the_future() -> None:
    tomorrow = TODAY + dt.timedelta(days=1)
    s = school()
    with pytest.raises(Invalid) as refused:
        s.express_interest(tomorrow, TODAY, "lead")
    assert "on" in refused.value.fields
    s.express_interest(TODAY, TODAY, "lead")
    with pytest.raises(Invalid):
        s.record_commitment("slt", "Ms Head", "Head teacher", tomorrow, TODAY, "lead")
