"""The applications service's domain. Plain Python.

``PledgeStanding`` is what this service knows of a school's pledge, learnt
only from the pledges service's integration events (no call across services
at command time). Events of different types travel on different queues and
may arrive out of order, so the standing keeps the latest news of each kind
by its position in the pledges log and derives the status from those.
"""

from __future__ import annotations

import datetime as dt
import uuid

from eventsourcing.domain import Aggregate, event

from services.applications.accreditation import add_years

_NAMESPACE = uuid.UUID("0d1e7c55-3f0a-4b8e-a2d4-7c9b5e3f1a20")

# the pledge news this service cares about, by public event type
PLEDGE_NEWS = ("SchoolRegistered", "PledgeSigned", "PledgeRenewed", "PledgeWithdrawn")


class PledgeStanding(Aggregate):
    @staticmethod
    def create_id(urn: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"pledge-standing/{urn}")

    @event("Opened")
    def __init__(self, urn: str) -> None:
        self.urn = urn
        self.news: dict[str, dict] = {}  # event type -> {"position", "payload"}

    def learn(self, kind: str, position: int, payload: dict, actor: str) -> bool:
        """Record news unless newer news of that kind is already known."""
        if kind not in PLEDGE_NEWS:
            raise ValueError(f"not pledge news: {kind}")
        known = self.news.get(kind)
        if known is not None and known["position"] >= position:
            return False
        self._learnt(kind=kind, position=position, payload=payload, actor=actor)
        return True

    @event("Learnt")
    def _learnt(self, kind: str, position: int, payload: dict, actor: str) -> None:
        self.news[kind] = {"position": position, "payload": payload}

    def _position(self, *kinds: str) -> int:
        return max((self.news[k]["position"] for k in kinds if k in self.news), default=0)

    @property
    def school_name(self) -> str | None:
        return self.news.get("SchoolRegistered", {}).get("payload", {}).get("name")

    def _current(self) -> dict | None:
        """The news of the last signature or renewal, unless a later withdrawal cancelled it."""
        withdrawn = self._position("PledgeWithdrawn")
        live = [self.news[k]["payload"] for k in ("PledgeSigned", "PledgeRenewed")
                if k in self.news and self.news[k]["position"] > withdrawn]
        return max(live, key=_pledged_on, default=None)

    @property
    def pledged_on(self) -> dt.date | None:
        current = self._current()
        return _pledged_on(current) if current else None

    def lapses_on(self, lapse_years: int) -> dt.date | None:
        """The day the current pledge lapses, as the pledges service set it. News of schema 1
        did not carry it (nor did news learnt before it did): for that news alone the day is
        worked out here, by the rule the pledges service applied then (``lapse_years`` on)."""
        current = self._current()
        if current is None:
            return None
        if current.get("lapses_on"):
            return dt.date.fromisoformat(current["lapses_on"])
        return add_years(_pledged_on(current), lapse_years)

    def may_apply(self, today: dt.date, lapse_years: int) -> bool:
        lapses = self.lapses_on(lapse_years)
        return lapses is not None and today < lapses


def _pledged_on(payload: dict) -> dt.date:
    return dt.date.fromisoformat(payload.get("signed_on") or payload["renewed_on"])


class TrainingRecord(Aggregate):
    """The school's CPD attendance as the events service reports it: evidence for
    the staff-training criterion, learnt over the bus."""

    @staticmethod
    def create_id(urn: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"training/{urn}")

    @event("Opened")
    def __init__(self, urn: str) -> None:
        self.urn = urn
        self.sessions: dict[str, dict] = {}  # booking -> what was attended

    def learn(self, booking: str, title: str, date: str | None, attended: bool, position: int,
              actor: str) -> None:
        known = self.sessions.get(booking)
        if known is not None and known["position"] >= position:
            return  # older news
        self._learnt(booking=booking, title=title, date=date, attended=attended, position=position,
                     actor=actor)

    def attended(self) -> list[dict]:
        kept = [s for s in self.sessions.values() if s["attended"]]
        return sorted(({"title": s["title"], "date": s["date"]} for s in kept),
                      key=lambda s: (s["date"] or "", s["title"]))

    @event("Learnt")
    def _learnt(self, booking: str, title: str, date: str | None, attended: bool, position: int,
                actor: str) -> None:
        self.sessions[booking] = {"title": title, "date": date, "attended": attended,
                                  "position": position}
