"""The accounts service's public events."""

from __future__ import annotations

from services.accounts.domain import Account, Erasure
from shared.envelope import Contract, PublicEvent


def _access_changed(change: str) -> PublicEvent:
    """What an account may do, or with which credentials, has changed: whoever remembers its
    principal (the gateway, services/gateway/principals.py) forgets it. No personal data."""
    return PublicEvent("AccountAccessChanged", 1,
                       lambda e: {"account": e.originator_id.hex, "change": change})


ACCOUNTS = Contract("accounts", {
    # every service holding personal data shreds its own keys for these subjects
    Erasure.Recorded: PublicEvent("PersonalDataErased", 1,
                                  lambda e: {"erasure": str(e.originator_id), "subjects": e.subjects}),
    Account.RoleGranted: _access_changed("role_granted"),
    Account.RoleRevoked: _access_changed("role_revoked"),
    Account.Closed: _access_changed("closed"),
    Account.SignedOut: _access_changed("signed_out"),
    Account.SignedOutEverywhere: _access_changed("signed_out_everywhere"),
    Account.TokenRevoked: _access_changed("token_revoked"),
})
