"""The notifications service's edges."""

from __future__ import annotations

from marshmallow import fields, validate

from shared.schema import StrictSchema

STATUSES = ("pending", "sending", "sent", "failed", "suppressed")


class LogQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    kind = fields.String(validate=validate.Length(min=1, max=50))


class DeliveryAttempt(StrictSchema):
    at = fields.DateTime()
    error = fields.String()


class DeliveryLogEntry(StrictSchema):
    id = fields.String()
    key = fields.String(metadata={"description": "What it is for: the news or reminder, the kind, whom"})
    kind = fields.String(metadata={"example": "final-deadline-reminder"})
    status = fields.String(validate=validate.OneOf(STATUSES))
    to = fields.String(metadata={"description": "The address, or [erased]"})
    subject = fields.String()
    reason = fields.String(metadata={"description": "Why the person gets it, as the email says"})
    optional = fields.Boolean(metadata={"description": "Sent only to those who chose such news"})
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    attempts = fields.List(fields.Nested(DeliveryAttempt))
    next_attempt_at = fields.DateTime(allow_none=True)


class DeliveryLog(StrictSchema):
    items = fields.List(fields.Nested(DeliveryLogEntry), metadata={"description": "Newest first"})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "Every notification, by status"})


class LinkToken(StrictSchema):
    """A link from an email that works without signing in: its signed token."""

    token = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class OfferView(StrictSchema):
    code = fields.String(required=True)
    booking = fields.String(required=True)
    person = fields.String(required=True, metadata={"description": "The subject id the offer is for"})
    expires_at = fields.DateTime(required=True, metadata={"description": "When the offer lapses"})
    lapsed = fields.Boolean(required=True)
    claimed = fields.Boolean(required=True, metadata={"description": "As far as this service has heard"})
    title = fields.String(required=True)
    session = fields.String(required=True, metadata={"description": "The session, in words"})
    name = fields.String(required=True, metadata={"description": "Whom it is offered to"})


class Unsubscription(StrictSchema):
    category = fields.String(required=True)
    what = fields.String(required=True, metadata={"example": "news of CPD sessions"})
    done = fields.Boolean(required=True, metadata={"description": "Already unsubscribed"})
