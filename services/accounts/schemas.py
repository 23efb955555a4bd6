"""The accounts service's edges."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from shared.access import ROLES
from shared.schema import EmailAddress, StrictSchema, Text

EMAIL = EmailAddress(required=True)
URN = fields.String(validate=validate.Regexp(r"^\d{6}$", error="A URN is exactly 6 digits."),
                    allow_none=True)


class Grant(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    urn = URN


LIVED_EXPERIENCE = {"description": "A panel member's lived experience of seeking sanctuary, "
                                   "which the panel's composition rule counts"}


class Invite(StrictSchema):
    email = EMAIL
    name = Text(100, required=True)
    grants = fields.List(fields.Nested(Grant), required=True, validate=validate.Length(min=1, max=20))
    lived_experience = fields.Boolean(truthy={True}, falsy={False}, allow_none=True,
                                      metadata=LIVED_EXPERIENCE)


class LivedExperience(StrictSchema):
    lived_experience = fields.Boolean(required=True, truthy={True}, falsy={False},
                                      metadata=LIVED_EXPERIENCE)


class SignInRequest(StrictSchema):
    email = EMAIL


class SignInLink(StrictSchema):
    link = Text(300, required=True, metadata={"description": "The code from the sign-in email"})


class TokenRequest(StrictSchema):
    label = Text(100, required=True, metadata={"example": "nightly export script"})


class TokenView(StrictSchema):
    id = fields.String()
    label = fields.String()
    revoked = fields.Boolean()


class NewToken(StrictSchema):
    id = fields.String()
    label = fields.String()
    token = fields.String(metadata={"description": "Shown once; only its hash is kept"})


class AccountView(StrictSchema):
    id = fields.String()
    name = fields.String()
    email = fields.String(allow_none=True)
    grants = fields.List(fields.Nested(Grant))
    tokens = fields.List(fields.Nested(TokenView))
    closed = fields.Boolean()
    lived_experience = fields.Boolean(allow_none=True, metadata={
        "description": "Recorded for panel members (null: not recorded)"})


class Invited(AccountView):
    invitation_sent = fields.Boolean(metadata={
        "description": "Whether the invitation email went; if not, the person can still ask for a "
                       "sign-in link"})


class AccountList(StrictSchema):
    accounts = fields.List(fields.Nested(AccountView))


class Session(StrictSchema):
    session = fields.String(metadata={"description": "Send as `Authorization: Bearer <session>`"})
    expires_at = fields.String()
    account = fields.Nested(AccountView)


class Accepted(StrictSchema):
    message = fields.String()


class TokenLeft(StrictSchema):
    id = fields.String()
    label = fields.String()


class SignedOutEverywhere(StrictSchema):
    message = fields.String(required=True)
    tokens_left = fields.List(fields.Nested(TokenLeft), required=True, metadata={
        "description": "API tokens are not sessions: these still work until revoked"})
    revoke_with = fields.String(required=True, metadata={"example": "DELETE /me/tokens/{token_id}"})


class Person(StrictSchema):
    """Whom: an email address, or a name as typed at one school (both, to be thorough)."""

    email = EmailAddress()
    name = Text(100)
    urn = URN

    @validates_schema
    def _whom(self, data: dict, **_: object) -> None:
        if not data.get("email") and not (data.get("name") and data.get("urn")):
            raise ValidationError("Give an email address, or a name with the school's URN.", "email")
        if bool(data.get("name")) != bool(data.get("urn")):
            raise ValidationError("A name needs the school's URN, and the other way round.", "urn")


class ErasureRequest(Person):
    reason = Text(1000, required=True, metadata={"example": "Request by email of 3 Nov 2026"})


class Erasure(StrictSchema):
    subjects = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                           validate=validate.Length(min=1, max=10))
    reason = Text(1000, required=True)


class ErasureView(StrictSchema):
    erasure = fields.String()
    subjects = fields.List(fields.String())


class PersonalRecord(StrictSchema):
    service = fields.String()
    event = fields.String()
    aggregate = fields.String()
    version = fields.Integer()
    at = fields.String()
    fields_ = fields.Dict(data_key="fields", attribute="fields")


class SubjectAccessExport(StrictSchema):
    subjects = fields.List(fields.String())
    records = fields.List(fields.Nested(PersonalRecord))
