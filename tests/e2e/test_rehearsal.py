"""A rehearsal over real HTTP: the whole system started on a shifted clock
(``SANCTUARY_CLOCK_START=2027-03-22T09:00``, from which time runs on), then moved on a
week, as a trainer walks a lead through the year. The shifted day takes effect in every
service that reads the time: the pledge is signed on the rehearsal's day (pledges); the
reminder of the draft deadline three days ahead goes out by itself, dated that day
(notifications' timer, the mail); a week on, the school that has not submitted is late on
the cycle overview and on the lead's page (applications, gateway), its draft is refused as
late, and an extension lets it in (under extension, on the rehearsal's day)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
import requests

from sanctuary.mail_sink import read_folder
from shared.clock import UK
from tests.e2e.conftest import Api, E2ESystem, rehearsal, wait_for

pytestmark = pytest.mark.e2e

START = "2027-03-22T09:00"  # a Monday, three days before Coventry's draft deadline
FIRST_DAY = dt.date(2027, 3, 22)
WEEK_ON = "2027-03-29T09:00"  # four days after the deadline
LATE_DAY = dt.date(2027, 3, 29)
YEAR = "2026-27"
URN = "670001"  # no other e2e test uses 6700xx
NAME = f"Rehearsal Primary {URN}"
COORDINATOR = f"rita@{URN}.example.org"
APP = f"/schools/{URN}/applications/{YEAR}"
MAIL_TIMEOUT = 120.0  # the reminders timer runs every minute


@pytest.fixture(scope="module")
def system(module_amqp_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    yield from rehearsal(module_amqp_uri, tmp_path_factory, START)


def mail_to(system: E2ESystem, subject: str) -> EmailMessage:
    def probe() -> EmailMessage | None:
        return next((m for m in read_folder(system.mail_dir)
                     if m["To"] == COORDINATOR and subject in " ".join(m["Subject"].split())), None)
    return wait_for(probe, MAIL_TIMEOUT, f"{subject!r} to {COORDINATOR} in {system.mail_dir}")


def dated(message: EmailMessage) -> dt.date:
    return parsedate_to_datetime(message["Date"]).astimezone(UK).date()


def lead_page(system: E2ESystem) -> str:
    """The lead's cycle page, with the lead's API token as the page's credential."""
    response = requests.get(f"{system.base_url}/lead", cookies={"sanctuary_session": system.lead.token},
                            timeout=20)
    assert response.status_code == 200, response.text
    return response.text


def test_a_rehearsal_walks_the_year_on_a_shifted_clock(system: E2ESystem) -> None:
    assert system.clock.shifted and system.today() == FIRST_DAY
    lead, school = Api(system), Api(system, system.coordinator(URN))

    # the pledge, signed on the rehearsal's day
    lead.ok(lead.post("/schools", {"urn": URN, "name": NAME, "phase": "primary", "postcode": "CV1 5FB",
                                   "coordinator": {"name": "Rita Reyes", "email": COORDINATOR}}), 201)
    school.ok(school.post(f"/schools/{URN}/interest", {}))
    for body, who in (("slt", "Deputy head"), ("governors", "Chair of governors")):
        school.ok(school.post(f"/schools/{URN}/commitments", {"body": body, "given_by": who, "role": who}))
    signed = school.ok(school.post(f"/schools/{URN}/pledge",
                                   {"signed_by": "Hal Head", "role": "Head teacher"}))
    assert signed["pledge"]["signed_on"] == FIRST_DAY.isoformat()
    assert signed["pledge"]["lapses_on"] == "2030-03-22"  # three years on from the rehearsal's day

    def eligible() -> bool:
        response = school.get(f"/schools/{URN}/eligibility")
        return response.status_code == 200 and response.json()["may_apply"]
    wait_for(eligible, 30, "the applications service to let the school apply")
    view = school.ok(school.post(f"/schools/{URN}/applications", {"school_year": YEAR}), 201)
    assert (view["next_submission"], view["deadline"]) == ("draft", "2027-03-25")
    school.ok(school.post(f"{APP}/evidence", {"criterion": "learn-1", "title": "Training log"}), 201)

    # the reminder timer sees the deadline three days ahead, by the rehearsal's clock
    reminder = mail_to(system, "3 days to the draft deadline")
    assert "due by Thursday 25 March 2027, 3 days from now" in reminder.get_body(("plain",)).get_content()
    assert dated(reminder) == FIRST_DAY
    overview = lead.ok(lead.get(f"/cycles/{YEAR}"))
    assert overview["today"] == FIRST_DAY.isoformat()
    assert [(r["urn"], r["late"]) for r in overview["applications"]] == [(URN, False)]
    assert "Today is Monday 22 March 2027." in lead_page(system)

    # a week on: the school is late, everywhere the lead looks, and its draft is refused
    system.move_clock(WEEK_ON)
    assert system.today() == LATE_DAY
    overview = lead.ok(lead.get(f"/cycles/{YEAR}"))
    assert overview["today"] == LATE_DAY.isoformat()
    assert [(r["urn"], r["late"], r["deadline"]) for r in overview["applications"]] == [
        (URN, True, "2027-03-25")]
    page = lead_page(system)
    assert "Today is Monday 29 March 2027." in page
    assert f"{NAME}</a>: draft application was due Thursday 25 March 2027" in page
    refused = school.post(f"{APP}/submissions", {"stage": "draft"})
    assert refused.status_code == 409 and "Thursday 25 March 2027" in refused.json()["message"]

    # an extension (before the draft panel meets) lets it in, under extension, on the rehearsal's day
    lead.ok(lead.post(f"{APP}/extensions",
                      {"stage": "draft", "until": "2027-04-02", "reason": "Staff illness"}))
    submitted = school.ok(school.post(f"{APP}/submissions", {"stage": "draft"}))
    assert [(s["on"], s["under_extension"]) for s in submitted["submissions"]] == [
        (LATE_DAY.isoformat(), True)]
