"""The applications service's public events: one per milestone of the journey."""

from __future__ import annotations

from typing import Any

from services.applications.accreditation import AwardApplication
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
}, witnessed_after=frozenset({"Awarded", "DecisionRecorded"}))  # a panel's decision: its head at once
