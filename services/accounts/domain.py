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
LINK_WINDOW = dt.timedelta(hours=1)  # links per address are counted over this window


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
        self.ended_sessions: dict[str, dt.datetime] = {}  # session id -> when it would have expired
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

    def links_issued_since(self, since: dt.datetime) -> int:
        return sum(1 for link in self.links.values() if link["expires_at"] - LINK_LIFETIME > since)

    def may_have_link(self, now: dt.datetime, per_hour: int) -> bool:
        """Open, and fewer than ``per_hour`` links sent in the last hour: a flood of
        requests for one address sends it a few emails, not thousands."""
        return not self.closed and self.links_issued_since(now - LINK_WINDOW) < per_hour

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

    def sign_out(self, session_id: str, until: dt.datetime, now: dt.datetime, actor: str) -> None:
        """End one session (``until``: when it would have expired anyway)."""
        if session_id in self.ended_sessions:
            return
        self._signed_out(session_id=session_id, until=until, at=now, actor=actor)

    def session_ended(self, session_id: str | None) -> bool:
        return self.closed or (session_id is not None and session_id in self.ended_sessions)

    def sign_out_everywhere(self, actor: str) -> None:
        self._signed_out_everywhere(actor=actor)

    def has_lead_role(self) -> bool:
        return ("lead", None) in self.grants and not self.closed

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
        # links from before the counting window have expired and count for nothing: forget
        # them, so an account asked for thousands of links stays small
        since = expires_at - LINK_LIFETIME - LINK_WINDOW
        self.links = {k: v for k, v in self.links.items() if v["expires_at"] - LINK_LIFETIME > since}
        self.links[link_id] = {"hash": link_hash, "expires_at": expires_at, "used": False}

    @event("SignedIn")
    def _link_used(self, link_id: str, actor: str) -> None:
        self.links[link_id]["used"] = True

    @event("SignedOut")
    def _signed_out(self, session_id: str, until: dt.datetime, at: dt.datetime, actor: str) -> None:
        # a session past its own expiry is refused anyway: no need to remember it ended
        self.ended_sessions = {k: v for k, v in self.ended_sessions.items() if v > at}
        self.ended_sessions[session_id] = until

    @event("SignedOutEverywhere")
    def _signed_out_everywhere(self, actor: str) -> None:
        self.session_epoch += 1
        self.ended_sessions = {}  # the new epoch ends them all

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


MAIL_CLAIM_TIMEOUT = dt.timedelta(minutes=2)  # a send claimed longer ago died with its sender


def mail_backoff(attempt: int) -> dt.timedelta:
    """15 s, 30 s, 1 min ... capped at 5 min: the link lives only 30 minutes."""
    return dt.timedelta(seconds=min(15 * 2 ** (attempt - 1), 300))


class SignInMail(Aggregate):
    """One sign-in email, recorded with its link before any attempt to send it, so an
    SMTP outage delays it instead of losing it. The address and name are personal
    data; the link's code is sealed by the application (never stored in clear).
    Tried at once, then retried with growing pauses until sent or the link expires.
    """

    @event("Recorded")
    def __init__(self, account: str, link_id: str, to: object, name: object, sealed_code: str,
                 expires_at: dt.datetime, at: dt.datetime) -> None:
        self.account = account
        self.link_id = link_id
        self.to = to
        self.name = name
        self.sealed_code = sealed_code
        self.expires_at = expires_at
        self.status = "sending"  # recorded as claimed: the request's own attempt comes first
        self.claimed_at = at
        self.next_attempt_at = at
        self.attempts = 0

    @property
    def finished(self) -> bool:
        return self.status in ("sent", "given_up")

    def due(self, now: dt.datetime) -> bool:
        if self.status == "pending":
            return now >= self.next_attempt_at
        return self.status == "sending" and now - self.claimed_at >= MAIL_CLAIM_TIMEOUT

    def claim(self, now: dt.datetime) -> None:
        if not self.due(now):
            raise Conflict("This sign-in email is not due.", "mail")
        self._claimed(at=now)

    def sent(self, now: dt.datetime) -> None:
        self._sent(at=now)

    def failed(self, now: dt.datetime, error: str, permanent: bool) -> None:
        retry_at = now + mail_backoff(self.attempts + 1)
        if permanent or retry_at >= self.expires_at:
            self.give_up(now, error)
        else:
            self._failed(at=now, error=error[:300], retry_at=retry_at)

    def give_up(self, now: dt.datetime, why: str) -> None:
        self._given_up(at=now, why=why[:300])

    @event("Claimed")
    def _claimed(self, at: dt.datetime) -> None:
        self.status = "sending"
        self.claimed_at = at

    @event("Sent")
    def _sent(self, at: dt.datetime) -> None:
        self.status = "sent"

    @event("AttemptFailed")
    def _failed(self, at: dt.datetime, error: str, retry_at: dt.datetime) -> None:
        self.status = "pending"
        self.attempts += 1
        self.next_attempt_at = retry_at

    @event("GaveUp")
    def _given_up(self, at: dt.datetime, why: str) -> None:
        self.status = "given_up"
        self.attempts += 1
