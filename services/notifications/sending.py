"""Handing due notifications to the SMTP server, part of the notifications application.

A notification addressed to an account, or to the lead, learns its address and the name
to greet when it is sent, from the accounts service (``People``): no address travels on
the bus, and a closed account is not written to. A notification addressed to a person
the service was told of carries their address already.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from eventsourcing.persistence import IntegrityError

from services.notifications import messages as m
from services.notifications.delivery import Notification
from shared.faults import crash_point
from shared.logs import follow, leave, trail
from shared.mail import Attachment, Email, Mailer, MailError, MailSession
from shared.personal import ERASED, reveal

log = logging.getLogger(__name__)


class People(Protocol):
    """The accounts service, as the sender asks it: open accounts' names and addresses, by id
    or by role. Raises ``Unreachable`` when it cannot answer."""

    def contacts(self, accounts: list[str] | None, role: str | None) -> list[dict]: ...


class Unreachable(Exception):
    """The accounts service did not answer: try again later."""


class Closed(Exception):
    """Nobody to write to (the account is closed, or its person erased)."""


class Sending:
    """Mixed into the notifications application (which gives the store, clock and authority)."""

    authority: Any
    clock: Any
    index: Any
    repository: Any
    claim_timeout: Any
    mail_from: str
    save: Any

    def send_due(self, mailer: Mailer, people: People | None = None) -> dict[str, int]:
        """Send every notification now due; returns counts by what happened."""
        now, counts = self.clock.now(), {"sent": 0, "failed": 0, "retrying": 0}
        due = [n for n in self.index.all() if isinstance(n, Notification) and n.due(now, self.claim_timeout)]
        with mailer.session() as post:  # the round's messages over one connection
            for seen in due:
                outcome = self._send_due(post, seen.id, now, people)
                if outcome:
                    counts[outcome] += 1
        return counts

    def _send_due(self, post: MailSession, note_id: Any, now: Any, people: People | None) -> str | None:
        note = self.repository.get(note_id)
        if not note.due(now, self.claim_timeout):
            return None
        message = reveal(note.message)
        if message == ERASED:
            note.suppress("the person's data was erased", "system:sender")
            self.save(note)
            return None
        token = self._follow(note)  # its lines and events name the request that caused it
        try:
            return self._claim_and_send(post, note, message, now, people)
        finally:
            leave(token)

    def _follow(self, note: Notification) -> Any:
        """Follow the request that caused the notification, as its first event recorded it."""
        intended = next(iter(self.events.get(note.id, lte=1)), None)
        request = getattr(intended, "correlation_id", None) or trail().get("request_id")
        return follow(request_id=request, causation_id=getattr(intended, "causation_id", None) or request,
                      route=f"notifications.send.{note.kind}")

    def _claim_and_send(self, post: MailSession, note: Notification, message: dict, now: Any,
                        people: People | None) -> str | None:
        crash_point("notifications.before_claim")
        note.claim(now, self.claim_timeout)
        try:
            self.save(note)  # the claim: two senders cannot both take it
        except IntegrityError:
            return None
        crash_point("notifications.before_send")
        outcome = self._send(post, note, message, people)
        level = logging.INFO if outcome == "sent" else logging.WARNING
        log.log(level, "%s notification %s %s", note.kind, note.id,
                outcome if outcome == "sent" else f"not sent ({outcome}): {note.attempts[-1]['error']}")
        return outcome

    def _send(self, post: MailSession, note: Notification, message: dict, people: People | None) -> str:
        try:
            to, name = self.addressed(message, people)
        except Unreachable as error:
            note.failed(self.clock.now(), f"cannot learn whom to write to: {error}", permanent=False)
            self.save(note)
            return "retrying" if note.status == "pending" else "failed"
        except Closed as error:
            note.failed(self.clock.now(), str(error), permanent=True)
            self.save(note)
            return "failed"
        try:
            email = self._email(message, note.kind, to, name)
        except (ValueError, TypeError) as error:  # a header no mail server would take
            note.failed(self.clock.now(), f"cannot build the message: {error}", permanent=True)
            self.save(note)
            return "failed"
        try:
            post.send(email)
            crash_point("notifications.after_send")
        except MailError as error:
            note.failed(self.clock.now(), str(error), error.permanent)
            self.save(note)
            return "failed" if note.status == "failed" else "retrying"
        note.sent(self.clock.now())
        self.save(note)
        return "sent"

    def addressed(self, message: dict, people: People | None) -> tuple[tuple[str, ...], str | None]:
        """The addresses and the name to greet: as told, or asked of the accounts service."""
        account = message.get("to_account")
        if account is None:
            return (message["to"],), message.get("greeting")
        if account == m.LEAD:
            leads = people.contacts(None, "lead") if people is not None else []
            leads = sorted((p for p in leads if p.get("email") and p.get("name") != ERASED),
                           key=lambda p: p["name"])
            if not leads:  # no lead account yet: the authority's own address
                return (self.authority.contact_email,), self.authority.lead_team
            return tuple(p["email"] for p in leads), _together([p["name"] for p in leads])
        if people is None:
            raise Unreachable("this sender has no way to ask the accounts service")
        found = people.contacts([account.removeprefix("account:")], None)
        if not found or not found[0].get("email") or found[0].get("name") == ERASED:
            raise Closed(f"{account} is closed or unknown: nobody to write to")
        return (found[0]["email"],), found[0]["name"]

    def _email(self, message: dict, kind: str, to: tuple[str, ...], name: str | None) -> Email:
        text, body_html = message["text"], message["html"]
        if "greeting" in message:  # greeted now; a message recorded before this carries its greeting
            text, body_html = m.greet(name or "colleague", text, body_html)
        return Email(
            kind=kind,
            to=to,
            subject=message["subject"],
            text=text,
            html=body_html,
            sender=self.mail_from,
            reply_to=self.authority.contact_email,
            message_id=message["message_id"],
            headers={"Auto-Submitted": "auto-generated", **message.get("headers", {})},
            attachments=tuple(
                Attachment(a["filename"], a["content_type"], a["data"].encode())
                for a in message["attachments"]
            ),
        )


def _together(names: list[str]) -> str:
    """'Lee', 'Lee and Sam', 'Lee, Sam and Kim'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
