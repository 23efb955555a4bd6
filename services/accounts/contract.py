"""The accounts service's public events."""

from __future__ import annotations

from services.accounts.domain import Erasure
from shared.envelope import Contract, PublicEvent

ACCOUNTS = Contract("accounts", {
    # every service holding personal data shreds its own keys for these subjects
    Erasure.Recorded: PublicEvent("PersonalDataErased", 1,
                                  lambda e: {"erasure": str(e.originator_id), "subjects": e.subjects}),
})
