"""A message the lead writes to a group (every coordinator, schools at a stage or late, the
people booked on a session, a panel). Plain Python.

It is recorded once, with whom it went to (schools by URN, people by subject or account id,
never an address), in the same transaction as an email for each of them; each email then
goes as any other (once, retried, in the delivery log). The lead's page chooses its id, so
a form sent twice records it once.
"""

from __future__ import annotations

import uuid

from eventsourcing.domain import Aggregate, event

_NAMESPACE = uuid.UUID("9c4b2e71-5d3a-4f08-b6e1-2a7c9d0f8e53")
GROUPS = ("coordinators", "schools", "session", "panel")


class GroupMessage(Aggregate):
    @staticmethod
    def create_id(message_id: str, **_: object) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"message/{message_id}")

    @event("Sent")
    def __init__(self, message_id: str, group: dict, label: str, subject: str, body: str,
                 recipients: list[dict], actor: str) -> None:
        self.message_id = message_id
        self.group = group
        self.label = label  # the group in words: "schools late for a deadline"
        self.subject = subject
        self.body = body
        self.recipients = recipients  # {"recipient": subject or account id, "urn": its school or None}
        self.sent_by = actor

    def reached(self, urn: str) -> bool:
        return any(r.get("urn") == urn for r in self.recipients)
