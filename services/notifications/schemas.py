"""The notifications service's edges."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from services.notifications.group_message import GROUPS
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


class Group(StrictSchema):
    """Whom a message from the lead goes to."""

    kind = fields.String(required=True, validate=validate.OneOf(GROUPS), metadata={
        "description": "coordinators (every school), schools (those in urns), session (everyone booked "
                       "on it) or panel (its members)"})
    urns = fields.List(fields.String(validate=validate.Regexp(r"^\d{6}$")), load_default=list)
    label = fields.String(load_default="", validate=validate.Length(max=200),
                          metadata={"description": "The schools chosen, in words"})
    session = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100))
    school_year = fields.String(load_default=None, allow_none=True,
                                validate=validate.Regexp(r"^\d{4}-\d{2}$"))
    stage = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(("draft", "final")))

    @validates_schema
    def _complete(self, data: dict, **_: object) -> None:
        needed = {"schools": ("urns",), "session": ("session",), "panel": ("school_year", "stage")}
        missing = [name for name in needed.get(data["kind"], ()) if not data.get(name)]
        if missing:
            raise ValidationError({name: [f"Needed for a {data['kind']} group."] for name in missing})


class AudienceQuery(StrictSchema):
    group = fields.Nested(Group, required=True)


class Recipient(StrictSchema):
    recipient = fields.String(required=True, metadata={"description": "A subject or account id"})
    name = fields.String(required=True, metadata={"description": "Empty for an account: its own name"})
    email = fields.String(required=True, metadata={"description": "Empty for an account: asked when sent"})
    urn = fields.String(required=True, allow_none=True)
    school = fields.String(required=True)
    account = fields.String(required=True, allow_none=True)


class Audience(StrictSchema):
    label = fields.String(required=True)
    recipients = fields.List(fields.Nested(Recipient), required=True)


class NewMessage(StrictSchema):
    message_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9-]{8,64}$"), metadata={
        "description": "Chosen by the page that previewed it: sending twice records it once"})
    group = fields.Nested(Group, required=True)
    subject = fields.String(required=True, validate=validate.Length(min=1, max=150))
    body = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class MessageView(StrictSchema):
    id = fields.String(required=True)
    sent_at = fields.DateTime(required=True)
    sent_by = fields.String(required=True)
    label = fields.String(required=True, metadata={"description": "Whom it went to, in words"})
    subject = fields.String(required=True)
    body = fields.String(required=True)
    count = fields.Integer(required=True, metadata={"description": "How many people it went to"})
    schools = fields.List(fields.String(), required=True)


class MessageList(StrictSchema):
    items = fields.List(fields.Nested(MessageView), required=True, metadata={"description": "Newest first"})
