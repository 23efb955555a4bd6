"""The panels' public events, as the applications service's contract publishes them from
real Panel and Appraisal aggregates: what the notifications service reads, and nothing of
a person but their account id (no name, no declared interests, no comment)."""

from __future__ import annotations

import datetime as dt
import json

from services.applications.accreditation import AwardApplication
from services.applications.contract import APPLICATIONS
from services.applications.panels import Appraisal, Panel
from shared.personal import Personal

LEAD = "account:lead"
CRITERIA = ["learn-1", "embed-1"]


def published(*aggregates: object) -> list[tuple[str, dict]]:
    found = []
    for aggregate in aggregates:
        for event in aggregate.collect_events():
            news = APPLICATIONS.envelope(event, 1, "coventry")
            if news is not None:
                found.append((news.type, news.payload))
    return found


def test_a_panel_convened_and_an_application_judged_are_told_by_account_id_only() -> None:
    panel = Panel(school_year="2026-27", stage="draft", meets_on=dt.date(2027, 4, 20), actor=LEAD)
    panel.add_member("acc-pat", Personal("name:pat", "Pat Panel"), True, LEAD)
    panel.add_member("acc-quinn", Personal("name:quinn", "Quinn Panel"), False, LEAD)
    panel.convene(2, 1, LEAD)
    panel.remove_member("acc-quinn", 1, 1, LEAD, Personal("text:panel", "Quinn moved away"))
    appraisal = Appraisal(panel=str(panel.id), application="app-1", urn="103712", stage="draft",
                          criteria=CRITERIA, members=["acc-pat"], submission=2, actor=LEAD)
    appraisal.declare("acc-pat", False, "", "account:acc-pat")
    appraisal.judge("acc-pat", "learn-1", "met", "Pat's private comment", "account:acc-pat")
    appraisal.join("acc-sol", LEAD)  # added to the panel after the appraisal opened
    appraisal.leave("acc-sol", LEAD)  # and taken off it again before the outcome
    appraisal.consolidate({c: {"outcome": "met", "comment": "ok"} for c in CRITERIA}, "award",
                          ["acc-pat"], 1, 1, {"acc-pat"}, LEAD)
    news = published(panel, appraisal)
    p, a = str(panel.id), str(appraisal.id)
    assert news == [
        ("PanelFormed", {"panel": p, "school_year": "2026-27", "stage": "draft", "meets_on": "2027-04-20"}),
        ("PanelMemberAdded", {"panel": p, "account": "acc-pat", "lived_experience": True}),
        ("PanelMemberAdded", {"panel": p, "account": "acc-quinn", "lived_experience": False}),
        ("PanelConvened", {"panel": p}),
        ("PanelMemberRemoved", {"panel": p, "account": "acc-quinn"}),
        ("ApplicationAssigned", {"appraisal": a, "panel": p, "application": "app-1", "urn": "103712",
                                 "stage": "draft", "submission": 2, "members": ["acc-pat"],
                                 "criteria": CRITERIA}),
        ("InterestsDeclared", {"appraisal": a, "member": "acc-pat", "conflicted": False}),
        ("CriterionJudged", {"appraisal": a, "member": "acc-pat", "criterion": "learn-1"}),
        ("AppraisalMemberJoined", {"appraisal": a, "member": "acc-sol"}),
        ("AppraisalMemberLeft", {"appraisal": a, "member": "acc-sol"}),
        ("OutcomeAgreed", {"appraisal": a, "overall": "award"}),
    ]
    said = json.dumps(news)
    assert "Pat Panel" not in said and "private comment" not in said and "moved away" not in said


def test_evidence_added_says_where_the_application_stood_not_what_the_evidence_is() -> None:
    application = AwardApplication(
        urn="103712", school_name="Hill Primary", school_year="2026-27", criteria_version="v1",
        criteria=CRITERIA, has_draft=True, renewal_of=None, carried_actions=[], actor=LEAD)
    application.collect_events()
    application.add_evidence("e1", "learn-1", "Staff training log", "Names of staff", None, LEAD)
    [(kind, payload)] = published(application)
    assert kind == "EvidenceAdded"
    assert payload == {"application": str(application.id), "urn": "103712", "school_year": "2026-27",
                       "criterion": "learn-1", "stage": "started"}
