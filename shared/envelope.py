"""The integration event: the versioned public contract between services.

Domain events are a service's private business; what crosses the bus is an
``IntegrationEvent`` built by the service's ``Contract`` from a stored domain
event. Consumers depend on this envelope and the payload schemas only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

# 2: the envelope names the request that caused it (correlation_id) and its immediate cause
# (causation_id: the request, or the event a consumer reacted to). Version 1 envelopes, without
# them, still wait on the broker and in outboxes after an upgrade: consumers read both.
ENVELOPE_VERSION = 2
READ_VERSIONS = (1, 2)
_NAMESPACE = uuid.UUID("6f0f3c52-5b0e-4c8a-9b1e-2a7d1c3e5f90")


@dataclass(frozen=True)
class IntegrationEvent:
    id: str
    type: str
    schema_version: int
    origin: str
    position: int
    occurred_at: str
    authority: str
    actor: str
    payload: dict = field(default_factory=dict)
    envelope_version: int = ENVELOPE_VERSION
    correlation_id: str | None = None  # the request that started it all (shared/logs.py)
    causation_id: str | None = None  # what caused this event: that request, or an event

    @property
    def message_id(self) -> str:
        """What the relay puts in the AMQP ``message_id`` (``<service>:<position>``)."""
        return f"{self.origin}:{self.position}"

    def to_dict(self) -> dict:
        """Its fields, the payload as it is (not copied: asdict's deep copy was a fifth of the
        relay's time, and the body is only ever serialised)."""
        return dict(self.__dict__)


class EnvelopeSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Length(min=1, max=100))
    schema_version = fields.Integer(required=True, validate=validate.Range(min=1))
    origin = fields.String(required=True, validate=validate.Length(min=1, max=50))
    position = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True)
    authority = fields.String(required=True, validate=validate.Length(min=1, max=50))
    actor = fields.String(required=True, validate=validate.Length(min=1, max=200))
    payload = fields.Dict(keys=fields.String(), required=True)
    envelope_version = fields.Integer(required=True, validate=validate.OneOf(READ_VERSIONS))
    correlation_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))
    causation_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))


def parse_envelope(body: dict) -> IntegrationEvent:
    """Validate a received message body; raises marshmallow.ValidationError."""
    data = EnvelopeSchema().load(body)
    data["id"] = str(data["id"])
    data["occurred_at"] = data["occurred_at"].isoformat()
    return IntegrationEvent(**data)


@dataclass(frozen=True)
class PublicEvent:
    """How one domain event class is published: its public name (or a function of
    the event giving it, where one domain event means several milestones),
    version (or a function giving it: an event stored before the payload grew is
    published in the shape it had then) and payload."""

    type: str | Callable[[Any], str]
    schema_version: int | Callable[[Any], int]
    payload: Callable[[Any], dict]

    def type_of(self, domain_event: Any) -> str:
        return self.type(domain_event) if callable(self.type) else self.type

    def version_of(self, domain_event: Any) -> int:
        version = self.schema_version
        return version(domain_event) if callable(version) else version


class Contract:
    """The public events a service publishes, keyed by domain event class; after publishing
    one of ``witnessed_after`` (public types), the service publishes its chain head at once."""

    def __init__(self, origin: str, events: dict[type, PublicEvent],
                 witnessed_after: frozenset[str] = frozenset()) -> None:
        self.origin = origin
        self.events = events
        self.witnessed_after = witnessed_after

    def envelope(self, domain_event: Any, position: int, authority: str) -> IntegrationEvent | None:
        """The integration event for a stored domain event, or None if it is private."""
        public = self.events.get(type(domain_event))
        if public is None:
            return None
        return IntegrationEvent(
            id=str(event_id(authority, domain_event)),
            type=public.type_of(domain_event),
            schema_version=public.version_of(domain_event),
            origin=self.origin,
            position=position,
            occurred_at=_iso(domain_event.timestamp),
            authority=authority,
            actor=getattr(domain_event, "actor", "system"),
            payload=public.payload(domain_event),
            # put on the stored event by its service's mapper (shared/store.py), when a request caused it
            correlation_id=getattr(domain_event, "correlation_id", None),
            causation_id=getattr(domain_event, "causation_id", None),
        )


def event_id(authority: str, domain_event: Any) -> uuid.UUID:
    """Stable across republishing and replay: one stored event, one id."""
    key = f"{authority}/{domain_event.originator_id}/{domain_event.originator_version}"
    return uuid.uuid5(_NAMESPACE, key)


def _iso(timestamp: dt.datetime) -> str:
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=dt.UTC)
    return timestamp.isoformat()
