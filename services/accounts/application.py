"""The accounts application: invitations, roles, sign-in links, sessions, API tokens.

Accounts are loaded through eventsourcing's aggregate cache, fast-forwarded
with only the events saved since (by any instance), so an account asked for
thousands of sign-in links costs one replay per process, not one per request.
An erasure empties the cache: the copies there still show what was erased.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from eventsourcing.application import AggregateNotFoundError, LRUCache
from eventsourcing.persistence import IntegrityError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from services.accounts.directory import Directory
from services.accounts.domain import Account, Erasure, SignInMail, check_grant
from services.accounts.link_seal import LinkSeal
from shared.access import LEAD, Principal, require
from shared.clock import Clock, system_clock
from shared.errors import Conflict, Invalid, NotFound, Unauthorized
from shared.mail import MailError
from shared.personal import ERASED, Personal, PersonalDataApplication, reveal, subject_for_email

log = logging.getLogger(__name__)

SESSION_LIFETIME = dt.timedelta(hours=8)
SESSION_PREFIX, TOKEN_PREFIX = "sess_", "sos_"
LINKS_PER_HOUR = 5  # per address; the deployment may set another (SANCTUARY_SIGN_IN_LINKS_PER_ADDRESS)
CACHED_ACCOUNTS = 1000

# (to, name, link) -> None: hands the one-time link to the person, by email; raises MailError
LinkSender = Callable[[str, str, str], None]
# (to, name, invited by, grants) -> None: tells a new account's person who invited them, for
# what, and how to sign in (no secret: they ask for a sign-in link themselves)
InvitationSender = Callable[[str, str, str, list[dict]], None]
# runs a job after the request has been answered (the service: in a green thread)
Later = Callable[[Callable[[], None]], None]


def at_once(job: Callable[[], None]) -> None:
    job()


class Accounts(PersonalDataApplication):
    name = "accounts"

    def __init__(self, env: dict | None = None, *, secret_key: str,
                 send_link: LinkSender | None = None, send_invitation: InvitationSender | None = None,
                 clock: Clock | None = None, session_lifetime: dt.timedelta = SESSION_LIFETIME,
                 links_per_hour: int = LINKS_PER_HOUR, later: Later = at_once) -> None:
        super().__init__({"AGGREGATE_CACHE_MAXSIZE": str(CACHED_ACCOUNTS), **(env or {})})
        self.session_lifetime = session_lifetime
        self.sessions = URLSafeTimedSerializer(secret_key, salt="sanctuary-session")
        self.link_seal = LinkSeal(secret_key)
        self.send_link = send_link
        self.send_invitation = send_invitation
        self.clock = clock or system_clock()
        self.links_per_hour = links_per_hour
        self.later = later
        self.directory = Directory(self)
        self._erasures = self.subject_keys.epoch()

    # -- the lead's commands --------------------------------------------------

    def invite(self, principal: Principal | None, email: str, name: str,
               grants: list[dict], lived_experience: bool | None = None,
               actor: str | None = None) -> dict:
        """Create an account and email the person who invited them, for what, and how to
        sign in. ``principal`` None with an ``actor`` is the operator's CLI (no email).
        ``lived_experience`` is recorded only for a panel member."""
        if principal is not None or actor is None:
            actor = require(LEAD, principal).actor
        checked = [list(check_grant(g["role"], g.get("urn"))) for g in grants]
        if lived_experience is not None and ["panel_member", None] not in checked:
            raise Invalid("Lived experience is recorded for panel members only.",
                          {"lived_experience": ["Only for someone invited as a panel member."]})
        key = email_key(email)
        subject = subject_for_email(email)
        account = Account(email_key=key,
                          email=Personal(subject, email.strip(), label="account email"),
                          name=Personal(subject, name, label="account name"),
                          grants=checked, actor=actor)
        if lived_experience is not None:
            account.record_lived_experience(_lived(subject, lived_experience), actor)
        try:
            self.save(account)
        except IntegrityError:
            raise Conflict("An account with that email address already exists.", "email") from None
        view = self.view(account)
        sent = principal is not None and self._tell_invited(view, principal.name)
        return {**view, "invitation_sent": sent}

    def _tell_invited(self, view: dict, inviter: str) -> bool:
        """The invitation email; the account stands even if the mail server refuses it
        (the lead is told, and the person can still ask for a sign-in link)."""
        if self.send_invitation is None:
            return False
        try:
            self.send_invitation(str(view["email"]), str(view["name"]), inviter, view["grants"])
        except MailError as error:
            log.warning("the invitation email to account %s was not sent: %s", view["id"], error)
            return False
        return True

    def record_lived_experience(self, principal: Principal, account_id: str,
                                lived_experience: bool) -> dict:
        actor = require(LEAD, principal).actor
        account = self._get(account_id)
        if ("panel_member", None) not in account.grants:
            raise Conflict("Lived experience is recorded for panel members only.", "lived_experience")
        subject = account.email.subject
        return self._change(account_id, lambda a: a.record_lived_experience(
            _lived(subject, lived_experience), actor))

    def grant(self, principal: Principal, account_id: str, role: str, urn: str | None = None) -> dict:
        actor = require(LEAD, principal).actor
        return self._change(account_id, lambda a: a.grant(role, urn, actor))

    def revoke(self, principal: Principal, account_id: str, role: str, urn: str | None = None) -> dict:
        actor = require(LEAD, principal).actor
        return self._change(account_id, lambda a: self._keeping_a_lead(a, lambda: a.revoke(role, urn, actor)))

    def close_account(self, principal: Principal, account_id: str) -> dict:
        actor = require(LEAD, principal).actor
        if _hex(account_id) == principal.account:
            raise Conflict("You cannot close your own account: ask another lead.", "account")
        return self._change(account_id, lambda a: self._keeping_a_lead(a, lambda: a.close(actor)))

    def _keeping_a_lead(self, account: Account, command: Callable[[], None]) -> None:
        """Run ``command`` unless it would leave the authority without an open lead account
        (nobody could invite or grant any more). Two leads removing each other at the same
        moment are not caught: a rare race an operator's ``sanctuary add-account`` mends."""
        was_lead = account.has_lead_role()
        command()
        if was_lead and not account.has_lead_role() and not any(
                other.has_lead_role() for other in self.accounts_unchecked() if other.id != account.id):
            raise Conflict("This is the only open account with the lead role (the last lead): grant "
                           "the role to someone else first.", "role")


    def erase_person(self, principal: Principal, subjects: list[str], reason: str) -> dict:
        """Record the erasure, close the person's account (which ends its sessions and API
        tokens: both are refused for a closed account), shred this service's copy; the rest
        follows over the bus. Refused, changing nothing, where closing the account would
        erase the caller's own or leave no lead (as closing it would)."""
        actor = require(LEAD, principal).actor
        erasure = Erasure(subjects=sorted(set(subjects)), reason=reason, actor=actor)
        closing = self._accounts_of(erasure.subjects)
        if any(account.id.hex == principal.account for account in closing):
            raise Conflict("You cannot erase your own account: ask another lead.", "email")
        if any(a.has_lead_role() for a in closing) and not any(
                other.has_lead_role() for other in self.accounts_unchecked()
                if other.id not in {a.id for a in closing}):
            raise Conflict("This is the only open account with the lead role (the last lead): grant "
                           "the role to someone else first.", "email")
        for account in closing:
            account.close(actor)
        self.save(erasure, *closing)
        for subject in erasure.subjects:
            self.erase_subject(subject)
        return {"erasure": str(erasure.id), "subjects": erasure.subjects}

    def _accounts_of(self, subjects: list[str]) -> list[Account]:
        """The open accounts whose address is one of ``subjects``, loaded to change."""
        found = [a for a in self.accounts_unchecked()
                 if not a.closed and isinstance(a.email, Personal) and a.email.subject in subjects]
        return [self._load(a.id) for a in found]

    # -- signing in -----------------------------------------------------------

    def ask_for_link(self, email: str) -> None:
        """The public operation: every address gets the same answer at once, and the work
        (is there an account, may it have another link, the email) is done after it, so
        neither the answer nor its timing tells whether the address has an account."""
        self.later(functools.partial(self.request_sign_in, email))

    def request_sign_in(self, email: str) -> None:
        """Record a one-time link and its email if the address has an open account that
        may have another link this hour, then try to send it (retried later if that fails)."""
        for attempt in range(3):  # a lost race retried: a refusal would tell the account exists
            try:
                mail = self._record_link(email)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        if mail is not None:
            self._deliver(mail)

    def _record_link(self, email: str) -> SignInMail | None:
        now = self.clock.now()
        account = self._find(email_key(email))
        if account is None or not account.may_have_link(now, self.links_per_hour):
            return None
        address, name = reveal(account.email), reveal(account.name)
        if not isinstance(address, str) or "@" not in address:
            return None  # erased
        link_id, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
        account.issue_link(link_id, secret, now)
        subject = subject_for_email(address)
        mail = SignInMail(account=account.id.hex, link_id=link_id,
                          to=Personal(subject, address, label="account email"),
                          name=Personal(subject, str(name), label="account name"),
                          sealed_code=self.link_seal.seal(f"{account.id.hex}.{link_id}.{secret}", link_id),
                          expires_at=account.links[link_id]["expires_at"], at=now)
        self.save(account, mail)  # the link and its email, together or not at all
        return mail

    def deliver_due(self) -> dict[str, int]:
        """Send every sign-in email whose retry is due (or whose sender died); returns
        counts by outcome."""
        now, counts = self.clock.now(), {"sent": 0, "retrying": 0, "given_up": 0}
        for seen in self.directory.mail_due(now):
            mail = self._mail(seen.id)
            if mail is None or not mail.due(now):
                continue
            mail.claim(now)
            try:
                self.save(mail)  # the claim: two instances cannot both send it
            except IntegrityError:
                continue
            counts[self._deliver(mail)] += 1
        return counts

    def _deliver(self, mail: SignInMail) -> str:
        """One attempt at a claimed email; records and returns what happened."""
        if self.send_link is None:
            return "retrying"  # no sender here (the operator's CLI): a service sends it
        now = self.clock.now()
        to, name = reveal(mail.to), reveal(mail.name)
        try:
            code = self.link_seal.unseal(mail.sealed_code, mail.link_id)
        except InvalidTag:
            code = None
        if to == ERASED or name == ERASED:
            mail.give_up(now, "the person's data was erased")
        elif code is None:
            mail.give_up(now, "sealed under another session key")
        elif now >= mail.expires_at:
            mail.give_up(now, "the link expired before it could be sent")
        else:
            try:
                self.send_link(to, name, code)
                mail.sent(now)
            except MailError as error:  # its text may hold the address: keep only the code
                reason = f"SMTP {error.code}" if error.code else "the SMTP server could not be reached"
                mail.failed(now, reason, error.permanent)
                log.warning("sign-in email %s not sent (%s); %s", mail.id, reason,
                            "given up" if mail.finished else "will retry")
        try:
            self.save(mail)
        except IntegrityError:  # its claim went stale and another instance took it over
            pass
        return {"sent": "sent", "pending": "retrying"}.get(mail.status, "given_up")

    def _mail(self, mail_id: uuid.UUID) -> SignInMail | None:
        try:
            return self._load(mail_id)
        except AggregateNotFoundError:
            return None

    def sign_in(self, link: str) -> dict:
        """Exchange a one-time link for a session."""
        account_hex, link_id, secret = _split(link, 3)
        account = self._load_for_credential(account_hex)
        account.use_link(link_id, secret, self.clock.now())
        try:
            self.save(account)
        except IntegrityError:  # the same link, used at the same moment elsewhere
            raise Unauthorized("This sign-in link has been used already.") from None
        session = SESSION_PREFIX + self.sessions.dumps(
            {"a": account.id.hex, "e": account.session_epoch, "s": secrets.token_hex(8)})
        expires = self.clock.now() + self.session_lifetime
        return {"session": session, "expires_at": expires.isoformat(), "account": self.view(account)}

    def authenticate(self, credential: str) -> dict:
        """The principal behind a session or an API token, or Unauthorized."""
        return self.identify(credential)["principal"]

    def identify(self, credential: str) -> dict:
        """The principal behind a credential, and until when the credential holds by itself
        (``until``: a session's expiry, seconds since the epoch; None for an API token): what
        the gateway needs to remember it no longer than that. Unauthorized if it holds not."""
        until = None
        if credential.startswith(TOKEN_PREFIX):
            account_hex, token_id, secret = _split(credential[len(TOKEN_PREFIX):], 3)
            account = self._load_for_credential(account_hex, to_change=False)
            if not account.token_matches(token_id, secret):
                raise Unauthorized("This API token is not valid or has been revoked.")
        elif credential.startswith(SESSION_PREFIX):
            account, signed = self._session_account(credential[len(SESSION_PREFIX):])
            until = (signed + self.session_lifetime).timestamp()
        else:
            raise Unauthorized("Unrecognised credential: use a session or an API token.")
        return {"principal": self.principal(account).to_dict(), "until": until}

    def _session(self, session: str) -> tuple[dict, dt.datetime]:
        """The session's contents and when it was signed, or Unauthorized."""
        try:
            data, signed = self.sessions.loads(session, max_age=self.session_lifetime.total_seconds(),
                                               return_timestamp=True)
        except SignatureExpired:
            raise Unauthorized("Your session has expired; sign in again.") from None
        except BadSignature:
            raise Unauthorized("This session is not valid; sign in again.") from None
        if not isinstance(data, dict) or not isinstance(data.get("a"), str):
            raise Unauthorized("This session is not valid; sign in again.")
        return data, signed

    def _session_account(self, session: str) -> tuple[Account, dt.datetime]:
        """The session's account and when the session was signed."""
        data, signed = self._session(session)
        account = self._load_for_credential(data["a"], to_change=False)
        if account.session_ended(data.get("s")) or data.get("e") != account.session_epoch:
            raise Unauthorized("This session has ended; sign in again.")
        return account, signed

    def sign_out(self, credential: str) -> None:
        """End the session ``credential`` on the server: its cookie, kept or copied, no
        longer works. An API token is not a session: it is revoked, not signed out."""
        if credential.startswith(TOKEN_PREFIX):
            raise Conflict("This is an API token, not a session: revoke it with "
                           "DELETE /me/tokens/<token id>.", "credential")
        if not credential.startswith(SESSION_PREFIX):
            raise Unauthorized("Unrecognised credential: use a session or an API token.")
        try:
            data, signed = self._session(credential[len(SESSION_PREFIX):])
        except Unauthorized:
            return  # expired or never valid: nothing left to end
        actor = f"account:{data['a']}"
        if "s" not in data:  # a session from before sessions had ids: only all of them can end
            self._change(data["a"], lambda a: a.sign_out_everywhere(actor))
            return
        until = signed + self.session_lifetime
        self._change(data["a"], lambda a: a.sign_out(data["s"], until, self.clock.now(), actor))

    def sign_out_everywhere(self, principal: Principal) -> dict:
        """End every session of the account. API tokens are left working (scripts use them):
        the answer lists them and says how to revoke each."""
        view = self._change(principal.account, lambda a: a.sign_out_everywhere(principal.actor))
        tokens = [{"id": t["id"], "label": t["label"]} for t in view["tokens"] if not t["revoked"]]
        left = (f"Your {len(tokens)} API token{'' if len(tokens) == 1 else 's'} still "
                f"work{'s' if len(tokens) == 1 else ''}: revoke any you do not use with "
                "DELETE /me/tokens/<token id>." if tokens else "You have no API tokens.")
        return {"message": f"Every session of yours has ended. {left}", "tokens_left": tokens,
                "revoke_with": "DELETE /me/tokens/{token_id}"}

    # -- API tokens -------------------------------------------------------------

    def issue_token(self, principal: Principal, label: str) -> dict:
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        account = self._get(principal.account)
        account.issue_token(token_id, secret, label, principal.actor)
        self.save_changes(account)  # two at once for one account: a 409, not a 500
        return {"id": token_id, "label": label,
                "token": f"{TOKEN_PREFIX}{account.id.hex}.{token_id}.{secret}"}

    def revoke_token(self, principal: Principal, token_id: str) -> None:
        self._change(principal.account, lambda a: a.revoke_token(token_id, principal.actor))

    # -- queries ------------------------------------------------------------------

    def principal(self, account: Account) -> Principal:
        return Principal(account.id.hex, str(reveal(account.name)), frozenset(account.grants))

    def account(self, principal: Principal, account_id: str) -> dict:
        if principal.account != _hex(account_id):
            require(LEAD, principal)
        return self.view(self._get(account_id))

    def accounts(self, principal: Principal) -> list[dict]:
        require(LEAD, principal)
        views = [self.view(a) for a in self.accounts_unchecked()]
        return sorted(views, key=lambda v: (str(v["name"]).lower(), v["id"]))

    def accounts_unchecked(self) -> list[Account]:
        """Every account, for callers that have checked access already."""
        return [a for a in self.directory.all() if isinstance(a, Account)]

    def view(self, account: Account) -> dict:
        return {
            "id": account.id.hex, "name": reveal(account.name), "email": reveal(account.email),
            "grants": [{"role": r, "urn": s} for r, s in sorted(account.grants, key=str)],
            "tokens": [{"id": t, "label": v["label"], "revoked": v["revoked"]}
                       for t, v in account.tokens.items()],
            "closed": account.closed, "lived_experience": _flag(account.lived_experience),
        }

    # -- internals ------------------------------------------------------------------

    def _load(self, aggregate_id: uuid.UUID, to_change: bool = True) -> Any:
        """From the aggregate cache, emptied first if anyone was erased since it filled.
        Only an aggregate ``to_change`` is copied out of the cache (the copy is most of the
        cost of checking a credential, which only reads)."""
        erasures = self.subject_keys.epoch()
        if erasures != self._erasures:
            self.repository.cache = LRUCache(maxsize=CACHED_ACCOUNTS)
            self._erasures = erasures
        return self.repository.get(aggregate_id, deepcopy_from_cache=to_change)

    def _find(self, key: str) -> Account | None:
        try:
            return self._load(Account.create_id(key))
        except AggregateNotFoundError:
            return None

    # Only a malformed id or a missing account is "not found": a store error while loading
    # (eventsourcing wraps it in a ValueError) must stay an error, not become a 404 or 401.

    def _get(self, account_id: str) -> Account:
        try:
            aggregate_id = _uuid(account_id)
        except ValueError:
            raise NotFound("No such account.", "account") from None
        try:
            account = self._load(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound("No such account.", "account") from None
        if not isinstance(account, Account):
            raise NotFound("No such account.", "account")
        return account

    def _load_for_credential(self, account_hex: str, to_change: bool = True) -> Account:
        try:
            aggregate_id = _uuid(account_hex)
        except ValueError:
            raise Unauthorized("This credential is not valid.") from None
        try:
            account = self._load(aggregate_id, to_change)
        except AggregateNotFoundError:
            raise Unauthorized("This credential is not valid.") from None
        if not isinstance(account, Account):
            raise Unauthorized("This credential is not valid.")
        return account

    def _change(self, account_id: str, command: Callable[[Account], object]) -> dict:
        account = self._get(account_id)
        command(account)
        try:
            self.save(account)
        except IntegrityError:
            raise Conflict("The account changed at the same moment; try again.", "account") from None
        return self.view(account)


def email_key(email: str) -> str:
    return subject_for_email(email)


def _lived(subject: str, flag: bool) -> Personal:
    return Personal(subject, bool(flag), label="lived experience of seeking sanctuary")


def _flag(value: object) -> bool | None:
    """The recorded flag, None if never recorded (or erased)."""
    flag = reveal(value)
    return flag if isinstance(flag, bool) else None


def _split(credential: str, parts: int) -> list[str]:
    pieces = credential.split(".")
    if len(pieces) != parts or not all(pieces):
        raise Unauthorized("This credential is malformed.")
    return pieces


def _hex(value: str) -> str:
    return value.replace("-", "").lower()


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(hex=_hex(value))
