"""Accounts: who people are to the system, and what they may do. Plain Python.

People sign in with a one-time link emailed to them (no password to forget);
scripts use personal API tokens. Only hashes of links and tokens are stored.
Invitations, role grants, tokens and sign-ins are all events, so "who could
do what, when" is answerable years later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid

from eventsourcing.domain import Aggregate, event

from shared.access import ROLES, SCOPED_ROLES
from shared.errors import Conflict, Invalid, Unauthorized

_NAMESPACE = uuid.UUID("5c2d1f60-8e3b-4a7d-9f21-0b6e4d8c3a17")
LINK_LIFETIME = dt.timedelta(minutes=30)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_grant(role: str, scope: str | None) -> tuple[str, str | None]:
    if role not in ROLES:
        raise Invalid(f"Unknown role {role!r}.", {"role": [f"Must be one of {', '.join(ROLES)}."]})
    if role in SCOPED_ROLES and not (scope and scope.isdigit() and len(scope) == 6):
        raise Invalid("A coordinator is the coordinator of one school.",
                      {"urn": ["The school's 6-digit URN is required for a coordinator."]})
    if role not in SCOPED_ROLES and scope:
        raise Invalid(f"The {role} role is not tied to a school.", {"urn": ["Leave it out."]})
    return role, scope


class Account(Aggregate):
    # a panel member's lived experience of seeking sanctuary, as the lead recorded it
    # (a Personal bool; None until recorded): what a panel's composition rule counts
    lived_experience: object = None

    @staticmethod
    def create_id(email_key: str) -> uuid.UUID:
        """One account per address: ``email_key`` is a digest of the lower-cased address."""
        return uuid.uuid5(_NAMESPACE, f"account/{email_key}")

    @event("Invited")
    def __init__(self, email_key: str, email: object, name: object,
                 grants: list[list], actor: str) -> None:
        self.email_key = email_key
        self.email = email
        self.name = name
        self.grants = {(role, scope) for role, scope in grants}
        self.tokens: dict[str, dict] = {}
        self.links: dict[str, dict] = {}
        self.session_epoch = 0
        self.closed = False

    # -- roles ---------------------------------------------------------------

    def grant(self, role: str, scope: str | None, actor: str) -> None:
        role, scope = check_grant(role, scope)
        if (role, scope) in self.grants:
            raise Conflict("The account already has that role.", "role")
        self._role_granted(role=role, scope=scope, actor=actor)

    def revoke(self, role: str, scope: str | None, actor: str) -> None:
        if (role, scope) not in self.grants:
            raise Conflict("The account does not have that role.", "role")
        self._role_revoked(role=role, scope=scope, actor=actor)

    def close(self, actor: str) -> None:
        if self.closed:
            raise Conflict("The account is already closed.", "account")
        self._closed(actor=actor)

    def record_lived_experience(self, flag: object, actor: str) -> bool:
        """``flag``: a Personal bool. Returns False (recording nothing) when unchanged."""
        if self.lived_experience == flag:
            return False
        self._lived_experience_recorded(lived_experience=flag, actor=actor)
        return True

    # -- sign-in links and sessions ------------------------------------------

    def issue_link(self, link_id: str, secret: str, now: dt.datetime) -> None:
        self._require_open()
        self._link_issued(link_id=link_id, link_hash=digest(secret),
                          expires_at=now + LINK_LIFETIME, actor=f"account:{self.id.hex}")

    def use_link(self, link_id: str, secret: str, now: dt.datetime) -> None:
        """Refuses an unknown, wrong, expired or already used link, all alike."""
        link = self.links.get(link_id)
        if (link is None or link["used"] or now >= link["expires_at"]
                or not hmac.compare_digest(link["hash"], digest(secret)) or self.closed):
            raise Unauthorized("This sign-in link is not valid: it may have expired or been "
                               "used already. Ask for a new one.")
        self._link_used(link_id=link_id, actor=f"account:{self.id.hex}")

    def sign_out_everywhere(self, actor: str) -> None:
        self._signed_out_everywhere(actor=actor)

    # -- API tokens ----------------------------------------------------------

    def issue_token(self, token_id: str, secret: str, label: str, actor: str) -> None:
        self._require_open()
        self._token_issued(token_id=token_id, token_hash=digest(secret), label=label, actor=actor)

    def revoke_token(self, token_id: str, actor: str) -> None:
        token = self.tokens.get(token_id)
        if token is None or token["revoked"]:
            raise Conflict("No such active token.", "token")
        self._token_revoked(token_id=token_id, actor=actor)

    def token_matches(self, token_id: str, secret: str) -> bool:
        token = self.tokens.get(token_id)
        return (token is not None and not token["revoked"] and not self.closed
                and hmac.compare_digest(token["hash"], digest(secret)))

    def _require_open(self) -> None:
        if self.closed:
            raise Conflict("The account is closed.", "account")

    # -- events --------------------------------------------------------------

    @event("RoleGranted")
    def _role_granted(self, role: str, scope: str | None, actor: str) -> None:
        self.grants.add((role, scope))

    @event("RoleRevoked")
    def _role_revoked(self, role: str, scope: str | None, actor: str) -> None:
        self.grants.discard((role, scope))
        self.session_epoch += 1  # sessions carry old powers: end them

    @event("Closed")
    def _closed(self, actor: str) -> None:
        self.closed = True
        self.session_epoch += 1

    @event("LivedExperienceRecorded")
    def _lived_experience_recorded(self, lived_experience: object, actor: str) -> None:
        self.lived_experience = lived_experience

    @event("SignInLinkIssued")
    def _link_issued(self, link_id: str, link_hash: str, expires_at: dt.datetime,
                     actor: str) -> None:
        self.links[link_id] = {"hash": link_hash, "expires_at": expires_at, "used": False}

    @event("SignedIn")
    def _link_used(self, link_id: str, actor: str) -> None:
        self.links[link_id]["used"] = True

    @event("SignedOutEverywhere")
    def _signed_out_everywhere(self, actor: str) -> None:
        self.session_epoch += 1

    @event("TokenIssued")
    def _token_issued(self, token_id: str, token_hash: str, label: str, actor: str) -> None:
        self.tokens[token_id] = {"hash": token_hash, "label": label, "revoked": False}

    @event("TokenRevoked")
    def _token_revoked(self, token_id: str, actor: str) -> None:
        self.tokens[token_id]["revoked"] = True


class Erasure(Aggregate):
    """A person's right to erasure, exercised: which subjects, why, and who asked.

    Subject ids are digests, not personal data, so this record outlives the erasure.
    """

    @event("Recorded")
    def __init__(self, subjects: list[str], reason: str, actor: str) -> None:
        self.subjects = subjects
        self.reason = reason
