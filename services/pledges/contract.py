"""The pledges service's public events: what other services may rely on.

Payloads are deliberately small and stable; the internal domain events may
change shape without breaking consumers, because only this mapping is public.
"""

from __future__ import annotations

from typing import Any

from services.pledges.domain import School
from services.pledges.joining import JoinRequest
from shared.envelope import Contract, PublicEvent
from shared.personal import reveal


def _iso(day: Any) -> str | None:
    return day.isoformat() if day else None


# Personal values travel in plain text to consumers that need them (notifications
# must address the coordinator); each consumer keeps only what it needs.


def _registered(e: Any) -> dict:
    return {"urn": e.urn, "name": e.name, "phase": e.phase, "postcode": e.postcode,
            "coordinator": reveal(e.coordinator)}


# A pledge's lapse day is set here, where the rule lives, and told to the services that
# rely on it (schema 2). A signature or renewal stored before the day was recorded is
# published as it was then (schema 1), and its consumers apply the rule of that time.
# A signature also tells whether it was imported from earlier records (schema 3: nobody is
# thanked for signing it); one stored before imports were recorded is published as it was.


def _lapse_told(e: Any) -> int:
    return 2 if e.lapses_on is not None else 1


def _signature_told(e: Any) -> int:
    if e.lapses_on is None:
        return 1
    return 2 if e.imported is None else 3


def _lapses(e: Any) -> dict:
    return {"lapses_on": _iso(e.lapses_on)} if e.lapses_on is not None else {}


def _signed(e: Any) -> dict:
    told = {"imported": e.imported} if _signature_told(e) == 3 else {}
    return {"urn": e.urn, "signed_by": reveal(e.signed_by), "role": e.role,
            "signed_on": _iso(e.signed_on), **_lapses(e), **told}


def _renewed(e: Any) -> dict:
    return {"urn": e.urn, "renewed_by": reveal(e.renewed_by), "role": e.role,
            "renewed_on": _iso(e.renewed_on), **_lapses(e)}


def _withdrawn(e: Any) -> dict:
    return {"urn": e.urn, "reason": reveal(e.reason), "withdrawn_on": _iso(e.withdrawn_on)}


def _commitment(e: Any) -> dict:
    return {"urn": e.urn, "body": e.body, "given_by": reveal(e.given_by), "role": e.role,
            "on": _iso(e.on)}


def _urn_only(e: Any) -> dict:
    return {"urn": e.urn}


PLEDGES = Contract("pledges", {
    School.Registered: PublicEvent("SchoolRegistered", 1, _registered),
    School.InterestExpressed: PublicEvent("InterestExpressed", 1,
                                          lambda e: {"urn": e.urn, "on": _iso(e.on)}),
    School.CommitmentRecorded: PublicEvent("CommitmentRecorded", 1, _commitment),
    School.PledgeSigned: PublicEvent("PledgeSigned", _signature_told, _signed),
    School.PledgeRenewed: PublicEvent("PledgeRenewed", _lapse_told, _renewed),
    School.PledgeWithdrawn: PublicEvent("PledgeWithdrawn", 1, _withdrawn),
    School.NewsletterSubscribed: PublicEvent("NewsletterSubscribed", 1, _urn_only),
    School.NewsletterUnsubscribed: PublicEvent("NewsletterUnsubscribed", 1, _urn_only),
    # a request to join: only its id (and, once accepted, the URN) travels; whoever writes
    # to the person asks this service for the address (``join_request_notice``)
    JoinRequest.Received: PublicEvent("JoinRequestReceived", 1, lambda e: {"request": e.originator_id.hex}),
    JoinRequest.Accepted: PublicEvent("JoinRequestAccepted", 1,
                                      lambda e: {"request": e.originator_id.hex, "urn": e.urn}),
    JoinRequest.Declined: PublicEvent("JoinRequestDeclined", 1, lambda e: {"request": e.originator_id.hex}),
    School.CoordinatorChanged: PublicEvent(
        "CoordinatorChanged", 1, lambda e: {"urn": e.urn, "coordinator": reveal(e.coordinator)}),
})
