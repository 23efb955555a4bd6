"""Messages from the lead to a group, part of the notifications application: who is in a
group as this service knows them (a preview before sending), sending (recorded with an email
each, in one transaction), and the messages a school was sent, kept for its history."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import IntegrityError

from services.notifications import lead_messages as lm
from services.notifications import messages as m
from services.notifications.group_message import GroupMessage
from shared.errors import Conflict, Invalid
from shared.personal import reveal, subject_for_email


class GroupMessaging:
    """Mixed into the notifications application (which gives what it knows, and intends mail)."""

    authority: Any
    index: Any
    save: Any

    def audience(self, group: dict) -> dict:
        """Who the group reaches now, as the lead previews it (names, schools, addresses)."""
        return {"label": self._label(group), "recipients": self._members_of(group)}

    def send_message(self, actor: str, message_id: str, group: dict, subject: str, body: str) -> dict:
        """Record the message and an email for each of its group, once (the id is the page's)."""
        recipients, label = self._members_of(group), self._label(group)
        if not recipients:
            raise Invalid("Nobody is in that group yet.", {"group": ["Choose a group with someone in it."]})
        message = GroupMessage(message_id=message_id, group=group, label=label, subject=subject, body=body,
                               recipients=[{"recipient": r["recipient"], "urn": r.get("urn")}
                                           for r in recipients], actor=actor)
        drafts = [self._draft(r, group, label, subject, body) for r in recipients]
        try:
            self.save(message, *self.intend(drafts, f"message/{message_id}"))
        except IntegrityError:
            raise Conflict("This message has been sent already.", "message_id") from None
        return self.message_view(message)

    def messages(self, urn: str | None = None) -> list[dict]:
        """Messages sent, newest first; ``urn``: only those that reached that school."""
        found = [g for g in self.index.all()
                 if isinstance(g, GroupMessage) and (urn is None or g.reached(urn))]
        return [self.message_view(g) for g in sorted(found, key=lambda g: g.created_on, reverse=True)]

    @staticmethod
    def message_view(g: GroupMessage) -> dict:
        return {"id": g.message_id, "sent_at": g.created_on, "sent_by": g.sent_by, "label": g.label,
                "subject": g.subject, "body": g.body, "count": len(g.recipients),
                "schools": sorted({r["urn"] for r in g.recipients if r.get("urn")})}

    # -- who is in a group --------------------------------------------------------------------

    def _label(self, group: dict) -> str:
        kind = group["kind"]
        if kind == "coordinators":
            return "every school's coordinator"
        if kind == "schools":
            return group.get("label") or "the schools chosen"
        if kind == "session":
            session = self.session(group["session"])
            return f"everyone booked on {m.session_text(session) if session else 'a session'}"
        return f"the {group['stage']} appraisal panel for {group['school_year']}"

    def _members_of(self, group: dict) -> list[dict]:
        kind = group["kind"]
        if kind in ("coordinators", "schools"):
            urns = [e.key for e in self.entries("school")] if kind == "coordinators" else group["urns"]
            return [self._school_contact(urn) for urn in sorted(set(urns)) if self.coordinator(urn)]
        if kind == "session":
            return [self._booked(b) for b in self.entries("booking")
                    if b.get("session") == group["session"] and b.get("status") == "booked"
                    and isinstance(reveal(b.get("person")), dict)]
        panel = next((p for p in self.entries("panel") if (p.get("school_year"), p.get("stage"))
                      == (group["school_year"], group["stage"])), None)
        members = [] if panel is None else sorted(
            k.removeprefix("member:") for k, v in panel.facts.items() if k.startswith("member:") and v)
        return [{"recipient": f"account:{a}", "account": a, "name": "", "email": "", "urn": None,
                 "school": ""} for a in members]

    def _school_contact(self, urn: str) -> dict:
        name, email = self.coordinator(urn)
        return {"recipient": subject_for_email(email), "name": name, "email": email, "urn": urn,
                "school": self.entry("school", urn).get("name", urn), "account": None}

    def _booked(self, booking: Any) -> dict:
        person, urn = reveal(booking.get("person")), booking.get("urn")
        return {"recipient": subject_for_email(person["email"]), "name": person["name"],
                "email": person["email"], "urn": urn, "account": None,
                "school": self.entry("school", urn or "").get("name", urn or "")}

    def _draft(self, r: dict, group: dict, label: str, subject: str, body: str) -> m.Draft:
        reason = {"session": m.BOOKED,
                  "panel": f"you are a member of the {group.get('stage')} appraisal panel for "
                           f"{group.get('school_year')}"}.get(group["kind"], m.COORDINATOR)
        if r.get("account"):
            return lm.from_lead("", "", subject, body, reason, label, account=r["recipient"])
        return lm.from_lead(r["email"], r["name"], subject, body, reason, label)
