"""The AwardApplication aggregate in memory: every rule of the journey, allowed and refused."""

from __future__ import annotations

import datetime as dt

import pytest

from services.applications.accreditation import (
    AUDIT_STATUSES,
    AwardApplication,
    Deadline,
    Stage,
    add_years,
)
from shared.errors import Conflict, Invalid
from shared.personal import Personal, reveal, subject_for_name
from tests.unit.refusals import refused

CRITERIA = ["learn-1", "learn-2", "embed-3", "embed-4", "embed-5", "share-6", "share-7", "share-8"]
DRAFT_DAY = dt.date(2027, 3, 25)  # Coventry 2026-27, a Thursday
FINAL_DAY = dt.date(2027, 5, 28)  # a Friday
DRAFT = Deadline("draft", DRAFT_DAY)
FINAL = Deadline("final", FINAL_DAY)
DECIDED_ON = dt.date(2027, 7, 1)


def application(has_draft: bool = True, carried: list[dict] | None = None) -> AwardApplication:
    return AwardApplication(
        urn="103712", school_name="Hill Primary", school_year="2026-27", criteria_version="sos-2026",
        criteria=CRITERIA, has_draft=has_draft, renewal_of=None, carried_actions=carried or [],
        actor="coordinator")


def with_evidence(has_draft: bool = True) -> AwardApplication:
    a = application(has_draft)
    for number, code in enumerate(CRITERIA, 1):
        a.add_evidence(f"e{number}", code, f"Evidence for {code}", "", None, "coordinator")
    return a


def all_met(comment: str = "Well evidenced.") -> dict[str, dict]:
    return {code: {"outcome": "met", "comment": comment} for code in CRITERIA}


def drafted() -> AwardApplication:
    a = with_evidence()
    a.submit("draft", DRAFT_DAY, DRAFT, "coordinator")
    return a


def with_feedback() -> AwardApplication:
    a = drafted()
    a.release_feedback("draft", all_met(), "A strong draft.", "appraisal-1", "lead")
    return a


def finalised() -> AwardApplication:
    a = with_feedback()
    a.submit("final", FINAL_DAY, FINAL, "coordinator")
    return a


def visited() -> AwardApplication:
    a = finalised()
    a.schedule_visit(dt.date(2027, 6, 15), "lead")
    a.record_visit(dt.date(2027, 6, 15), ["amy", "ben"], "Met the school council.", "lead")
    return a


def decided(outcome: str = "awarded", on: dt.date = DECIDED_ON) -> AwardApplication:
    a = visited()
    due = dt.date(2027, 7, 16) if outcome == "further_evidence" else None
    a.decide(outcome, "The panel's reasons.", due, on, "appraisal-2", ["amy", "ben", "cat"], "lead")
    return a


# -- starting -------------------------------------------------------------------------


def test_one_application_per_school_and_year() -> None:
    assert AwardApplication.create_id("103712", "2026-27") == AwardApplication.create_id("103712", "2026-27")
    assert AwardApplication.create_id("103712", "2026-27") != AwardApplication.create_id("103712", "2027-28")
    assert AwardApplication.create_id("103712", "2026-27") != AwardApplication.create_id("103713", "2026-27")


def test_a_new_application_lacks_everything() -> None:
    a = application()
    assert a.stage == Stage.STARTED
    assert a.next_submission() == "draft"
    assert a.audit["learn-1"] == {"status": "not_started", "practice": "", "next_steps": ""}
    assert a.missing() == {code: ["audit status is not started", "no evidence yet"] for code in CRITERIA}
    assert a.actions == {} and a.submissions == [] and a.decision is None and a.award is None


def test_every_event_records_who_acted() -> None:
    a = application()
    a.record_audit("learn-1", "met", "Whole-staff training", "", "coordinator")
    a.grant_extension("draft", dt.date(2027, 4, 2), "Staff illness", "lead")
    assert [(type(e).__name__, e.actor) for e in a.collect_events()] == [
        ("Started", "coordinator"), ("AuditRecorded", "coordinator"), ("ExtensionGranted", "lead")]


# -- audit, evidence, actions ---------------------------------------------------------------


@pytest.mark.parametrize("status", AUDIT_STATUSES)
def test_each_audit_status_is_accepted(status: str) -> None:
    a = application()
    a.record_audit("embed-4", status, "Assemblies in Refugee Week", "Invite a speaker", "coordinator")
    assert a.audit["embed-4"] == {"status": status, "practice": "Assemblies in Refugee Week",
                                  "next_steps": "Invite a speaker"}


def test_an_unknown_audit_status_is_invalid() -> None:
    a = application()
    with refused(Invalid, "status", a) as caught:
        a.record_audit("learn-1", "done", "", "", "coordinator")
    assert set(caught.value.fields) == {"status"}


def test_an_unknown_criterion_is_invalid_everywhere() -> None:
    a = application()
    with refused(Invalid, "criterion", a):
        a.record_audit("learn-9", "met", "", "", "coordinator")
    with refused(Invalid, "criterion", a):
        a.add_evidence("e1", "learn-9", "Photos", "", None, "coordinator")
    with refused(Invalid, "criterion", a):
        a.plan_action("x1", "learn-9", "Train governors", "Head", None, "planned", "coordinator")


def test_a_met_audit_and_evidence_close_a_criterions_gap() -> None:
    a = application()
    a.record_audit("learn-1", "developing", "", "", "coordinator")
    assert a.missing()["learn-1"] == ["audit status is developing", "no evidence yet"]
    a.add_evidence("e1", "learn-1", "Training log", "INSET day", "https://example.org/log", "coordinator")
    assert a.missing()["learn-1"] == ["audit status is developing"]
    a.record_audit("learn-1", "met", "", "", "coordinator")
    assert "learn-1" not in a.missing()
    assert len(a.missing()) == len(CRITERIA) - 1


def test_evidence_is_added_once_and_withdrawn_once() -> None:
    a = application()
    a.add_evidence("e1", "learn-2", "Geography unit", "Year 5", None, "coordinator")
    assert a.evidence["e1"] == {"criterion": "learn-2", "title": "Geography unit", "detail": "Year 5",
                                "link": None, "added_at_stage": "started", "withdrawn": False,
                                "files": [], "all_files": []}
    with refused(Conflict, "evidence", a):
        a.add_evidence("e1", "learn-2", "Again", "", None, "coordinator")
    a.withdraw_evidence("e1", "coordinator")
    assert a.evidence["e1"]["withdrawn"] is True
    assert a.missing()["learn-2"][-1] == "no evidence yet"
    with refused(Conflict, "evidence", a):
        a.withdraw_evidence("e1", "coordinator")
    with refused(Conflict, "evidence", a):
        a.withdraw_evidence("nope", "coordinator")


def test_a_submission_freezes_its_evidence_list() -> None:
    a = with_evidence()
    a.submit("draft", DRAFT_DAY, DRAFT, "coordinator")
    a.withdraw_evidence("e1", "coordinator")
    a.withdraw_evidence("e2", "coordinator")
    assert a.submissions[0]["evidence"] == sorted(f"e{n}" for n in range(1, 9))
    a.release_feedback("draft", all_met(), "", "appraisal-1", "lead")
    a.add_evidence("e9", "learn-1", "New training log", "", None, "coordinator")
    assert a.evidence["e9"]["added_at_stage"] == Stage.DRAFT_FEEDBACK
    a.submit("final", FINAL_DAY, FINAL, "coordinator")
    assert a.submissions[1]["evidence"] == sorted(["e3", "e4", "e5", "e6", "e7", "e8", "e9"])
    assert a.submissions[0]["evidence"] == sorted(f"e{n}" for n in range(1, 9))
    assert [s["version"] for s in a.submissions] == [1, 2]


def test_nothing_to_submit_without_live_evidence() -> None:
    a = application()
    with refused(Conflict, "evidence", a):
        a.submit("draft", DRAFT_DAY, DRAFT, "coordinator")
    a.add_evidence("e1", "learn-1", "Log", "", None, "coordinator")
    a.withdraw_evidence("e1", "coordinator")
    with refused(Conflict, "evidence", a):
        a.submit("draft", DRAFT_DAY, DRAFT, "coordinator")


def test_actions_are_planned_updated_and_carried() -> None:
    carried = [{"id": "old", "criterion": "share-8", "action": "Visit CRMC", "owner": "Ms Head",
                "target_date": dt.date(2027, 6, 1), "status": "done"}]
    a = application(carried=carried)
    assert a.actions == {"old": carried[0]}
    a.plan_action("x1", "embed-4", "Plan Refugee Week", "Mr Art", dt.date(2027, 6, 14), "planned",
                  "coordinator")
    a.plan_action("x1", "embed-4", "Plan Refugee Week", "Mr Art", dt.date(2027, 6, 14), "in_progress",
                  "coordinator")
    assert a.actions["x1"]["status"] == "in_progress"
    assert len(a.actions) == 2
    owner = a.actions["x1"]["owner"]  # a person's name: personal, erased with them
    assert owner == Personal(subject_for_name("103712", "Mr Art"), "Mr Art")
    assert reveal(a.actions)["x1"]["owner"] == "Mr Art"
    with refused(Invalid, "status", a):
        a.plan_action("x2", "embed-4", "Assembly", "Mr Art", None, "someday", "coordinator")


# -- deadlines and extensions ------------------------------------------------------------


def test_on_the_deadline_day_is_in_time() -> None:
    a = with_evidence()
    a.submit("draft", DRAFT_DAY, DRAFT, "coordinator")
    assert a.stage == Stage.DRAFT_SUBMITTED
    assert a.submissions[0]["on"] == DRAFT_DAY
    assert a.submissions[0]["under_extension"] is False
    assert a.submissions[0]["by"] == "coordinator"


def test_the_day_after_is_late_and_the_message_names_the_date_and_weekday() -> None:
    a = with_evidence()
    with refused(Conflict, "deadline", a) as caught:
        a.submit("draft", DRAFT_DAY + dt.timedelta(days=1), DRAFT, "coordinator")
    assert "Thursday 25 March 2027" in caught.value.message
    assert "extension" in caught.value.message
    assert a.stage == Stage.STARTED and a.submissions == []


def test_an_extension_covers_up_to_its_date_inclusive() -> None:
    until = dt.date(2027, 4, 2)
    a = with_evidence()
    a.grant_extension("draft", until, "Staff illness", "lead")
    assert reveal(a.extensions) == {"draft": {"until": until, "reason": "Staff illness", "granted_by": "lead",
                                              "beyond_panel_meeting": False}}
    assert a.extensions["draft"]["reason"].subject == subject_for_name("103712", "free text")
    a.submit("draft", until, DRAFT, "coordinator")
    assert a.submissions[0]["under_extension"] is True

    b = with_evidence()
    b.grant_extension("draft", until, "Staff illness", "lead")
    with refused(Conflict, "deadline", b) as caught:
        b.submit("draft", until + dt.timedelta(days=1), DRAFT, "coordinator")
    assert "Thursday 25 March 2027" in caught.value.message


def test_in_time_with_an_extension_is_not_under_extension() -> None:
    a = with_evidence()
    a.grant_extension("draft", dt.date(2027, 4, 2), "Just in case", "lead")
    a.submit("draft", DRAFT_DAY, DRAFT, "coordinator")
    assert a.submissions[0]["under_extension"] is False


def test_an_extension_of_one_stage_does_not_cover_another() -> None:
    a = with_feedback()
    a.grant_extension("draft", dt.date(2027, 12, 31), "Old news", "lead")
    with refused(Conflict, "deadline", a) as caught:
        a.submit("final", FINAL_DAY + dt.timedelta(days=1), FINAL, "coordinator")
    assert "Friday 28 May 2027" in caught.value.message


def test_no_deadline_means_apply_when_ready() -> None:
    a = with_evidence(has_draft=False)
    a.submit("final", dt.date(2031, 1, 1), Deadline("final", None), "coordinator")
    assert a.stage == Stage.FINAL_SUBMITTED
    assert a.submissions[0]["under_extension"] is False


def test_only_a_submission_still_due_can_be_extended() -> None:
    a = application()
    with refused(Invalid, "stage", a):
        a.grant_extension("visit", dt.date(2027, 4, 2), "", "lead")
    final_only = application(has_draft=False)
    with refused(Invalid, "stage", final_only) as caught:
        final_only.grant_extension("draft", dt.date(2027, 4, 2), "", "lead")
    assert caught.value.fields == {"stage": ["Must be one of ['final']."]}
    final_only.grant_extension("final", dt.date(2027, 6, 4), "Ofsted week", "lead")
    assert final_only.extensions["final"]["until"] == dt.date(2027, 6, 4)


# -- the order of submissions -----------------------------------------------------------------


def test_next_submission_with_a_draft_stage() -> None:
    a = with_evidence()
    assert a.stages_due() == ["draft", "final"]
    assert a.next_submission() == "draft"
    with refused(Conflict, "stage", a) as caught:
        a.submit("final", DRAFT_DAY, FINAL, "coordinator")
    assert caught.value.message == "The next submission is the draft application."
    a.submit("draft", DRAFT_DAY, DRAFT, "coordinator")
    assert a.next_submission() is None
    a.release_feedback("draft", all_met(), "", "appraisal-1", "lead")
    assert a.next_submission() == "final"
    a.submit("final", FINAL_DAY, FINAL, "coordinator")
    assert a.next_submission() is None


def test_next_submission_without_a_draft_stage() -> None:
    a = with_evidence(has_draft=False)
    assert a.stages_due() == ["final"]
    assert a.next_submission() == "final"
    with refused(Conflict, "stage", a):
        a.submit("draft", DRAFT_DAY, Deadline("draft", None), "coordinator")
    a.submit("final", FINAL_DAY, Deadline("final", None), "coordinator")
    assert a.stage == Stage.FINAL_SUBMITTED
    assert a.next_submission() is None


def test_submitting_twice_is_refused() -> None:
    a = drafted()
    with refused(Conflict, "stage", a) as caught:
        a.submit("draft", DRAFT_DAY, DRAFT, "coordinator")
    assert "draft_submitted" in caught.value.message
    b = finalised()
    with refused(Conflict, "stage", b):
        b.submit("final", FINAL_DAY, FINAL, "coordinator")


# -- feedback ----------------------------------------------------------------------------


def test_feedback_needs_a_submission_awaiting_it() -> None:
    a = with_evidence()
    with refused(Conflict, "stage", a):
        a.release_feedback("draft", all_met(), "", "appraisal-1", "lead")
    with refused(Conflict, "stage", a):
        a.release_feedback("final", all_met(), "", "appraisal-1", "lead")
    b = drafted()
    with refused(Conflict, "stage", b):
        b.release_feedback("final", all_met(), "", "appraisal-1", "lead")


def test_feedback_needs_every_criterion() -> None:
    a = drafted()
    partial = all_met()
    del partial["share-8"]
    with refused(Invalid, "criteria", a) as caught:
        a.release_feedback("draft", partial, "", "appraisal-1", "lead")
    assert "share-8" in caught.value.fields["criteria"][0]


@pytest.mark.parametrize("judged", [
    {"outcome": "met", "comment": ""},
    {"outcome": "met"},
    {"outcome": "excellent", "comment": "Great"},
    {"comment": "No outcome"},
])
def test_feedback_needs_an_outcome_and_a_comment_for_each_criterion(judged: dict) -> None:
    a = drafted()
    with refused(Invalid, "criteria.embed-5", a):
        a.release_feedback("draft", {**all_met(), "embed-5": judged}, "", "appraisal-1", "lead")


def test_feedback_on_an_unknown_criterion_is_invalid() -> None:
    a = drafted()
    with refused(Invalid, "criterion", a):
        a.release_feedback("draft", {**all_met(), "learn-9": {"outcome": "met", "comment": "?"}}, "",
                           "appraisal-1", "lead")


def test_draft_feedback_is_released_once_and_shows_in_what_is_missing() -> None:
    a = drafted()
    for code in CRITERIA:
        a.record_audit(code, "met", "", "", "coordinator")
    assert a.missing() == {}
    feedback = {**all_met(), "learn-2": {"outcome": "not_yet_met", "comment": "Only one subject."}}
    a.release_feedback("draft", feedback, "Nearly there.", "appraisal-1", "lead")
    assert a.stage == Stage.DRAFT_FEEDBACK
    assert a.feedback == {"draft": {"criteria": feedback, "summary": "Nearly there.",
                                    "appraisal": "appraisal-1"}}
    assert a.missing() == {"learn-2": ["the panel found it not yet met"]}
    with refused(Conflict, "stage", a):
        a.release_feedback("draft", all_met(), "", "appraisal-1", "lead")
    a.submit("final", FINAL_DAY, FINAL, "coordinator")
    a.release_feedback("final", all_met(), "All met.", "appraisal-2", "lead")
    assert a.stage == Stage.FINAL_SUBMITTED  # final feedback does not move the stage
    assert a.missing() == {}  # the latest feedback counts


# -- visit ---------------------------------------------------------------------------------


def test_a_visit_follows_the_final_submission() -> None:
    a = with_feedback()
    with refused(Conflict, "stage", a):
        a.schedule_visit(dt.date(2027, 6, 15), "lead")
    with refused(Conflict, "stage", a):
        a.record_visit(dt.date(2027, 6, 15), [], "", "lead")


def test_a_visit_is_scheduled_rescheduled_then_recorded() -> None:
    a = finalised()
    with refused(Conflict, "stage", a):
        a.record_visit(dt.date(2027, 6, 15), [], "", "lead")
    a.schedule_visit(dt.date(2027, 6, 15), "lead")
    assert a.stage == Stage.VISIT_SCHEDULED
    a.schedule_visit(dt.date(2027, 6, 17), "lead")
    assert a.visit == {"on": dt.date(2027, 6, 17), "attendees": [], "notes": "", "recorded": False}
    a.record_visit(dt.date(2027, 6, 18), ["amy", "ben"], "Pupils led the tour.", "lead")  # a day later
    assert a.stage == Stage.VISITED
    assert reveal(a.visit) == {"on": dt.date(2027, 6, 17), "attendees": ["amy", "ben"],
                               "notes": "Pupils led the tour.", "recorded": True}
    assert [p.subject for p in a.visit["attendees"]] == [subject_for_name("103712", n)
                                                        for n in ("amy", "ben")]
    with refused(Conflict, "stage", a):
        a.record_visit(dt.date(2027, 6, 17), [], "", "lead")
    with refused(Conflict, "stage", a):
        a.schedule_visit(dt.date(2027, 6, 20), "lead")


# -- decision ----------------------------------------------------------------------------------


def test_a_decision_follows_the_final_submission() -> None:
    for a in (application(), drafted(), with_feedback()):
        with refused(Conflict, "stage", a):
            a.decide("awarded", "", None, DECIDED_ON, "appraisal-2", ["amy"], "lead")


@pytest.mark.parametrize("make", [finalised, visited])
def test_a_decision_may_follow_the_final_with_or_without_a_visit(make) -> None:
    a = make()
    a.decide("not_awarded", "Not this cycle.", None, DECIDED_ON, "appraisal-2", ["amy"], "lead")
    assert a.stage == Stage.NOT_AWARDED
    assert a.award is None


def test_an_unknown_decision_is_invalid() -> None:
    a = visited()
    with refused(Invalid, "outcome", a):
        a.decide("commended", "", None, DECIDED_ON, "appraisal-2", ["amy"], "lead")


def test_further_evidence_needs_a_date_and_only_then() -> None:
    a = visited()
    with refused(Invalid, "evidence_due", a):
        a.decide("further_evidence", "", None, DECIDED_ON, "appraisal-2", ["amy"], "lead")
    for outcome in ("awarded", "not_awarded"):
        with refused(Invalid, "evidence_due", a):
            a.decide(outcome, "", dt.date(2027, 7, 16), DECIDED_ON, "appraisal-2", ["amy"], "lead")


def test_further_evidence_reopens_the_final_submission() -> None:
    a = decided("further_evidence")
    assert a.stage == Stage.FURTHER_EVIDENCE
    assert a.decision["evidence_due"] == dt.date(2027, 7, 16)
    assert a.award is None
    assert a.next_submission() == "final"
    a.add_evidence("e9", "share-8", "Letter from CRMC", "", None, "coordinator")
    a.submit("final", dt.date(2027, 7, 16), Deadline("final", dt.date(2027, 7, 16)), "coordinator")
    assert a.stage == Stage.FINAL_SUBMITTED
    assert a.submissions[-1]["version"] == 3
    assert "e9" in a.submissions[-1]["evidence"]


def test_an_award_lasts_three_years_and_names_the_panel() -> None:
    a = decided("awarded")
    assert a.stage == Stage.AWARDED
    assert a.award == {"awarded_on": DECIDED_ON, "expires_on": dt.date(2030, 7, 1)}
    assert a.decision == {"outcome": "awarded", "reasons": "The panel's reasons.", "evidence_due": None,
                          "on": DECIDED_ON, "appraisal": "appraisal-2",
                          "panel_members": ["amy", "ben", "cat"], "by": "lead"}
    assert a.next_submission() is None


def test_an_award_on_29_february_expires_on_28_february() -> None:
    a = decided("awarded", on=dt.date(2028, 2, 29))
    assert a.award["expires_on"] == dt.date(2031, 2, 28)
    assert add_years(dt.date(2028, 2, 29), 4) == dt.date(2032, 2, 29)
    assert add_years(dt.date(2027, 3, 1), 3) == dt.date(2030, 3, 1)


def test_the_award_length_is_a_parameter() -> None:
    a = visited()
    a.decide("awarded", "", None, DECIDED_ON, "appraisal-2", ["amy"], "lead", award_years=2)
    assert a.award["expires_on"] == dt.date(2029, 7, 1)


@pytest.mark.parametrize("outcome", ["awarded", "not_awarded"])
def test_final_feedback_may_follow_the_decision(outcome: str) -> None:
    """Coventry gives feedback by the start of Autumn 1, after the June decision."""
    a = decided(outcome)
    a.release_feedback("final", all_met(), "Well done", "appraisal-2", "lead")
    assert a.feedback["final"]["summary"] == "Well done"
    assert a.stage == {"awarded": "awarded", "not_awarded": "not_awarded"}[outcome]


@pytest.mark.parametrize("outcome", ["awarded", "not_awarded"])
def test_a_closed_application_refuses_every_change(outcome: str) -> None:
    a = decided(outcome)
    day = dt.date(2027, 7, 2)
    with refused(Conflict, "stage", a):
        a.record_audit("learn-1", "met", "", "", "coordinator")
    with refused(Conflict, "stage", a):
        a.add_evidence("e9", "learn-1", "Late", "", None, "coordinator")
    with refused(Conflict, "stage", a):
        a.withdraw_evidence("e1", "coordinator")
    with refused(Conflict, "stage", a):
        a.plan_action("x1", "learn-1", "More", "Head", None, "planned", "coordinator")
    with refused(Conflict, "stage", a):
        a.grant_extension("final", day, "", "lead")
    with refused(Conflict, "stage", a):
        a.submit("final", day, FINAL, "coordinator")
    with refused(Conflict, "stage", a):
        a.schedule_visit(day, "lead")
    with refused(Conflict, "stage", a):
        a.record_visit(day, [], "", "lead")
    with refused(Conflict, "stage", a):
        a.decide("awarded", "", None, day, "appraisal-2", ["amy"], "lead")
    with refused(Conflict, "stage", a):
        a.withdraw("Changed our mind", "coordinator")


# -- withdrawal --------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [application, drafted, finalised])
def test_an_open_application_can_be_withdrawn_once(make) -> None:
    a = make()
    a.withdraw("New head teacher", "coordinator", dt.date(2027, 5, 4))
    assert a.stage == Stage.WITHDRAWN
    assert reveal(a.withdrawal) == {"reason": "New head teacher", "by": "coordinator",
                                    "on": dt.date(2027, 5, 4)}
    assert isinstance(a.withdrawal["reason"], Personal)
    assert a.next_submission() is None
    with refused(Conflict, "stage", a) as caught:
        a.withdraw("Again", "coordinator")
    assert caught.value.message == "The application is withdrawn."
    with refused(Conflict, "stage", a):
        a.add_evidence("e99", "learn-1", "Too late", "", None, "coordinator")
    with refused(Conflict, "stage", a):
        a.submit("final", FINAL_DAY, FINAL, "coordinator")
