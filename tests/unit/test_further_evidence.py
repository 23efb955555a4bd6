"""After a further-evidence decision (issue 17): the school works to its own date, and what is
still missing is worked out again after the panel's feedback and after the school's response.
The AwardApplication aggregate in memory."""

from __future__ import annotations

import datetime as dt

from services.applications.accreditation import AwardApplication, Deadline, Stage
from shared.errors import Conflict
from tests.unit.refusals import refused

CRITERIA = ["learn-1", "learn-2", "share-8"]
DRAFT_DAY, FINAL_DAY = dt.date(2027, 3, 25), dt.date(2027, 5, 28)
DECIDED_ON, EVIDENCE_DUE = dt.date(2027, 7, 1), dt.date(2027, 7, 16)
NOT_YET = ["the panel found it not yet met"]


def judged(**not_met: str) -> dict[str, dict]:
    agreed = {code: {"outcome": "met", "comment": "Well evidenced."} for code in CRITERIA}
    agreed.update({code.replace("_", "-"): {"outcome": "not_yet_met", "comment": why}
                   for code, why in not_met.items()})
    return agreed


def submitted_final(extension: dt.date | None = None) -> AwardApplication:
    a = AwardApplication(urn="103712", school_name="Hill Primary", school_year="2026-27",
                         criteria_version="sos-2026", criteria=CRITERIA, has_draft=True, renewal_of=None,
                         carried_actions=[], actor="coordinator")
    for number, code in enumerate(CRITERIA, 1):
        a.record_audit(code, "met", "", "", "coordinator")
        a.add_evidence(f"e{number}", code, f"Evidence for {code}", "", None, "coordinator")
    a.submit("draft", DRAFT_DAY, Deadline("draft", DRAFT_DAY), "coordinator")
    a.release_feedback("draft", judged(), "A strong draft.", "appraisal-1", "lead")
    if extension is not None:
        a.grant_extension("final", extension, "Staff illness", "lead")
    a.submit("final", FINAL_DAY, Deadline("final", FINAL_DAY), "coordinator")
    return a


def further_evidence(extension: dt.date | None = None) -> AwardApplication:
    """Final feedback finds share-8 not yet met; the panel asks for more by 16 July."""
    a = submitted_final(extension)  # an extension, if any, of the cycle's final deadline
    a.release_feedback("final", judged(share_8="No local links yet."), "Nearly.", "appraisal-2", "lead")
    a.decide("further_evidence", "Show links.", EVIDENCE_DUE, DECIDED_ON, "appraisal-2", ["amy"], "lead")
    return a


def test_the_criterion_the_panel_found_not_yet_met_is_missing_until_the_school_answers_it() -> None:
    a = further_evidence()
    assert a.stage == Stage.FURTHER_EVIDENCE
    assert a.missing() == {"share-8": NOT_YET}
    a.add_evidence("e4", "learn-1", "Another assembly", "", None, "coordinator")
    assert a.missing() == {"share-8": NOT_YET}  # evidence for another criterion answers nothing
    a.add_evidence("e5", "share-8", "Letter from CRMC", "", None, "coordinator")
    assert a.missing() == {}


def test_evidence_withdrawn_again_is_no_answer() -> None:
    a = further_evidence()
    a.add_evidence("e5", "share-8", "Letter from CRMC", "", None, "coordinator")
    a.withdraw_evidence("e5", "coordinator")
    assert a.missing() == {"share-8": NOT_YET}


def test_evidence_from_before_the_feedback_is_no_answer() -> None:
    """share-8's evidence was there when the panel judged it not yet met."""
    a = further_evidence()
    assert a.evidence["e3"]["criterion"] == "share-8" and not a.evidence["e3"]["withdrawn"]
    assert a.missing() == {"share-8": NOT_YET}


def test_new_feedback_is_what_counts_after_the_resubmission() -> None:
    a = further_evidence()
    a.add_evidence("e5", "share-8", "Letter from CRMC", "", None, "coordinator")
    a.submit("final", EVIDENCE_DUE, Deadline("final", EVIDENCE_DUE), "coordinator")
    assert a.missing() == {}
    a.release_feedback("final", judged(learn_2="Only one subject now."), "Again.", "appraisal-3", "lead")
    assert a.missing() == {"learn-2": NOT_YET}  # share-8 met now; learn-2 newly found wanting
    a.add_evidence("e6", "learn-2", "Geography unit", "", None, "coordinator")
    assert a.missing() == {}


def test_draft_feedback_is_answered_the_same_way() -> None:
    a = AwardApplication(urn="103712", school_name="Hill Primary", school_year="2026-27",
                         criteria_version="sos-2026", criteria=CRITERIA, has_draft=True, renewal_of=None,
                         carried_actions=[], actor="coordinator")
    for number, code in enumerate(CRITERIA, 1):
        a.record_audit(code, "met", "", "", "coordinator")
        a.add_evidence(f"e{number}", code, f"Evidence for {code}", "", None, "coordinator")
    a.submit("draft", DRAFT_DAY, Deadline("draft", DRAFT_DAY), "coordinator")
    a.release_feedback("draft", judged(learn_2="Only history."), "Nearly.", "appraisal-1", "lead")
    assert a.missing() == {"learn-2": NOT_YET}
    a.add_evidence("e4", "learn-2", "Geography and RE units", "", None, "coordinator")
    assert a.missing() == {}


def test_replayed_the_gaps_are_the_same() -> None:
    a = further_evidence()
    a.add_evidence("e5", "share-8", "Letter from CRMC", "", None, "coordinator")
    copy = None
    for e in a.collect_events():
        copy = e.mutate(copy)
    assert copy.missing() == a.missing() == {}


def test_the_schools_own_date_replaces_an_extension_of_the_final_deadline() -> None:
    a = further_evidence(extension=dt.date(2027, 7, 30))
    assert "final" not in a.extensions
    late = EVIDENCE_DUE + dt.timedelta(days=1)  # before the old extension's end, after its own date
    with refused(Conflict, "deadline", a):
        a.submit("final", late, Deadline("final", EVIDENCE_DUE), "coordinator")


def test_an_extension_granted_after_the_decision_extends_the_schools_own_date() -> None:
    a = further_evidence()
    a.grant_extension("final", dt.date(2027, 7, 23), "Head teacher away", "lead")
    a.submit("final", dt.date(2027, 7, 23), Deadline("final", EVIDENCE_DUE), "coordinator")
    assert a.stage == Stage.FINAL_SUBMITTED and a.submissions[-1]["under_extension"] is True
