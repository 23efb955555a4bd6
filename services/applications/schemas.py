"""The applications service's edges: command inputs and views, shared by RPC and HTTP."""

from __future__ import annotations

from marshmallow import fields, validate

from services.applications.accreditation import ACTION_STATUSES, AUDIT_STATUSES, OUTCOMES
from services.applications.panels import OVERALL
from shared.schema import HistoryEntry, StrictSchema, Text

MAX_FILES_AT_ONCE = 20
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


class FileUpload(StrictSchema):
    """A file as the gateway forwards it over RPC (the service checks it by its content)."""

    filename = fields.String(required=True, validate=validate.Length(max=300))
    content_type = fields.String(required=True, validate=validate.Length(max=200))
    content = fields.String(required=True, metadata={"description": "The file's bytes, in base64"})


FILES = fields.List(fields.Nested(FileUpload), validate=validate.Length(max=MAX_FILES_AT_ONCE),
                    metadata={"description": "Files for the portfolio: PDF, JPEG, PNG, HEIC, Word, "
                                             "PowerPoint, Excel or plain text (video: a link)"})


class Evidence(StrictSchema):
    criterion = CRITERION
    title = Text(200, required=True)
    detail = Text(4000, min_length=0, load_default="")
    link = fields.URL(validate=validate.Length(max=1000), allow_none=True, load_default=None)
    files = fields.List(fields.Nested(FileUpload), validate=validate.Length(max=MAX_FILES_AT_ONCE),
                        load_default=list, metadata=FILES.metadata)


class FileBatch(StrictSchema):
    files = fields.List(fields.Nested(FileUpload), required=True,
                        validate=validate.Length(min=1, max=MAX_FILES_AT_ONCE), metadata=FILES.metadata)


class UploadQuery(StrictSchema):
    filename = fields.String(required=True, validate=validate.Length(min=1, max=300),
                             metadata={"example": "assembly-display.jpg"})


class FileShows(StrictSchema):
    name = Text(200, required=True, metadata={
        "description": "The person the file shows, by name at the school (as an erasure names them)",
        "example": "Amira Khan"})


class FileQuery(StrictSchema):
    kind = fields.String(validate=validate.OneOf(("file", "thumbnail")), load_default="file")


class FileDownload(StrictSchema):
    sha256 = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer(metadata={"description": "Of the file as stored (a thumbnail is smaller)"})
    content = fields.String(metadata={"description": "A thumbnail's bytes, in base64 (a file's own bytes "
                                                     "are read from the files folder by its hash)"})


class ManifestEntry(StrictSchema):
    path = fields.String(metadata={"description": "Where the file goes in the zip"})
    sha256 = fields.String()
    size = fields.Integer()


class PortfolioManifest(StrictSchema):
    filename = fields.String()
    contents = fields.String(metadata={"description": "The zip's contents page (CONTENTS.txt)"})
    files = fields.List(fields.Nested(ManifestEntry), metadata={
        "description": "Each file of the zip, by content hash, in order"})


class DownloadView(StrictSchema):
    at = fields.DateTime()
    by = fields.String(metadata={"description": "account:<id>"})
    role = fields.String(metadata={"description": "school, lead or panel"})
    kind = fields.String(metadata={"description": "file, thumbnail or zip"})
    files = fields.List(fields.Dict(), metadata={
        "description": "sha256 and filename of each (a file deleted with a person erased: sha256 and "
                       "erased, without its name)"})


class DownloadRecord(StrictSchema):
    items = fields.List(fields.Nested(DownloadView))


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


REASON = {"description": "Why the membership changes: required once the panel has convened"}


class PanelMember(StrictSchema):
    account = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{32}$"))
    lived_experience = fields.Boolean(required=True, truthy={True}, falsy={False})
    reason = Text(1000, min_length=0, load_default=None, metadata=REASON)


class PanelMemberRemoval(StrictSchema):
    reason = Text(1000, min_length=0, load_default=None, metadata=REASON)


class PanelMemberCorrection(StrictSchema):
    lived_experience = fields.Boolean(required=True, truthy={True}, falsy={False}, metadata={
        "description": "Whether they have lived experience of seeking sanctuary"})
    reason = Text(1000, min_length=0, load_default=None, metadata=REASON)


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


# -- views: what each operation answers. Shapes kept inside an aggregate (an audit entry,
# a submission) are documented as objects, so they stay written in one place.

ACCOUNT = fields.String(metadata={"description": "An account id"})
OBJECT = fields.Dict(keys=fields.String())


class ApplicationView(StrictSchema):
    id = fields.String()
    urn = fields.String()
    school_name = fields.String()
    school_year = fields.String()
    criteria_version = fields.String()
    stage = fields.String()
    renewal_of = fields.String(allow_none=True, metadata={"description": "The award this renews"})
    audit = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={
        "description": "Per criterion: status, practice, next_steps"})
    evidence = fields.List(fields.Dict())
    actions = fields.List(fields.Dict())
    submissions = fields.List(fields.Dict())
    extensions = fields.Dict(keys=fields.String(), values=fields.Dict(),
                             metadata={"description": "Per stage: until, reason, granted_by"})
    feedback = fields.Dict(keys=fields.String(), values=fields.Dict(),
                           metadata={"description": "Released feedback, per stage"})
    visit = fields.Dict(allow_none=True)
    decision = fields.Dict(allow_none=True)
    award = fields.Dict(allow_none=True)
    withdrawal = fields.Dict(allow_none=True)
    portfolio_deleted = fields.Dict(allow_none=True, metadata={
        "description": "When the retention rule deleted the portfolio's files"})
    erased_files = fields.List(fields.String(), metadata={
        "description": "Files (SHA-256) deleted because everyone the lead marked them as showing was erased"})
    missing = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                          metadata={"description": "What each criterion still lacks"})
    next_submission = fields.String(allow_none=True)
    cpd_attended = fields.List(fields.Dict(), metadata={"description": "CPD sessions the school attended"})
    deadline = fields.Date(allow_none=True)
    advice = fields.Dict(allow_none=True, metadata={
        "description": "Set when a first application started sooner than the authority advises "
                       "after the pledge (a whole school year): a warning, not a bar"})
    version = fields.Integer()
    submission = fields.Dict(metadata={
        "description": "For a panel member: the submission under appraisal (its audit and evidence)"})


class History(StrictSchema):
    items = fields.List(fields.Nested(HistoryEntry))


class Certificate(StrictSchema):
    pdf = fields.String(required=True, metadata={"description": "The PDF, base64-encoded"})


class TrailPage(StrictSchema):
    html = fields.String(required=True, metadata={"description": "A printable HTML page"})


class DecisionTrail(StrictSchema):
    urn = fields.String()
    school_name = fields.String()
    school_year = fields.String()
    criteria_version = fields.String()
    stage = fields.String()
    submissions = fields.List(fields.Dict(), metadata={"description": "Each with its evidence"})
    extensions = fields.List(fields.Dict())
    appraisals = fields.List(fields.Dict(), metadata={
        "description": "Declarations, judgements, notes and agreed outcome, with who and when"})
    feedback = fields.List(fields.Dict())
    visit = fields.Dict(allow_none=True)
    decisions = fields.List(fields.Dict(), metadata={"description": "Every decision, in order"})
    decision = fields.Dict(allow_none=True, metadata={"description": "The decision that stands"})


class OverviewRow(StrictSchema):
    urn = fields.String()
    school_name = fields.String()
    stage = fields.String()
    next_submission = fields.String(allow_none=True)
    deadline = fields.Date(allow_none=True)
    late = fields.Boolean()
    sooner_than_advised = fields.Boolean()
    extension = fields.Date(allow_none=True, metadata={"description": "Until when, if extended"})


class CycleOverview(StrictSchema):
    school_year = fields.String()
    today = fields.Date()
    by_stage = fields.Dict(keys=fields.String(), values=fields.Integer())
    applications = fields.List(fields.Nested(OverviewRow))


class MemberDeclaration(StrictSchema):
    urn = fields.String()
    submission = fields.Integer()
    conflicted = fields.Boolean()
    interests = fields.String()


class PanelMemberView(StrictSchema):
    account = ACCOUNT
    name = fields.String(allow_none=True, metadata={"description": "When the panel knows it"})
    lived_experience = fields.Boolean()
    declarations = fields.List(fields.Nested(MemberDeclaration))


class AppraisalProgress(StrictSchema):
    urn = fields.String()
    school_name = fields.String()
    submission = fields.Integer()
    current = fields.Boolean(metadata={
        "description": "Of the school's latest submission at this stage (a resubmission is appraised "
                       "afresh)"})
    members = fields.List(ACCOUNT)
    outstanding = fields.List(ACCOUNT, metadata={"description": "Members still to declare or judge"})
    outcome = fields.String(allow_none=True, validate=validate.OneOf(OVERALL),
                            metadata={"description": "The agreed overall outcome, once agreed"})


class MembershipChange(StrictSchema):
    change = fields.String(validate=validate.OneOf(("added", "removed", "corrected")))
    account = ACCOUNT
    lived_experience = fields.Boolean()
    reason = fields.String()
    by = fields.String()


class Composition(StrictSchema):
    met = fields.Boolean()
    problem = fields.String(allow_none=True, metadata={"description": "What breaks the rule"})
    min_members = fields.Integer()
    min_lived_experience = fields.Integer()


class PanelView(StrictSchema):
    id = fields.String(allow_none=True)
    school_year = fields.String()
    stage = fields.String()
    formed = fields.Boolean()
    meets_on = fields.Date(allow_none=True)
    convened = fields.Boolean()
    members = fields.List(fields.Nested(PanelMemberView))
    assigned = fields.List(fields.String(), metadata={"description": "URNs assigned"})
    changes = fields.List(fields.Nested(MembershipChange), metadata={
        "description": "Changes of membership after the panel convened, with their reasons"})
    appraisals = fields.List(fields.Nested(AppraisalProgress))
    composition = fields.Nested(Composition, metadata={"description": "The composition rule's verdict"})


class AppraisalView(StrictSchema):
    id = fields.String()
    urn = fields.String()
    stage = fields.String()
    members = fields.List(ACCOUNT)
    submission = fields.Integer()
    declarations = fields.Dict(keys=fields.String(), values=fields.Dict(),
                               metadata={"description": "Per member: conflicted, interests"})
    judgements = fields.Dict(keys=fields.String(), values=fields.Dict(),
                             metadata={"description": "Per member, per criterion: outcome, comment"})
    notes = fields.Dict(keys=fields.String(), values=fields.Dict(),
                        metadata={"description": "Per member: strengths, improvements, questions"})
    outcome = fields.Dict(allow_none=True, metadata={
        "description": "The agreed outcome: criteria, overall, members, by"})
    outstanding = fields.List(ACCOUNT)


class AppraisalSummary(StrictSchema):
    urn = fields.String()
    school_name = fields.String()
    stage = fields.String()
    school_year = fields.String()
    declared = fields.Boolean()
    conflicted = fields.Boolean()
    judged = fields.Integer(metadata={"description": "How many criteria I have judged"})
    criteria = fields.Integer()
    agreed = fields.Boolean()


class MyAppraisals(StrictSchema):
    items = fields.List(fields.Nested(AppraisalSummary))


class MyJudgement(StrictSchema):
    outcome = fields.String()
    comment = fields.String()


class MyNotes(StrictSchema):
    strengths = fields.String()
    improvements = fields.String()
    questions = fields.String()


class MemberAppraisal(AppraisalSummary):
    declaration = fields.Nested(Declaration, allow_none=True)
    judgements = fields.Dict(keys=fields.String(), values=fields.Nested(MyJudgement),
                             metadata={"description": "Mine, per criterion"})
    notes = fields.Nested(MyNotes, allow_none=True)
