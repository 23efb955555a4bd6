"""Answering the links in emails that work without signing in, part of the notifications
application: what a claim link offers (the gateway's page shows it, and claims with the
events service), and unsubscribing from optional mail (once; what waits is held back)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from eventsourcing.persistence import IntegrityError

from services.notifications import messages as m
from services.notifications.delivery import Notification
from services.notifications.links import CLAIM, UNSUBSCRIBE
from shared.personal import reveal


class LinkAnswers:
    """Mixed into the notifications application (which gives its links, store and clock)."""

    clock: Any
    index: Any
    links: Any
    repository: Any
    save: Any

    def unsubscribed(self, recipient: str, category: str | None) -> bool:
        return category is not None and bool(self.entry("unsubscribed", recipient).get(category))

    def offer(self, token: str) -> dict:
        """What a claim link offers, for its page: the session, whom it is for, until when, and
        whether it has lapsed or been claimed (as far as this service has heard)."""
        data = self.links.read(token, CLAIM)
        booking = self.entry("booking", data["booking"])
        session = self.session(booking.get("session")) or {}
        person = reveal(booking.get("person"))
        lapses = dt.datetime.fromisoformat(data["expires_at"])
        return {"code": data["code"], "booking": data["booking"], "person": data["person"],
                "expires_at": lapses, "lapsed": self.clock.now() >= lapses,
                "claimed": booking.get("status") == "booked", "title": session.get("title", "CPD session"),
                "session": m.session_text(session) if session else "",
                "name": person.get("name", "") if isinstance(person, dict) else ""}

    def unsubscription(self, token: str) -> dict:
        """What an unsubscribe link stops, and whether it has been used already."""
        data = self.links.read(token, UNSUBSCRIBE)
        category = data["category"]
        return {"category": category, "what": m.CATEGORIES.get(category, "these emails"),
                "done": self.unsubscribed(data["recipient"], category)}

    def unsubscribe(self, token: str) -> dict:
        """Stop the optional mail an unsubscribe link names, for the person it was sent to, from
        now on (what is waiting to go is held back too). Works once: after that it says so."""
        data = self.links.read(token, UNSUBSCRIBE)
        recipient, category = data["recipient"], data["category"]
        found = self.unsubscription(token)
        if found["done"]:
            return found
        choice = self.entry("unsubscribed", recipient)
        choice.learn({category: True}, "unsubscribe-link", 1)
        waiting = [self.repository.get(n.id) for n in self.index.all() if isinstance(n, Notification)
                   and n.recipient == recipient and n.status == "pending" and n.optional]
        for note in waiting:
            if self._category_of(note) == category:
                note.suppress(f"unsubscribed from {found['what']}", "system:unsubscribe")
        try:
            self.save(choice, *[n for n in waiting if n.status == "suppressed"])
        except IntegrityError:  # the same link, followed twice at once
            pass
        return {**found, "done": False}

    @staticmethod
    def _category_of(note: Notification) -> str | None:
        message = reveal(note.message)
        return message.get("category") if isinstance(message, dict) else None

