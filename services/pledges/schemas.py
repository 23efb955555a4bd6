"""The pledges service's edges: command inputs and views, shared by RPC and HTTP."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, validate

from services.pledges.domain import (
    COMMITMENT_BODIES,
    LINK_MAX,
    STATEMENT_MAX,
    TOWN_MAX,
    PledgeStatus,
    https_link,
    strip_unpublishable,
)
from services.pledges.joining import JoinStatus
from shared.errors import Invalid
from shared.schema import Contact, EmailAddress, HistoryEntry, StrictSchema, Text

PHASES = ("nursery", "primary", "middle", "secondary", "all-through", "special",
          "alternative-provision", "post-16")
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")


class Postcode(fields.String):
    """A UK postcode, normalised to upper case with one space."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        match = _POSTCODE.match(text)
        if not match:
            raise ValidationError("Not a valid UK postcode.")
        return f"{match.group(1)} {match.group(2)}"


URN = fields.String(
    required=True,
    validate=validate.Regexp(r"^\d{6}$", error="A URN is exactly 6 digits."),
    metadata={"description": "The school's 6-digit unique reference number", "example": "103712"},
)


class RegisterSchool(StrictSchema):
    urn = URN
    name = Text(200, required=True)
    phase = fields.String(required=True, validate=validate.OneOf(PHASES))
    postcode = Postcode(required=True)
    coordinator = fields.Nested(Contact, required=True)


class ExpressInterest(StrictSchema):
    on = fields.Date(metadata={"description": "Defaults to today"})


class RecordCommitment(StrictSchema):
    body = fields.String(required=True, validate=validate.OneOf(COMMITMENT_BODIES))
    given_by = Text(100, required=True)
    role = Text(100, required=True)
    on = fields.Date(metadata={"description": "Defaults to today"})


class SignPledge(StrictSchema):
    signed_by = Text(100, required=True)
    role = Text(100, required=True)
    signed_on = fields.Date(metadata={"description": "Defaults to today"})


class ImportPledge(StrictSchema):
    """A pledge signed before the school's records came into this system."""

    signed_by = Text(100, required=True)
    role = Text(100, required=True)
    signed_on = fields.Date(required=True,
                            metadata={"description": "The day it was signed, not in the future"})


class RenewPledge(StrictSchema):
    renewed_by = Text(100, required=True)
    role = Text(100, required=True)
    renewed_on = fields.Date(metadata={"description": "Defaults to today"})


class WithdrawPledge(StrictSchema):
    reason = Text(1000, required=True)
    withdrawn_on = fields.Date(metadata={"description": "Defaults to today"})


class Newsletter(StrictSchema):
    subscribed = fields.Boolean(required=True, truthy={True}, falsy={False})


class ChangeCoordinator(Contact):
    pass


class PublishableText(Text):
    """Text that will be published: what XML cannot carry is refused, not silently dropped."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if strip_unpublishable(text) != text:
            raise ValidationError("Must not contain control characters.")
        return text


class HttpsLink(fields.URL):
    """A link to the school's own page: https only."""

    def __init__(self, **kwargs: Any) -> None:
        # the length is the domain's rule (https_link), which also turns a blank link into None
        super().__init__(schemes={"https"}, require_tld=True,
                         error_messages={"invalid": "Must be an https:// link to the school's own page."},
                         **kwargs)
        self.metadata.setdefault("maxLength", LINK_MAX)
        self.metadata.setdefault("pattern", r"^https://")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        link = super()._deserialize(value, attr, data, **kwargs)
        try:
            return https_link(link)  # the domain's own rule: a dotted host, no credentials
        except Invalid as refused:
            raise ValidationError(refused.fields["link"]) from None


class ShareAward(StrictSchema):
    """What the school chooses to show beside its name; each field left out (or null) is
    not shown. The whole choice is replaced each time."""

    town = PublishableText(TOWN_MAX, allow_none=True, metadata={
        "description": "The town or area, in the school's own words (never the postcode)",
        "example": "Coventry"})
    statement = PublishableText(STATEMENT_MAX, multiline=True, allow_none=True, metadata={
        "description": "A short statement, plain text"})
    link = HttpsLink(allow_none=True, metadata={
        "description": "The school's own news page (https only)",
        "example": "https://hill-primary.example.org/news/sanctuary"})


class SchoolQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(PledgeStatus.ALL))


# -- views -----------------------------------------------------------------------


class CommitmentView(StrictSchema):
    body = fields.String()
    given_by = fields.String()
    role = fields.String()
    on = fields.Date()


class PledgeView(StrictSchema):
    signed_by = fields.String()
    role = fields.String()
    signed_on = fields.Date()
    imported = fields.Boolean(metadata={"description": "Entered from earlier records, not signed here"})
    renewed_on = fields.Date(allow_none=True)
    lapses_on = fields.Date(allow_none=True)


class SchoolView(StrictSchema):
    urn = fields.String()
    name = fields.String()
    phase = fields.String()
    postcode = fields.String()
    coordinator = fields.Nested(Contact)
    status = fields.String(metadata={"enum": list(PledgeStatus.ALL)})
    interest_on = fields.Date(allow_none=True)
    commitments = fields.List(fields.Nested(CommitmentView))
    pledge = fields.Nested(PledgeView, allow_none=True)
    withdrawn = fields.Dict(allow_none=True)
    newsletter = fields.Boolean()
    version = fields.Integer()


class SchoolList(StrictSchema):
    schools = fields.List(fields.Nested(SchoolView))


class SharedChoice(StrictSchema):
    town = fields.String()
    statement = fields.String()
    link = fields.String()


class AwardView(StrictSchema):
    awarded_on = fields.Date()
    expires_on = fields.Date()


class AwardedSchool(StrictSchema):
    """A school as the public sees it: its name, the date of its award, and only the
    extras it chose to show (a field it did not choose is absent)."""

    name = fields.String(required=True)
    awarded_on = fields.Date(required=True)
    town = fields.String()
    statement = fields.String()
    link = fields.String()


class AwardedSchools(StrictSchema):
    schools = fields.List(fields.Nested(AwardedSchool))


class SharingView(StrictSchema):
    urn = fields.String()
    sharing = fields.Boolean(metadata={"description": "Whether the school has chosen to be listed"})
    choice = fields.Nested(SharedChoice, allow_none=True)
    chosen_at = fields.DateTime(allow_none=True)
    award = fields.Nested(AwardView, allow_none=True,
                          metadata={"description": "The award in force today, as the applications "
                                                   "service announced it"})
    listed = fields.Boolean(metadata={"description": "Whether the school is on the public list now"})
    public = fields.Nested(AwardedSchool, allow_none=True,
                           metadata={"description": "Exactly what the public sees of the school now"})


class SchoolHistory(StrictSchema):
    urn = fields.String()
    history = fields.List(fields.Nested(HistoryEntry))


# -- schools asking to join ---------------------------------------------------------


class AskToJoin(StrictSchema):
    urn = URN
    school_name = Text(200, required=True)
    phase = fields.String(required=True, validate=validate.OneOf(PHASES))
    postcode = Postcode(required=True)
    name = Text(100, required=True, metadata={"description": "Who will lead the school's work"})
    role = Text(100, required=True, metadata={"description": "Their role at the school"})
    email = EmailAddress(required=True)
    head_teacher = Text(100, allow_none=True, metadata={
        "description": "The head teacher who approved it, where the authority needs that"})
    head_approval = fields.Boolean(truthy={True}, falsy={False}, allow_none=True)


class JoinReceived(StrictSchema):
    received_on = fields.Date()


class JoinQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(JoinStatus.ALL))


class DeclineJoin(StrictSchema):
    reason = Text(1000, required=True, multiline=True)


class JoinContact(StrictSchema):
    name = fields.String()
    email = fields.String()
    role = fields.String()


class JoinRequestView(StrictSchema):
    id = fields.String()
    urn = fields.String()
    school_name = fields.String()
    phase = fields.String()
    postcode = fields.String()
    contact = fields.Nested(JoinContact)
    head_teacher = fields.String(allow_none=True)
    received_on = fields.Date()
    status = fields.String(metadata={"enum": list(JoinStatus.ALL)})
    decided_on = fields.Date(allow_none=True)
    reason = fields.String(allow_none=True)
    registered = fields.Boolean(metadata={"description": "Whether a school with this URN is registered"})


class JoinRequestList(StrictSchema):
    requests = fields.List(fields.Nested(JoinRequestView))


class CoordinatorContact(StrictSchema):
    """Whom the notifications service writes to about a school."""

    urn = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)


class JoinNotice(StrictSchema):
    """What the notifications service needs to write to the person who asked."""

    name = fields.String()
    email = fields.String()
    school_name = fields.String()
    urn = fields.String()
    status = fields.String()
    reason = fields.String(allow_none=True)
