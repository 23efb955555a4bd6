"""What the notifications service knows of the world, learnt from other services'
events: schools and their coordinators, applications in progress, CPD sessions
and bookings. Plain Python.

Each entry keeps, per field, the position of the event it came from, so news
that arrives late (events of different types travel on different queues)
never overwrites newer news.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

_NAMESPACE = uuid.UUID("3b9d7f15-2a6c-4d8e-b0f1-9e8a7c6d5b4a")
_RENAMED = {"extension_draft": "due_draft", "extension_final": "due_final"}  # version 1's names


class Entry(Aggregate):
    """One thing known: ``kind`` (school, application, session, booking) and its key."""

    @staticmethod
    def create_id(kind: str, key: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"{kind}/{key}")

    @event("Opened")
    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        self.facts: dict[str, Any] = {}
        self.positions: dict[str, int] = {}

    def learn(self, facts: dict[str, Any], origin: str, position: int) -> bool:
        """Keep each fact unless newer news of it is known; True if anything changed."""
        newer = {
            k: v
            for k, v in facts.items()
            if self.positions.get(k, (origin, -1))[1] < position
            or self.positions.get(k, (origin, -1))[0] != origin
        }
        if not newer:
            return False
        self._learnt(facts=newer, origin=origin, position=position)
        return True

    def get(self, name: str, default: Any = None) -> Any:
        return self.facts.get(name, default)

    class Learnt(Aggregate.Event):
        """Version 2 keeps a submission's extended day as the day it is due (``due_<stage>``,
        which news may also set at the start or by a further-evidence decision); version 1
        called it ``extension_<stage>``."""

        facts: dict
        origin: str
        position: int

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["facts"] = {_RENAMED.get(k, k): v for k, v in state["facts"].items()}

    @event(Learnt)
    def _learnt(self, facts: dict, origin: str, position: int) -> None:
        self.facts.update(facts)
        for name in facts:
            self.positions[name] = (origin, position)
