"""One email, to one person, for one reason. Plain Python.

A notification is created once per deterministic key (the source event or
reminder, the recipient, the kind), so a redelivered event or a reminder
computed twice finds it already there. Its intent, with the rendered message,
is recorded before anything is sent. A sender claims it (a recorded attempt,
so two senders cannot both take it), hands it to the SMTP server, and records
it sent; once sent it is never sent again. A failure is retried with growing
pauses; a permanent one (or too many) is recorded as failed, for the lead to
see. The one window left: the server accepted the message and the process died
before recording it; the claim then goes stale and the message is sent again,
with the same Message-ID, so mail programs show it once.
"""

from __future__ import annotations

import datetime as dt
import uuid

from eventsourcing.domain import Aggregate, event

from shared.errors import Conflict

_NAMESPACE = uuid.UUID("7e3f1b2a-9c4d-4e6f-8a0b-1c2d3e4f5a6b")
MAX_ATTEMPTS = 8
CLAIM_TIMEOUT = dt.timedelta(minutes=5)  # a claim older than this died with its sender


def backoff(attempt: int) -> dt.timedelta:
    """30 s, 1 min, 2 min ... capped at one hour."""
    return dt.timedelta(seconds=min(30 * 2 ** (attempt - 1), 3600))


class Notification(Aggregate):
    @staticmethod
    def create_id(key: str, **_: object) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"notification/{key}")

    @event("Intended")
    def __init__(
        self,
        key: str,
        kind: str,
        recipient: str,
        message: object,
        reason: str,
        optional: bool,
        due_at: dt.datetime,
        actor: str,
    ) -> None:
        self.key = key
        self.kind = kind
        self.recipient = recipient  # a subject id, not the address: the address is in message
        self.message = message  # to, subject, text, html, message id, attachments (personal)
        self.reason = reason
        self.optional = optional
        self.status = "pending"
        self.attempts: list[dict] = []
        self.next_attempt_at = due_at
        self.claimed_at: dt.datetime | None = None
        self.sent_at: dt.datetime | None = None

    def due(self, now: dt.datetime, claim_timeout: dt.timedelta = CLAIM_TIMEOUT) -> bool:
        if self.status == "pending":
            return now >= self.next_attempt_at
        return self.status == "sending" and now - self.claimed_at >= claim_timeout

    def claim(self, now: dt.datetime, claim_timeout: dt.timedelta = CLAIM_TIMEOUT) -> None:
        if not self.due(now, claim_timeout):
            raise Conflict("This notification is not due.", "notification")
        self._claimed(at=now, actor="system:sender")

    def sent(self, now: dt.datetime) -> None:
        if self.status != "sending":
            raise Conflict("Only a claimed notification can be recorded as sent.", "notification")
        self._sent(at=now, actor="system:sender")

    def failed(self, now: dt.datetime, error: str, permanent: bool) -> None:
        if self.status != "sending":
            raise Conflict("Only a claimed notification can fail.", "notification")
        attempt = len(self.attempts) + 1
        give_up = permanent or attempt >= MAX_ATTEMPTS
        self._attempt_failed(
            at=now,
            error=error[:500],
            permanent=give_up,
            retry_at=None if give_up else now + backoff(attempt),
            actor="system:sender",
        )

    def suppress(self, why: str, actor: str) -> None:
        if self.status not in ("pending",):
            raise Conflict("Only a pending notification can be held back.", "notification")
        self._suppressed(why=why, actor=actor)

    @event("Claimed")
    def _claimed(self, at: dt.datetime, actor: str) -> None:
        self.status = "sending"
        self.claimed_at = at

    @event("Sent")
    def _sent(self, at: dt.datetime, actor: str) -> None:
        self.status = "sent"
        self.sent_at = at

    @event("AttemptFailed")
    def _attempt_failed(
        self, at: dt.datetime, error: str, permanent: bool, retry_at: dt.datetime | None, actor: str
    ) -> None:
        self.attempts.append({"at": at, "error": error})
        self.status = "failed" if permanent else "pending"
        self.next_attempt_at = retry_at or self.next_attempt_at

    @event("Suppressed")
    def _suppressed(self, why: str, actor: str) -> None:
        self.status = "suppressed"
        self.reason = f"{self.reason} (held back: {why})"
