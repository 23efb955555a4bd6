"""The pledges service's public events: what other services may rely on.

Payloads are deliberately small and stable; the internal domain events may
change shape without breaking consumers, because only this mapping is public.
"""

from __future__ import annotations

from typing import Any

from services.pledges.domain import School
from services.pledges.joining import JoinRequest
from shared.envelope import Contract, PublicEvent


def _iso(day: Any) -> str | None:
    return day.isoformat() if day else None


# No names, contacts or free text travel: they are the people's own, kept here encrypted
# under each person's key, so an erasure here leaves nothing readable in a queue. Each
# field that carried one was dropped in a new schema version (consumers read both):
# SchoolRegistered and CoordinatorChanged 2 (the coordinator: the notifications service asks
# ``coordinator_contact``), CommitmentRecorded 2 (given_by), PledgeSigned and PledgeRenewed
# 3 (signed_by, renewed_by), PledgeWithdrawn 2 (the reason).


def _registered(e: Any) -> dict:
    return {"urn": e.urn, "name": e.name, "phase": e.phase, "postcode": e.postcode}


# A pledge's lapse day is set here, where the rule lives, and told to the services that rely
# on it (from schema 2). A signature or renewal stored before the day was recorded carries
# no ``lapses_on``, and its consumers apply the rule of that time.
# A signature also tells whether it was imported from earlier records (nobody is thanked
# for signing it); one stored before imports were recorded leaves it out.


def _lapses(e: Any) -> dict:
    return {"lapses_on": _iso(e.lapses_on)} if e.lapses_on is not None else {}


def _signed(e: Any) -> dict:
    told = {"imported": e.imported} if e.imported is not None else {}
    return {"urn": e.urn, "role": e.role, "signed_on": _iso(e.signed_on), **_lapses(e), **told}


def _renewed(e: Any) -> dict:
    return {"urn": e.urn, "role": e.role, "renewed_on": _iso(e.renewed_on), **_lapses(e)}


def _withdrawn(e: Any) -> dict:
    return {"urn": e.urn, "withdrawn_on": _iso(e.withdrawn_on)}


def _commitment(e: Any) -> dict:
    return {"urn": e.urn, "body": e.body, "role": e.role, "on": _iso(e.on)}


def _urn_only(e: Any) -> dict:
    return {"urn": e.urn}


PLEDGES = Contract("pledges", {
    School.Registered: PublicEvent("SchoolRegistered", 2, _registered),
    School.InterestExpressed: PublicEvent("InterestExpressed", 1,
                                          lambda e: {"urn": e.urn, "on": _iso(e.on)}),
    School.CommitmentRecorded: PublicEvent("CommitmentRecorded", 2, _commitment),
    School.PledgeSigned: PublicEvent("PledgeSigned", 3, _signed),
    School.PledgeRenewed: PublicEvent("PledgeRenewed", 3, _renewed),
    School.PledgeWithdrawn: PublicEvent("PledgeWithdrawn", 2, _withdrawn),
    School.NewsletterSubscribed: PublicEvent("NewsletterSubscribed", 1, _urn_only),
    School.NewsletterUnsubscribed: PublicEvent("NewsletterUnsubscribed", 1, _urn_only),
    # a request to join: only its id (and, once accepted, the URN) travels; whoever writes
    # to the person asks this service for the address (``join_request_notice``)
    JoinRequest.Received: PublicEvent("JoinRequestReceived", 1, lambda e: {"request": e.originator_id.hex}),
    JoinRequest.Accepted: PublicEvent("JoinRequestAccepted", 1,
                                      lambda e: {"request": e.originator_id.hex, "urn": e.urn}),
    JoinRequest.Declined: PublicEvent("JoinRequestDeclined", 1, lambda e: {"request": e.originator_id.hex}),
    School.CoordinatorChanged: PublicEvent("CoordinatorChanged", 2, _urn_only),
})
