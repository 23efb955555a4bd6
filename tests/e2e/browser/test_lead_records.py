"""The lead's records in a browser (issue 17, items 5 and 7).

A pledge signed before the school's records came into the system: the lead records it on
the school's page, naming who signed and when. A day in the future, or no day, is refused
naming the field (422) and changes nothing; the day it was signed is kept, the pledge lapses
three years on from it, and the school is sent no thanks and no starter pack (only its
registration email). And what the authority's file marks as assumed is listed for the lead on
the "To confirm" page, linked from the cycle page."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from sanctuary.mail_sink import read_folder
from tests.e2e.browser.conftest import Visitor
from tests.e2e.conftest import Api, E2ESystem, wait_for

pytestmark = pytest.mark.e2e
SHARES_SYSTEM = True  # its URNs and addresses are its own, and it takes no cycle-wide step

URN = "680001"  # no other e2e test uses 68xxxx
COORDINATOR = f"iris@{URN}.example.org"
SIGNED = dt.date(2025, 1, 15)  # a Wednesday, before the records came in


def position(system: E2ESystem, service: str) -> int:
    return Api(system).health()[service]["position"]


def mail_subjects(system: E2ESystem) -> list[str]:
    return [m["Subject"] for m in read_folder(system.mail_dir) if m["To"] == COORDINATOR]


def fill_date(lead: Visitor, day: dt.date) -> None:
    for part, value in (("day", day.day), ("month", day.month), ("year", day.year)):
        lead.page.fill(f"#signed_on-{part}", str(value))


def test_the_lead_records_a_pledge_signed_before_and_nothing_is_sent(system: E2ESystem, visit) -> None:
    api = Api(system)
    api.ok(api.post("/schools", {"urn": URN, "name": f"Records Primary {URN}", "phase": "primary",
                                 "postcode": "CV1 5FB", "coordinator": {"name": "Iris Coordinator",
                                                                        "email": COORDINATOR}}), 201)
    wait_for(lambda: mail_subjects(system), 30, "the registration email")  # mail flows

    lead: Visitor = visit().sign_in_as(system.lead)
    lead.open(f"/lead/schools/{URN}")
    assert "Record a pledge signed before" in lead.text()
    before = position(system, "pledges")

    lead.click("Record the pledge", label="pledge import refused, nothing entered")
    assert lead.error_summary() == ["Enter the name of the person who signed the pledge", "Enter their role"]
    lead.fill("Name of the person who signed", "Hal Head")
    lead.fill("Their role", "Head teacher")
    lead.click("Record the pledge", label="pledge import refused, no day")
    assert lead.error_summary() == ["Enter the date it was signed"]
    lead.fill("Name of the person who signed", "Hal Head")
    lead.fill("Their role", "Head teacher")
    tomorrow = system.today() + dt.timedelta(days=1)
    fill_date(lead, tomorrow)
    lead.click("Record the pledge", label="pledge import refused, a day in the future")
    [error] = lead.error_summary()
    assert error == f"Must be on or before {system.today().isoformat()}."
    assert lead.page.locator("#signed_on-day").input_value() == str(tomorrow.day)  # as sent
    assert position(system, "pledges") == before  # every refusal changed nothing

    fill_date(lead, SIGNED)
    heard = position(system, "notifications")
    lead.click("Record the pledge")
    text = lead.text()
    assert "pledge, signed on 15 January 2025, is recorded. Nothing was sent to the school." in text
    assert "Hal Head (Head teacher), 15 January 2025 – entered from earlier records" in text
    assert "15 January 2028" in text  # lapses three years after it was signed
    assert "Record a pledge signed before" not in text  # one pledge at a time
    view = api.ok(api.get(f"/schools/{URN}"))
    assert (view["status"], view["pledge"]["imported"], view["pledge"]["lapses_on"]) == (
        "signed", True, "2028-01-15")

    # the notifications service hears it (its directory learns the day) and sends nothing for it
    wait_for(lambda: position(system, "notifications") > heard, 30, "notifications to hear the pledge")
    time.sleep(5)  # the sender runs every 2 seconds
    assert mail_subjects(system) == [f"Records Primary {URN} is registered for Schools of Sanctuary"]
    standing = wait_for(lambda: api.ok(api.get(f"/schools/{URN}/eligibility")), 30, "the standing")
    assert standing["pledged_on"] == SIGNED.isoformat()


def test_the_lead_sees_what_the_authority_s_file_assumes(system: E2ESystem, visit) -> None:
    lead: Visitor = visit().sign_in_as(system.lead)
    lead.open("/lead")
    assert "6 values in Coventry's settings are assumed" in lead.text()
    lead.click("see what is to confirm")
    assert lead.heading() == "To confirm"
    text = lead.text()
    for place, shown in (("cycles.2026-27.draft_deadline", "Thursday 25 March 2027"),
                         ("terms.2026-27", "autumn-1: Wednesday 2 September 2026 to Friday 23 October 2026"),
                         ("cycles.2026-27.feedback_by", "Wednesday 1 September 2027"),
                         ("criteria_sets.sos-2026", "learn-1: Training and expertise")):
        assert place in text and shown in text, place
    assert "Friday 25th March 2027" in text  # why it needs checking
    assert "delete its [[to_confirm]] entry" in text
