"""The accounts service's edges."""

from __future__ import annotations

from marshmallow import fields, validate

from shared.access import ROLES
from shared.schema import StrictSchema, Text

EMAIL = fields.Email(required=True, validate=validate.Length(max=254))
URN = fields.String(validate=validate.Regexp(r"^\d{6}$", error="A URN is exactly 6 digits."),
                    allow_none=True)


class Grant(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    urn = URN


class Invite(StrictSchema):
    email = EMAIL
    name = Text(100, required=True)
    grants = fields.List(fields.Nested(Grant), required=True, validate=validate.Length(min=1, max=20))


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


class AccountList(StrictSchema):
    accounts = fields.List(fields.Nested(AccountView))


class Session(StrictSchema):
    session = fields.String(metadata={"description": "Send as `Authorization: Bearer <session>`"})
    expires_at = fields.String()
    account = fields.Nested(AccountView)


class Accepted(StrictSchema):
    message = fields.String()
