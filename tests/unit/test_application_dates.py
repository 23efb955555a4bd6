"""Dates that make sense, in the AwardApplication aggregate: a visit on a school day, recorded
once its day has come; an extension past the stage's panel meeting only when the lead says they
know; a decision that waits for the visit where the authority says so. Each refusal is a 422
naming the field, and changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from services.applications.accreditation import AwardApplication, Deadline, Stage
from shared.authority import Authority
from shared.errors import Invalid
from tests.unit.refusals import refused
from tests.unit.test_accreditation import (
    DECIDED_ON,
    FINAL_DAY,
    all_met,
    decided,
    finalised,
    with_evidence,
)

VISIT_DAY = dt.date(2027, 6, 15)  # a Tuesday in Coventry's Summer 2
DRAFT_PANEL = dt.date(2027, 4, 20)
FINAL_PANEL = dt.date(2027, 6, 10)


def scheduled(on: dt.date = VISIT_DAY) -> AwardApplication:
    a = finalised()
    a.schedule_visit(on, "lead")
    return a


# -- a visit is recorded on or after its day ---------------------------------------------------


def test_a_visit_before_its_day_is_refused() -> None:
    a = scheduled()
    with refused(Invalid, "on", a) as caught:
        a.record_visit(VISIT_DAY - dt.timedelta(days=1), ["Head teacher"], "Too soon", "lead")
    assert caught.value.message.startswith("The visit is on Tuesday 15 June 2027: record it on or after")
    assert a.stage == Stage.VISIT_SCHEDULED and a.visit["recorded"] is False


@pytest.mark.parametrize("today", [VISIT_DAY, VISIT_DAY + dt.timedelta(days=3)])
def test_a_visit_on_or_after_its_day_is_recorded_for_its_day(today: dt.date) -> None:
    a = scheduled()
    a.record_visit(today, ["Head teacher"], "Pupils led the tour.", "lead")
    assert a.stage == Stage.VISITED and a.visit["on"] == VISIT_DAY and a.visit["recorded"] is True


# -- a visit is on a school day ----------------------------------------------------------------------


@pytest.mark.parametrize(("day", "why"), [
    (dt.date(2027, 6, 12), "a Saturday"),
    (dt.date(2027, 6, 13), "a Sunday"),
    (dt.date(2027, 5, 31), "Spring bank holiday"),
])
def test_a_visit_on_a_day_schools_are_closed_is_refused(coventry: Authority, day: dt.date, why: str) -> None:
    a = finalised()
    closed = coventry.not_a_school_day(day)
    assert closed == why
    with refused(Invalid, "on", a) as caught:
        a.schedule_visit(day, "lead", closed)
    assert caught.value.message == (f"{day:%A %-d %B %Y} is not a school day ({why}): "
                                    "a visit is on a school day.")
    assert a.visit is None and a.stage == Stage.FINAL_SUBMITTED


def test_a_visit_on_a_school_day_is_scheduled(coventry: Authority) -> None:
    a = finalised()
    a.schedule_visit(VISIT_DAY, "lead", coventry.not_a_school_day(VISIT_DAY))
    assert a.visit["on"] == VISIT_DAY and a.stage == Stage.VISIT_SCHEDULED


# -- an extension past the panel meeting, only knowingly -------------------------------------------


def test_an_extension_past_the_panel_meeting_needs_the_lead_to_say_they_know() -> None:
    a = with_evidence()
    until = DRAFT_PANEL + dt.timedelta(days=1)
    with refused(Invalid, "beyond_panel_meeting", a) as caught:
        a.grant_extension("draft", until, "Staff illness", "lead", DRAFT_PANEL)
    assert caught.value.message == (
        "The extension runs to Wednesday 21 April 2027, after the draft panel meets on Tuesday 20 April "
        "2027, so that panel will not see this submission. To grant it anyway, confirm that you know "
        "(beyond_panel_meeting: true).")
    assert set(caught.value.fields) == {"beyond_panel_meeting", "until"}
    assert a.extensions == {}

    a.grant_extension("draft", until, "Staff illness", "lead", DRAFT_PANEL, beyond_panel_meeting=True)
    assert a.extensions["draft"]["until"] == until
    assert a.extensions["draft"]["beyond_panel_meeting"] is True  # kept: the lead knew


@pytest.mark.parametrize("until", [DRAFT_PANEL - dt.timedelta(days=1), DRAFT_PANEL])
def test_an_extension_up_to_the_panel_meeting_needs_no_confirmation(until: dt.date) -> None:
    a = with_evidence()
    a.grant_extension("draft", until, "Staff illness", "lead", DRAFT_PANEL)
    assert a.extensions["draft"]["beyond_panel_meeting"] is False


def test_a_confirmation_is_not_recorded_when_the_extension_is_not_past_the_meeting() -> None:
    a = with_evidence()
    a.grant_extension("draft", DRAFT_PANEL, "Staff illness", "lead", DRAFT_PANEL, beyond_panel_meeting=True)
    assert a.extensions["draft"]["beyond_panel_meeting"] is False


def test_without_a_panel_date_any_extension_is_granted() -> None:
    a = with_evidence(has_draft=False)  # Lancashire: no panel dates
    a.grant_extension("final", dt.date(2031, 1, 1), "Ready next year", "lead", None)
    assert a.extensions["final"]["until"] == dt.date(2031, 1, 1)


def test_further_evidence_is_not_held_to_the_cycles_panel_meeting() -> None:
    a = decided("further_evidence")  # evidence due 16 July, after the final panel of 10 June
    a.grant_extension("final", dt.date(2027, 7, 30), "Summer fair week", "lead", FINAL_PANEL)
    assert a.extensions["final"]["beyond_panel_meeting"] is False


# -- the decision waits for the visit where the authority says so ----------------------------------


def test_a_decision_that_needs_a_visit_is_refused_without_one() -> None:
    a = finalised()
    with refused(Invalid, "visit", a) as caught:
        a.decide("awarded", "All met.", None, DECIDED_ON, "appraisal-2", ["amy"], "lead", visit_required=True)
    assert caught.value.message == ("The decision waits for the school's visit: schedule it, then record "
                                    "it once it has happened.")
    b = scheduled()
    with refused(Invalid, "visit", b) as caught:
        b.decide("awarded", "All met.", None, DECIDED_ON, "appraisal-2", ["amy"], "lead", visit_required=True)
    assert "it is scheduled for Tuesday 15 June 2027; record it once it has happened" in caught.value.message
    assert a.decision is None and b.decision is None


def test_a_decision_that_needs_a_visit_follows_the_recorded_visit() -> None:
    a = scheduled()
    a.record_visit(VISIT_DAY, ["Head teacher"], "Pupils led the tour.", "lead")
    a.decide("awarded", "All met.", None, DECIDED_ON, "appraisal-2", ["amy"], "lead", visit_required=True)
    assert a.stage == Stage.AWARDED


def test_a_stage_that_needs_no_visit_is_decided_without_one() -> None:
    a = finalised()
    a.decide("not_awarded", "Not yet.", None, DECIDED_ON, "appraisal-2", ["amy"], "lead",
             visit_required=False)
    assert a.stage == Stage.NOT_AWARDED


def test_a_resubmission_after_further_evidence_keeps_its_recorded_visit() -> None:
    a = decided("further_evidence")  # visited before the first decision
    a.add_evidence("e9", "share-8", "Letter from CRMC", "", None, "coordinator")
    a.submit("final", FINAL_DAY, Deadline("final", dt.date(2027, 7, 16)), "coordinator")
    a.release_feedback("final", all_met(), "Now met.", "appraisal-3", "lead")
    a.decide("awarded", "Now met.", None, DECIDED_ON, "appraisal-3", ["amy"], "lead", visit_required=True)
    assert a.stage == Stage.AWARDED
