"""The events service's edges."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from services.events.programme import DATE_STATUSES, VENUE_STATUSES
from shared.schema import EmailAddress, StrictSchema, Text

URN = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$", error="A URN is exactly 6 digits."))


class When(StrictSchema):
    date_status = fields.String(validate=validate.OneOf(DATE_STATUSES), load_default="confirmed")
    date = fields.Date(allow_none=True, load_default=None)
    month = fields.String(validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="A month as YYYY-MM."),
                          allow_none=True, load_default=None)
    start = fields.Time(allow_none=True, load_default=None, metadata={"description": "UK local time"})
    end = fields.Time(allow_none=True, load_default=None, metadata={"description": "UK local time"})

    @validates_schema
    def _ordered(self, data: dict, **_: object) -> None:
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise ValidationError("The session must end after it starts.", "end")


class Venue(StrictSchema):
    venue_status = fields.String(required=True, validate=validate.OneOf(VENUE_STATUSES))
    venue = Text(200, allow_none=True, load_default=None)
    joining_link = fields.URL(allow_none=True, load_default=None, validate=validate.Length(max=500))


class Details(StrictSchema):
    title = Text(200, required=True)
    description = Text(2000, min_length=0, load_default="")
    audience = Text(200, required=True)
    capacity = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=10000))


class Cancellation(StrictSchema):
    reason = Text(1000, required=True)


class Booking(StrictSchema):
    urn = URN
    name = Text(100, required=True)
    email = EmailAddress(required=True)


class Attendance(StrictSchema):
    booking_id = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{12}$"))
    attended = fields.Boolean(required=True, truthy={True}, falsy={False})


class CatchUpRequest(StrictSchema):
    note = Text(1000, min_length=0, load_default="")


class Proposal(StrictSchema):
    date = fields.Date(required=True)
    start = fields.Time(required=True)
    end = fields.Time(required=True)

    @validates_schema
    def _ordered(self, data: dict, **_: object) -> None:
        if data["end"] <= data["start"]:
            raise ValidationError("The meeting must end after it starts.", "end")


class Answer(StrictSchema):
    accept = fields.Boolean(required=True, truthy={True}, falsy={False})
    reason = Text(1000, min_length=0, load_default="")


class InvitationAnswer(StrictSchema):
    accept = fields.Boolean(required=True, truthy={True}, falsy={False},
                            metadata={"description": "true to accept the invitation, false to decline"})


class Listing(StrictSchema):
    items = fields.List(fields.Dict())
