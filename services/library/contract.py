"""The library service's public events: what other services may rely on.

A school's links with local organisations are evidence for the Share criteria,
so they are published for the services that gather evidence; resources and the
directory are published in brief (ids, titles, tags), for services that tell
schools what is new. Files never travel on the bus, nor does free text about a link.
"""

from __future__ import annotations

from typing import Any

from services.library.domain import Partner, PartnerLink, Resource
from shared.envelope import Contract, PublicEvent


def _resource(e: Any) -> dict:
    return {"resource_id": e.originator_id.hex, "title": e.title, "kind": e.kind,
            "criteria": list(e.criteria), "stages": list(e.stages), "public": e.public}


def _partner(e: Any) -> dict:
    return {"partner_id": e.originator_id.hex, "name": e.name, "kind": e.kind}


def _link(e: Any) -> dict:
    # version 2 leaves out the activities: free text, which may say anything about anyone,
    # stays in this store (encrypted, erasable); a service that needs it asks here
    return {"urn": e.urn, "partner_id": e.partner_id, "since": e.since.isoformat(),
            "criteria": list(e.criteria)}


def _link_changed(e: Any) -> dict:
    return {"urn": e.urn, "partner_id": e.partner_id, "criteria": list(e.criteria)}


LIBRARY = Contract("library", {
    Resource.Added: PublicEvent("ResourceAdded", 1, _resource),
    Resource.Edited: PublicEvent("ResourceEdited", 1, _resource),
    Resource.Retired: PublicEvent("ResourceRetired", 1, lambda e: {"resource_id": e.originator_id.hex}),
    Partner.Added: PublicEvent("PartnerListed", 1, _partner),
    Partner.Edited: PublicEvent("PartnerEdited", 1, _partner),
    Partner.Retired: PublicEvent("PartnerRetired", 1, lambda e: {"partner_id": e.originator_id.hex}),
    PartnerLink.Recorded: PublicEvent("PartnerLinkRecorded", 2, _link),
    PartnerLink.Resumed: PublicEvent("PartnerLinkRecorded", 2, _link),
    PartnerLink.Updated: PublicEvent("PartnerLinkUpdated", 2, _link_changed),
    PartnerLink.Ended: PublicEvent("PartnerLinkEnded", 1, lambda e: {
        "urn": e.urn, "partner_id": e.partner_id, "ended_on": e.on.isoformat()}),
})
