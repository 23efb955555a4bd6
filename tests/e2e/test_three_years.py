"""Three years on a rehearsal clock, over real HTTP (issue 17): a Coventry school pledges on
1 March 2027, is driven to its award on its visit's day (15 June 2027, the clock moved on),
and the rehearsal then moves on to 16 March 2030, a day into the award's three months of
renewal notice. At once (the renewals timer runs on starting) the award is marked due for
renewal on the rehearsal's day, and the coordinator's email saying so arrives in the mail
sink, dated that day; the pledge, signed three years before, has lapsed, so the school may not
apply until it renews. Restarting on a new clock, rather than waiting, keeps this quick."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from sanctuary.mail_sink import read_folder
from shared.clock import UK
from tests.e2e.conftest import E2ESystem, Person, rehearsal, wait_for
from tests.e2e.test_journey import (
    SPRING,
    SUMMER_2,
    People,
    app_path,
    to_final_agreed,
    visited_and_decided,
)

pytestmark = pytest.mark.e2e

URN = "690001"  # no other e2e test uses 69xxxx
COORDINATOR = f"ann@{URN}.example.org"  # as test_journey's pledge() registers the school
PLEDGED = dt.date(2027, 3, 1)
EXPIRES = dt.date(2030, 6, 15)  # three years after the award on the visit's day
NOTICE_DAY = dt.date(2030, 3, 16)  # the day after the renewal notice (three months) begins
RENEWAL = "Time to renew your School of Sanctuary status"
MAIL_TIMEOUT = 90.0


@pytest.fixture(scope="module")
def system(module_amqp_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    yield from rehearsal(module_amqp_uri, tmp_path_factory, SPRING)


@pytest.fixture(scope="module")
def people(system: E2ESystem) -> People:
    def member(handle: str, name: str) -> Person:
        return system.add_account(f"{handle}@three-years.e2e.example.org", name, [{"role": "panel_member"}])
    return People(system, member("ada", "Ada Member"), member("bo", "Bo Member"),
                  member("cy", "Cy Member"), member("di", "Di Outsider"))


def awarded(people: People) -> dict:
    """Pledged, a draft, feedback, the final submission, the final panel's award, the visit, the decision."""
    to_final_agreed(people, URN)
    return visited_and_decided(people, URN)


def renewal_mail(system: E2ESystem) -> list[EmailMessage]:
    return [m for m in read_folder(system.mail_dir) if m["To"] == COORDINATOR and m["Subject"] == RENEWAL]


def test_three_years_on_the_award_falls_due_for_renewal_and_the_pledge_lapses(people: People) -> None:
    system, lead, school = people.system, people.lead, people.school(URN)
    assert system.today() == PLEDGED
    view = awarded(people)
    assert system.today() == SUMMER_2
    assert view["award"] == {"awarded_on": SUMMER_2.isoformat(), "expires_on": EXPIRES.isoformat()}
    pledge = school.ok(school.get(f"/schools/{URN}"))["pledge"]
    assert (pledge["signed_on"], pledge["lapses_on"]) == (PLEDGED.isoformat(), "2030-03-01")
    assert renewal_mail(system) == []  # years before its notice

    system.move_clock(f"{NOTICE_DAY.isoformat()}T09:00")
    assert system.today() == NOTICE_DAY

    [message] = wait_for(lambda: renewal_mail(system), MAIL_TIMEOUT, f"{RENEWAL!r} to {COORDINATOR}")
    assert parsedate_to_datetime(message["Date"]).astimezone(UK).date() == NOTICE_DAY
    body = message.get_body(("plain",)).get_content()
    assert f"School {URN}'s award runs until Saturday 15 June 2030. Renew your pledge" in body
    award = lead.ok(lead.get(app_path(URN)))["award"]
    assert award["renewal_due_on"] == NOTICE_DAY.isoformat() and award["expires_on"] == EXPIRES.isoformat()

    # the pledge signed three years ago has lapsed: no new application until it is renewed
    assert school.ok(school.get(f"/schools/{URN}"))["status"] == "lapsed"
    standing = school.ok(school.get(f"/schools/{URN}/eligibility"))
    assert standing["may_apply"] is False and standing["pledged_on"] == PLEDGED.isoformat()
