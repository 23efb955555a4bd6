"""The accounts application: invitations, roles, sign-in links, sessions, API tokens."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from collections.abc import Callable

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from services.accounts.domain import Account, Erasure, check_grant
from shared.access import LEAD, Principal, require
from shared.clock import Clock, system_clock
from shared.errors import Conflict, Invalid, NotFound, Unauthorized
from shared.mail import MailError
from shared.personal import Personal, PersonalDataApplication, reveal, subject_for_email
from shared.projection import AggregateProjection

log = logging.getLogger(__name__)

SESSION_LIFETIME = dt.timedelta(hours=8)
SESSION_PREFIX, TOKEN_PREFIX = "sess_", "sos_"

# (to, name, link) -> None: hands the one-time link to the person, by email
LinkSender = Callable[[str, str, str], None]
# (to, name, invited by, grants) -> None: tells a new account's person who invited them, for
# what, and how to sign in (no secret: they ask for a sign-in link themselves)
InvitationSender = Callable[[str, str, str, list[dict]], None]


class Accounts(PersonalDataApplication):
    name = "accounts"

    def __init__(self, env: dict | None = None, *, secret_key: str,
                 send_link: LinkSender | None = None, send_invitation: InvitationSender | None = None,
                 clock: Clock | None = None, session_lifetime: dt.timedelta = SESSION_LIFETIME) -> None:
        super().__init__(env)
        self.session_lifetime = session_lifetime
        self.sessions = URLSafeTimedSerializer(secret_key, salt="sanctuary-session")
        self.send_link = send_link
        self.send_invitation = send_invitation
        self.clock = clock or system_clock()
        self.directory = AggregateProjection(self)

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
        if role == "lead":
            self._keep_a_lead(account_id, "take the lead role from the last lead")
        return self._change(account_id, lambda a: a.revoke(role, urn, actor))

    def close_account(self, principal: Principal, account_id: str) -> dict:
        actor = require(LEAD, principal).actor
        if _hex(account_id) == principal.account:
            raise Conflict("You cannot close your own account: ask another lead.", "account")
        self._keep_a_lead(account_id, "close the last lead's account")
        return self._change(account_id, lambda a: a.close(actor))

    def _keep_a_lead(self, account_id: str, doing: str) -> None:
        """Someone must always be able to run the award: never leave no open lead."""
        leads = {a.id.hex for a in self.accounts_unchecked() if not a.closed and ("lead", None) in a.grants}
        if leads == {_hex(account_id)}:
            raise Conflict(f"You cannot {doing}: make someone else a lead first.", "account")

    def erase_person(self, principal: Principal, subjects: list[str], reason: str) -> dict:
        """Record the erasure, shred this service's copy; the rest follows over the bus."""
        actor = require(LEAD, principal).actor
        erasure = Erasure(subjects=sorted(set(subjects)), reason=reason, actor=actor)
        self.save(erasure)
        for subject in erasure.subjects:
            self.erase_subject(subject)
        return {"erasure": str(erasure.id), "subjects": erasure.subjects}

    # -- signing in -----------------------------------------------------------

    def request_sign_in(self, email: str) -> None:
        """Email a one-time link if the address has an open account; say nothing either way
        (a refusal for a lost race would tell that the account exists: retry instead)."""
        for attempt in range(3):
            try:
                return self._email_link(email)
            except IntegrityError:
                if attempt == 2:
                    raise
        return None

    def _email_link(self, email: str) -> None:
        account = self._find(email_key(email))
        address = reveal(account.email) if account else None
        if account is None or account.closed or not isinstance(address, str) or "@" not in address:
            return
        link_id, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
        account.issue_link(link_id, secret, self.clock.now())
        self.save(account)
        if self.send_link is not None:
            self.send_link(address, str(reveal(account.name)), f"{account.id.hex}.{link_id}.{secret}")

    def sign_in(self, link: str) -> dict:
        """Exchange a one-time link for a session."""
        account_hex, link_id, secret = _split(link, 3)
        account = self._load_for_credential(account_hex)
        account.use_link(link_id, secret, self.clock.now())
        try:
            self.save(account)
        except IntegrityError:  # the same link, used at the same moment elsewhere
            raise Unauthorized("This sign-in link has been used already.") from None
        session = SESSION_PREFIX + self.sessions.dumps({"a": account.id.hex, "e": account.session_epoch})
        expires = self.clock.now() + self.session_lifetime
        return {"session": session, "expires_at": expires.isoformat(), "account": self.view(account)}

    def authenticate(self, credential: str) -> dict:
        """The principal behind a session or an API token, or Unauthorized."""
        if credential.startswith(TOKEN_PREFIX):
            account_hex, token_id, secret = _split(credential[len(TOKEN_PREFIX):], 3)
            account = self._load_for_credential(account_hex)
            if not account.token_matches(token_id, secret):
                raise Unauthorized("This API token is not valid or has been revoked.")
        elif credential.startswith(SESSION_PREFIX):
            account = self._session_account(credential[len(SESSION_PREFIX):])
        else:
            raise Unauthorized("Unrecognised credential: use a session or an API token.")
        return self.principal(account).to_dict()

    def _session_account(self, session: str) -> Account:
        try:
            data = self.sessions.loads(session, max_age=self.session_lifetime.total_seconds())
        except SignatureExpired:
            raise Unauthorized("Your session has expired; sign in again.") from None
        except BadSignature:
            raise Unauthorized("This session is not valid; sign in again.") from None
        account = self._load_for_credential(data["a"])
        if account.closed or data["e"] != account.session_epoch:
            raise Unauthorized("This session has ended; sign in again.")
        return account

    def sign_out_everywhere(self, principal: Principal) -> None:
        self._change(principal.account, lambda a: a.sign_out_everywhere(principal.actor))

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

    def _find(self, key: str) -> Account | None:
        try:
            return self.repository.get(Account.create_id(key))
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
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound("No such account.", "account") from None

    def _load_for_credential(self, account_hex: str) -> Account:
        try:
            aggregate_id = _uuid(account_hex)
        except ValueError:
            raise Unauthorized("This credential is not valid.") from None
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise Unauthorized("This credential is not valid.") from None

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
