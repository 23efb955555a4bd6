"""The applications service's edges: command inputs and views, shared by RPC and HTTP."""

from __future__ import annotations

from marshmallow import fields, validate

from services.applications.accreditation import ACTION_STATUSES, AUDIT_STATUSES, OUTCOMES
from services.applications.panels import OVERALL
from shared.schema import StrictSchema, Text

STAGE = fields.String(required=True, validate=validate.OneOf(("draft", "final")))
CRITERION = fields.String(required=True, validate=validate.Regexp(r"^[a-z]+-\d$"),
                          metadata={"example": "learn-1"})


class PledgeStandingView(StrictSchema):
    urn = fields.String()
    school_name = fields.String(allow_none=True)
    pledged_on = fields.Date(allow_none=True)
    may_apply = fields.Boolean()
    news = fields.Dict(keys=fields.String(), values=fields.Integer(),
                       metadata={"description": "Latest pledges-log position known, by event type"})


class Start(StrictSchema):
    school_year = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}$"),
                                metadata={"example": "2026-27"})


class AuditEntry(StrictSchema):
    criterion = CRITERION
    status = fields.String(required=True, validate=validate.OneOf(AUDIT_STATUSES))
    practice = Text(4000, min_length=0, load_default="")
    next_steps = Text(2000, min_length=0, load_default="")


class Evidence(StrictSchema):
    criterion = CRITERION
    title = Text(200, required=True)
    detail = Text(4000, min_length=0, load_default="")
    link = fields.URL(validate=validate.Length(max=1000), allow_none=True, load_default=None)


class Action(StrictSchema):
    criterion = CRITERION
    action = Text(1000, required=True)
    owner = Text(100, required=True)
    status = fields.String(validate=validate.OneOf(ACTION_STATUSES), load_default="planned")
    target_date = fields.Date(allow_none=True, load_default=None)
    action_id = fields.String(validate=validate.Regexp(r"^[0-9a-f]{12}$"),
                              metadata={"description": "To update an action already planned"})


class Submission(StrictSchema):
    stage = STAGE


class Withdrawal(StrictSchema):
    reason = Text(1000, required=True)


class Extension(StrictSchema):
    stage = STAGE
    until = fields.Date(required=True)
    reason = Text(1000, required=True)
    beyond_panel_meeting = fields.Boolean(load_default=False, truthy={True}, falsy={False}, metadata={
        "description": "The lead knows the extension runs past the day the stage's panel meets "
                       "(that panel will not see the submission); required then"})


class PanelMember(StrictSchema):
    account = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{32}$"))
    lived_experience = fields.Boolean(required=True, truthy={True}, falsy={False})


class Declaration(StrictSchema):
    conflicted = fields.Boolean(required=True, truthy={True}, falsy={False})
    interests = Text(1000, min_length=0, load_default="",
                     metadata={"description": "Any tie to the school; required when conflicted"})


class Judgement(StrictSchema):
    criterion = CRITERION
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    comment = Text(4000, required=True)


class Notes(StrictSchema):
    strengths = Text(4000, min_length=0, load_default="")
    improvements = Text(4000, min_length=0, load_default="")
    questions = Text(4000, min_length=0, load_default="")


class CriterionOutcome(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    comment = Text(4000, required=True)


class AgreedOutcome(StrictSchema):
    criteria = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[a-z]+-\d$")),
                           values=fields.Nested(CriterionOutcome), required=True)
    overall = fields.String(required=True, validate=validate.OneOf(OVERALL))
    members = fields.List(fields.String(validate=validate.Regexp(r"^[0-9a-f]{32}$")), required=True,
                          validate=validate.Length(min=1, max=20))


class FeedbackRelease(StrictSchema):
    summary = Text(4000, required=True)


class VisitPlan(StrictSchema):
    on = fields.Date(required=True)


class VisitRecord(StrictSchema):
    attendees = fields.List(Text(100), required=True, validate=validate.Length(min=1, max=50))
    notes = Text(8000, required=True)


class DecisionInput(StrictSchema):
    reasons = Text(4000, required=True)
    evidence_due = fields.Date(allow_none=True, load_default=None)


class AsOf(StrictSchema):
    as_of = fields.AwareDateTime(metadata={"description": "The state at this instant (ISO 8601)"})


# Views are plain JSON built by the application; documented loosely (dicts) to stay one source.
class ApplicationView(StrictSchema):
    class Meta:
        unknown = "include"

    id = fields.String()
    urn = fields.String()
    school_name = fields.String()
    school_year = fields.String()
    stage = fields.String()
    audit = fields.Dict()
    evidence = fields.List(fields.Dict())
    actions = fields.List(fields.Dict())
    submissions = fields.List(fields.Dict())
    feedback = fields.Dict()
    missing = fields.Dict(metadata={"description": "What each criterion still lacks"})
    next_submission = fields.String(allow_none=True)
    deadline = fields.Date(allow_none=True)
    advice = fields.Dict(allow_none=True, metadata={
        "description": "Set when a first application started sooner than the authority advises "
                       "after the pledge (a whole school year): a warning, not a bar"})


class Listing(StrictSchema):
    items = fields.List(fields.Dict())
