"""The applications service's edges."""

from __future__ import annotations

from marshmallow import fields

from shared.schema import StrictSchema


class PledgeStandingView(StrictSchema):
    urn = fields.String()
    school_name = fields.String(allow_none=True)
    pledged_on = fields.Date(allow_none=True)
    may_apply = fields.Boolean()
    news = fields.Dict(keys=fields.String(), values=fields.Integer(),
                       metadata={"description": "Latest pledges-log position known, by event type"})
