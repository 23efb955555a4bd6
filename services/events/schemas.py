"""The events service's edges."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from services.events.programme import DATE_STATUSES, LISTED_BY_LEAD, VENUE_STATUSES
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


JOINING_LINK = {"description": "Kept only when the venue is online; shown only to people booked"}


class Venue(StrictSchema):
    venue_status = fields.String(required=True, validate=validate.OneOf(VENUE_STATUSES))
    venue = Text(200, allow_none=True, load_default=None)
    joining_link = fields.URL(allow_none=True, load_default=None, validate=validate.Length(max=500),
                              schemes={"https"}, metadata=JOINING_LINK)


class NewSession(When):
    """When and where: the venue is to be confirmed unless said."""

    venue_status = fields.String(validate=validate.OneOf(VENUE_STATUSES), load_default="tbc")
    venue = Text(200, allow_none=True, load_default=None)
    joining_link = fields.URL(allow_none=True, load_default=None, validate=validate.Length(max=500),
                              schemes={"https"}, metadata=JOINING_LINK)


CAPACITY = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=10000),
                          metadata={"description": "Places in each session; none: no limit"})


class Details(StrictSchema):
    title = Text(200, required=True)
    description = Text(2000, min_length=0, load_default="")
    audience = Text(200, required=True)
    capacity = CAPACITY
    runs_by = Text(200, allow_none=True, load_default=None, metadata={"description": "None: unchanged"})


class NewEvent(StrictSchema):
    title = Text(200, required=True)
    description = Text(2000, min_length=0, load_default="")
    kind = fields.String(required=True, validate=validate.OneOf(LISTED_BY_LEAD),
                         metadata={"description": "session: dated sessions; series: a series of them; "
                                                  "on_request: schools ask; run_by_others: listed only"})
    runs_by = Text(200, required=True)
    audience = Text(200, required=True)
    capacity = CAPACITY


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
    code = fields.String(validate=validate.Regexp(r"^[a-z0-9-]{1,80}$"), allow_none=True, load_default=None,
                         metadata={"description": "The programme item on request; none: the "
                                                  "authority's support meetings"})


class Proposal(StrictSchema):
    date = fields.Date(required=True)
    start = fields.Time(required=True)
    end = fields.Time(required=True)
    venue = Text(200, min_length=0, load_default="", metadata={"description": "Where, or how to join"})

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


# -- what the service answers (dates ISO, times HH:MM:SS, UK local) ----------------------------

PERSON = {"description": "The person's name and email, or \"[erased]\" once erased"}


class SessionView(StrictSchema):
    id = fields.String(required=True)
    date_status = fields.String(required=True, validate=validate.OneOf(DATE_STATUSES))
    date = fields.Date(allow_none=True)
    month = fields.String(allow_none=True)
    start = fields.Time(allow_none=True)
    end = fields.Time(allow_none=True)
    weekday = fields.String(allow_none=True, metadata={"description": "Derived from the date"})
    venue_status = fields.String(allow_none=True)
    venue = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "scheduled or cancelled"})
    cancelled_because = fields.String(metadata={"description": "Only once cancelled"})
    sequence = fields.Integer(metadata={"description": "Raised by every change (calendar entries follow)"})
    places_taken = fields.Integer()
    places_left = fields.Integer(allow_none=True, metadata={"description": "None: no limit"})
    waiting = fields.Integer()
    past = fields.Boolean(metadata={"description": "The session's day has passed"})
    open = fields.Boolean(metadata={"description": "It takes bookings today"})


class EventView(StrictSchema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String()
    kind = fields.String()
    runs_by = fields.String()
    audience = fields.String()
    capacity = fields.Integer(allow_none=True)
    sessions = fields.List(fields.Nested(SessionView))
    bookable = fields.Boolean()


class ProgrammeView(StrictSchema):
    items = fields.List(fields.Nested(EventView), required=True)


class BookingView(StrictSchema):
    id = fields.String(required=True)
    code = fields.String(required=True)
    title = fields.String()
    session = fields.String(required=True)
    date = fields.Date(allow_none=True)
    start = fields.Time(allow_none=True)
    end = fields.Time(allow_none=True)
    urn = fields.String()
    person = fields.Raw(metadata=PERSON)
    status = fields.String(metadata={"description": "booked, waiting, offered, cancelled, "
                                                   "offer_expired, attended or absent"})
    offer_expires_at = fields.DateTime(allow_none=True)
    joining_link = fields.String(allow_none=True, metadata={"description": "Once the place is booked"})
    session_status = fields.String()
    position = fields.Integer(allow_none=True, metadata={"description": "In the waiting list's queue"})


class Booker(StrictSchema):
    """Whom the notifications service writes to about a booking."""

    booking = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)


class BookingList(StrictSchema):
    items = fields.List(fields.Nested(BookingView), required=True)


class SessionBookings(StrictSchema):
    code = fields.String(required=True)
    session = fields.String(required=True)
    started = fields.Boolean(metadata={"description": "Attendance is recorded from then on"})
    bookings = fields.List(fields.Nested(BookingView))


class Register(StrictSchema):
    items = fields.List(fields.Nested(SessionBookings), required=True)


class RecordEntry(StrictSchema):
    code = fields.String(required=True)
    title = fields.String()
    date = fields.Date(allow_none=True)
    person = fields.Raw(metadata=PERSON)
    status = fields.String(metadata={"description": "attended, or booked (not yet recorded)"})


class CpdRecord(StrictSchema):
    items = fields.List(fields.Nested(RecordEntry), required=True)


class ProposalView(StrictSchema):
    date = fields.Date()
    start = fields.Time()
    end = fields.Time()
    venue = fields.String(allow_none=True)
    sequence = fields.Integer(metadata={"description": "Raised by every new proposal"})


class CatchUpView(StrictSchema):
    id = fields.String(required=True)
    urn = fields.String()
    code = fields.String(allow_none=True, metadata={"description": "The programme item on request"})
    title = fields.String()
    note = fields.String()
    status = fields.String(metadata={"description": "requested, proposed, confirmed or declined"})
    requested_at = fields.DateTime()
    proposal = fields.Nested(ProposalView, allow_none=True)
    declined_because = fields.String(allow_none=True)


class CatchUpList(StrictSchema):
    items = fields.List(fields.Nested(CatchUpView), required=True)


class InvitationView(StrictSchema):
    id = fields.String(required=True)
    code = fields.String()
    title = fields.String()
    urn = fields.String()
    school_year = fields.String()
    application = fields.String()
    awarded_on = fields.Date()
    status = fields.String(metadata={"description": "waiting, invited, accepted or declined"})
    answered_by = fields.String(allow_none=True)
    session = fields.String(allow_none=True)
    date = fields.Date(allow_none=True)
    start = fields.Time(allow_none=True)
    end = fields.Time(allow_none=True)
    venue_status = fields.String(allow_none=True)
    venue = fields.String(allow_none=True)
    joining_link = fields.String(allow_none=True, metadata={"description": "Once accepted"})


class InvitationList(StrictSchema):
    items = fields.List(fields.Nested(InvitationView), required=True)
