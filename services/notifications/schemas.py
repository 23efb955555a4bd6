"""The notifications service's edges."""

from __future__ import annotations

from marshmallow import fields, validate

from shared.schema import StrictSchema

STATUSES = ("pending", "sending", "sent", "failed", "suppressed")


class LogQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    kind = fields.String(validate=validate.Length(min=1, max=50))


class DeliveryLog(StrictSchema):
    items = fields.List(fields.Dict())
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
