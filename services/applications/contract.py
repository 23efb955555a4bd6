"""The applications service's public events: one per milestone of the journey, and the
panels' milestones (a panel formed, its members, convened; an application assigned, each
member's declaration and judgements, the outcome agreed).

Panel news names people by account id only; no name, no interests, no comment travels:
a consumer that must write to a member asks the accounts service for their address when
it sends."""

from __future__ import annotations

from typing import Any

from services.applications.accreditation import AwardApplication
from services.applications.panels import Appraisal, Panel
from shared.envelope import Contract, PublicEvent


def _iso(day: Any) -> str | None:
    return day.isoformat() if day else None


def _base(e: Any) -> dict:
    """What every milestone says: which application, school and cycle."""
    return {"application": str(e.originator_id), "urn": e.urn, "school_year": e.school_year}


def _started(e: Any) -> dict:
    """Schema 2 tells the day each submission is due (stage -> day, None: no fixed day), as
    this service set it; a later extension (``until``) or further-evidence decision
    (``evidence_due``) moves it. An application started before the days were recorded is
    published as it was then (schema 1)."""
    started = {**_base(e), "school_name": e.school_name, "renewal_of": e.renewal_of}
    if e.due is None:
        return started
    return {**started, "due": {stage: _iso(day) for stage, day in e.due.items()}}


def _submitted(e: Any) -> dict:
    return {**_base(e), "stage": e.stage, "on": _iso(e.on), "under_extension": e.under_extension}


def _decided(e: Any) -> dict:
    return {**_base(e), "outcome": e.outcome, "on": _iso(e.on), "expires_on": _iso(e.expires_on),
            "evidence_due": _iso(e.evidence_due)}


def _panel(e: Any) -> dict:
    return {"panel": str(e.originator_id)}


def _appraisal(e: Any) -> dict:
    return {"appraisal": str(e.originator_id)}


def _opened(e: Any) -> dict:
    """An application assigned to a panel: its appraisal opens, with the members who are to
    declare and judge, and the criteria each judges."""
    return {**_appraisal(e), "panel": e.panel, "application": e.application, "urn": e.urn,
            "stage": e.stage, "submission": e.submission, "members": list(e.members),
            "criteria": list(e.criteria)}


def _evidence(e: Any) -> dict:
    """Evidence added (what it is stays private); ``stage`` is where the application stood, so
    evidence added after feedback is the school answering it."""
    return {**_base(e), "criterion": e.criterion, "stage": e.stage}


APPLICATIONS = Contract("applications", {
    AwardApplication.Started: PublicEvent(
        "ApplicationStarted", lambda e: 1 if e.due is None else 2, _started),
    AwardApplication.Submitted: PublicEvent(
        lambda e: "DraftSubmitted" if e.stage == "draft" else "FinalSubmitted", 1, _submitted),
    AwardApplication.ExtensionGranted: PublicEvent(
        "ExtensionGranted", 1, lambda e: {**_base(e), "stage": e.stage, "until": _iso(e.until)}),
    AwardApplication.FeedbackReleased: PublicEvent(
        "FeedbackReleased", 1, lambda e: {**_base(e), "stage": e.stage}),
    AwardApplication.VisitScheduled: PublicEvent(
        "VisitScheduled", 1, lambda e: {**_base(e), "on": _iso(e.on)}),
    AwardApplication.Decided: PublicEvent(
        lambda e: "Awarded" if e.outcome == "awarded" else "DecisionRecorded", 1, _decided),
    AwardApplication.RenewalDue: PublicEvent(
        "RenewalDue", 1, lambda e: {**_base(e), "expires_on": _iso(e.expires_on)}),
    AwardApplication.Withdrawn: PublicEvent("ApplicationWithdrawn", 1, _base),
    AwardApplication.EvidenceAdded: PublicEvent("EvidenceAdded", 1, _evidence),
    Panel.Formed: PublicEvent(
        "PanelFormed", 1, lambda e: {**_panel(e), "school_year": e.school_year, "stage": e.stage,
                                     "meets_on": _iso(e.meets_on)}),
    Panel.MemberAdded: PublicEvent(
        "PanelMemberAdded", 1, lambda e: {**_panel(e), "account": e.account,
                                          "lived_experience": e.lived_experience}),
    Panel.MemberRemoved: PublicEvent(
        "PanelMemberRemoved", 1, lambda e: {**_panel(e), "account": e.account}),
    Panel.Convened: PublicEvent("PanelConvened", 1, _panel),
    Appraisal.Opened: PublicEvent("ApplicationAssigned", 1, _opened),
    Appraisal.InterestsDeclared: PublicEvent(
        "InterestsDeclared", 1, lambda e: {**_appraisal(e), "member": e.member,
                                           "conflicted": e.conflicted}),
    Appraisal.CriterionJudged: PublicEvent(
        "CriterionJudged", 1, lambda e: {**_appraisal(e), "member": e.member,
                                         "criterion": e.criterion}),
    Appraisal.MemberJoined: PublicEvent(  # added to the panel after the appraisal opened
        "AppraisalMemberJoined", 1, lambda e: {**_appraisal(e), "member": e.member}),
    Appraisal.MemberLeft: PublicEvent(  # taken off the panel before the outcome: no longer counted
        "AppraisalMemberLeft", 1, lambda e: {**_appraisal(e), "member": e.member}),
    Appraisal.OutcomeAgreed: PublicEvent(
        "OutcomeAgreed", 1, lambda e: {**_appraisal(e), "overall": e.overall}),
}, witnessed_after=frozenset({"Awarded", "DecisionRecorded"}))  # a panel's decision: its head at once
