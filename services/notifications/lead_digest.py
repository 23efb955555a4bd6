"""The lead's daily digest, part of the notifications application: where the authority
wants one (``lead_mail.daily_digest``), mail for the lead is kept, not sent, and gathered
into one email at the authority's hour (UK time) for everything kept since the last; a day
with nothing kept sends nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.notifications import lead_messages as lm
from services.notifications import messages as m
from services.notifications.directory import Entry


class LeadDigest:
    """Mixed into the notifications application (which gives what it knows, and intends mail)."""

    authority: Any
    clock: Any

    def _digested(self, draft: m.Draft) -> bool:
        return (draft.to_account == m.LEAD and self.authority.lead_mail.daily_digest
                and draft.kind != "lead-digest")

    def _keep_for_digest(self, draft: m.Draft, note_key: str) -> Entry | None:
        """The lead's news kept for the next digest (once: it may be worked out again)."""
        item = self.entry("lead-news", note_key)
        if item.facts:
            return None
        item.learn({"subject": draft.subject, "body": draft.body, "kind": draft.kind,
                    "digest": self._next_digest().isoformat()}, "notifications", 0)
        return item

    def _next_digest(self) -> dt.datetime:
        """The next moment the digest goes: the authority's hour, UK time."""
        zone, at = self.authority.timezone, self.authority.lead_mail.digest_at
        local = self.clock.now().astimezone(zone)
        moment = dt.datetime.combine(local.date(), at, zone)
        if moment <= local:
            moment = dt.datetime.combine(local.date() + dt.timedelta(days=1), at, zone)
        return moment.astimezone(dt.UTC)

    def _digests(self) -> list:
        """A digest for each moment passed that has news kept for it (each goes once)."""
        now, due = self.clock.now(), {}
        for item in self.entries("lead-news"):
            if dt.datetime.fromisoformat(item.get("digest")) <= now:
                due.setdefault(item.get("digest"), []).append(item)
        notes = []
        for moment, items in sorted(due.items()):
            items.sort(key=lambda i: i.created_on)
            on = dt.datetime.fromisoformat(moment).astimezone(self.authority.timezone).date()
            draft = lm.digest([{"subject": i.get("subject"), "body": i.get("body")} for i in items], on)
            notes += self.intend([draft], f"digest/{moment}")
        return notes

