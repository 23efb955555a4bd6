"""The library service's edges: command inputs and views, shared by RPC and HTTP.

Which criteria codes exist is the authority's data, so inputs check only their
shape here; the application checks them against the authority's criteria.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from services.library.domain import PARTNER_KINDS, RESOURCE_KINDS, STAGES
from services.library.files import MAX_FILENAME
from shared.schema import StrictSchema, Text


def criterion_code(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Regexp(r"^[a-z]+-\d{1,2}$",
                                                  error="A criterion code, e.g. share-6."),
                         metadata={"description": "A criterion code of the authority's criteria",
                                   "example": "share-6"}, **kwargs)


def an_id(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Regexp(r"^[0-9a-f]{32}$", error="An id: 32 hexadecimal digits."),
                         metadata={"example": "0123456789abcdef0123456789abcdef"}, **kwargs)


SHA256 = fields.String(required=True, validate=validate.Regexp(
    r"^[0-9a-f]{64}$", error="A SHA-256: 64 lowercase hexadecimal digits."))
FLAG = {"truthy": {True, "true"}, "falsy": {False, "false"}}  # JSON booleans, or true/false in a query


class HttpsUrl(fields.Url):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(schemes={"https"}, require_tld=True, **kwargs)
        self.metadata.setdefault("maxLength", 500)
        self.validators.append(validate.Length(max=500))


class FileName(Text):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(MAX_FILENAME, **kwargs)


# -- files ---------------------------------------------------------------------------------


class UploadQuery(StrictSchema):
    """The file itself is the request body, sent with its Content-Type."""

    filename = FileName(required=True, metadata={
        "description": "The file's name; its ending must fit the Content-Type (guidance.pdf)",
        "example": "guidance.pdf"})


class FileRef(StrictSchema):
    """A file uploaded before (POST /library/files), named as the resource offers it."""

    sha256 = SHA256
    filename = FileName(required=True)


class FileUpload(StrictSchema):
    """A file as the gateway forwards it over RPC, once it has checked it (the library checks
    it again)."""

    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    content = fields.String(required=True, metadata={"description": "The file's bytes, in base64"})


class FileView(StrictSchema):
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()


class Download(FileView):
    """A resource's file, for the gateway to send as itself (not as JSON)."""

    public = fields.Boolean(required=True)
    content = fields.String(required=True, metadata={"description": "The file's bytes, in base64"})


# -- resources ---------------------------------------------------------------------------------


class ResourceInput(StrictSchema):
    title = Text(200, required=True)
    description = Text(2000, min_length=0, load_default="")
    kind = fields.String(required=True, validate=validate.OneOf(RESOURCE_KINDS))
    url = HttpsUrl(load_default=None, metadata={"description": "For a link: its https:// address"})
    file = fields.Nested(FileRef, load_default=None, metadata={"description": "For a file"})
    criteria = fields.List(criterion_code(), load_default=list, validate=validate.Length(max=20))
    stages = fields.List(fields.String(validate=validate.OneOf(STAGES)), load_default=list,
                         validate=validate.Length(max=len(STAGES)))
    public = fields.Boolean(load_default=False, truthy={True}, falsy={False}, metadata={
        "description": "A file anyone may download without signing in"})

    @validates_schema
    def _kind_fits(self, data: dict, **kwargs: Any) -> None:
        if data.get("kind") == "link" and not data.get("url"):
            raise ValidationError("A link needs its url.", "url")
        if data.get("kind") == "link" and data.get("file"):
            raise ValidationError("A link has no file.", "file")
        if data.get("kind") == "file" and not data.get("file"):
            raise ValidationError("A file resource needs its file: upload it first.", "file")
        if data.get("kind") == "file" and data.get("url"):
            raise ValidationError("A file resource has no url.", "url")


class Retirement(StrictSchema):
    reason = Text(1000, min_length=0, load_default="")


class ResourceQuery(StrictSchema):
    criterion = criterion_code()
    stage = fields.String(validate=validate.OneOf(STAGES))
    include_retired = fields.Boolean(load_default=False, **FLAG,
                                     metadata={"description": "The lead only: retired ones too"})


class ResourceView(StrictSchema):
    id = fields.String()
    title = fields.String()
    description = fields.String()
    kind = fields.String(metadata={"enum": list(RESOURCE_KINDS)})
    url = fields.String(allow_none=True)
    file = fields.Nested(FileView, allow_none=True)
    download = fields.String(allow_none=True, metadata={"description": "Where to download the file"})
    criteria = fields.List(fields.String())
    stages = fields.List(fields.String())
    public = fields.Boolean()
    retired = fields.Dict(allow_none=True)
    version = fields.Integer()


class ResourceList(StrictSchema):
    resources = fields.List(fields.Nested(ResourceView))


# -- partner organisations -----------------------------------------------------------------------


class PartnerInput(StrictSchema):
    """An organisation: no person's name or contact details."""

    name = Text(200, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(PARTNER_KINDS))
    area = Text(200, min_length=0, load_default="", metadata={"description": "Where it works"})
    website = HttpsUrl(load_default=None)
    offers = Text(2000, min_length=0, load_default="",
                  metadata={"description": "What it offers schools"})


class PartnerQuery(StrictSchema):
    kind = fields.String(validate=validate.OneOf(PARTNER_KINDS))
    include_retired = fields.Boolean(load_default=False, **FLAG)


class PartnerView(StrictSchema):
    id = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"enum": list(PARTNER_KINDS)})
    kind_name = fields.String()
    area = fields.String()
    website = fields.String(allow_none=True)
    offers = fields.String()
    retired = fields.Dict(allow_none=True)
    version = fields.Integer()


class PartnerList(StrictSchema):
    partners = fields.List(fields.Nested(PartnerView))


# -- a school's links -------------------------------------------------------------------------------


class LinkInput(StrictSchema):
    partner_id = an_id(required=True)
    activities = Text(2000, required=True, metadata={"description": "What the school and the "
                                                     "organisation do together"})
    since = fields.Date(metadata={"description": "Defaults to today"})
    criteria = fields.List(criterion_code(), load_default=list, validate=validate.Length(max=10), metadata={
        "description": "The Share criteria the link is evidence for"})


class LinkUpdate(StrictSchema):
    activities = Text(2000, required=True)
    criteria = fields.List(criterion_code(), load_default=list, validate=validate.Length(max=10))


class LinkEnd(StrictSchema):
    on = fields.Date(metadata={"description": "Defaults to today"})


class LinkQuery(StrictSchema):
    partner_id = an_id()
    criterion = criterion_code()
    include_ended = fields.Boolean(load_default=True, **FLAG)


class LinkPartner(StrictSchema):
    name = fields.String()
    kind = fields.String()
    listed = fields.Boolean()


class LinkView(StrictSchema):
    urn = fields.String()
    partner_id = fields.String()
    partner = fields.Nested(LinkPartner)
    since = fields.Date()
    activities = fields.String()
    criteria = fields.List(fields.String())
    ended_on = fields.Date(allow_none=True)
    active = fields.Boolean()
    version = fields.Integer()


class LinkList(StrictSchema):
    links = fields.List(fields.Nested(LinkView))
