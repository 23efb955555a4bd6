"""Every operation of the library service, declared once (see shared/operations.py).

Files cross RPC as base64 (at most 5 MB, so at most about 7 MB on the wire).
"""

from __future__ import annotations

import base64
import binascii

from services.library import schemas
from services.library.application import Library
from shared.access import LEAD, PUBLIC, SCHOOL_STAFF, SIGNED_IN, Principal, require
from shared.errors import Forbidden, Invalid
from shared.operations import Operation
from shared.subject_access import PersonalDataApi

RESOURCE = ("resource_id",)
PARTNER = ("partner_id",)
SCHOOL = ("urn",)
LINK = ("urn", "partner_id")


def _is_lead(who: Principal | None) -> bool:
    return who is not None and who.has("lead")


def store_upload(app: Library, filename: str, content_type: str, content: str) -> dict:
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("The file did not arrive intact.", {"file": ["Not valid base64."]}) from None
    return app.store_file(data, content_type, filename)


def file_download(app: Library, who: Principal | None, resource_id: str) -> dict:
    """A resource's file; one not marked public only for someone signed in."""
    lead = _is_lead(who)
    public = app.resource(resource_id, lead)["public"]
    if not public:
        require(SIGNED_IN, who)
    file, content = app.file_of(resource_id, lead)
    return {**file, "public": public, "content": base64.b64encode(content).decode("ascii")}


def resources_seen_by(app: Library, who: Principal, include_retired: bool = False, **query: str) -> dict:
    if include_retired and not _is_lead(who):
        raise Forbidden("Only the local lead sees retired resources.", "include_retired")
    return {"resources": app.resources(include_retired=include_retired, **query)}


def partners_seen_by(app: Library, who: Principal, include_retired: bool = False, **query: str) -> dict:
    if include_retired and not _is_lead(who):
        raise Forbidden("Only the local lead sees organisations taken off the directory.",
                        "include_retired")
    return {"partners": app.partners(include_retired=include_retired, **query)}


class LibraryApi(PersonalDataApi):
    service = "library"

    # -- the lead ------------------------------------------------------------------------
    upload = Operation(LEAD, store_upload, input=schemas.FileUpload, output=schemas.FileView, caller=None)
    add_resource = Operation(LEAD, Library.add_resource, input=schemas.ResourceInput,
                             output=schemas.ResourceView)
    edit_resource = Operation(LEAD, Library.edit_resource, RESOURCE, input=schemas.ResourceInput,
                              output=schemas.ResourceView)
    retire_resource = Operation(LEAD, Library.retire_resource, RESOURCE, input=schemas.Retirement,
                                output=schemas.ResourceView)
    add_partner = Operation(LEAD, Library.add_partner, input=schemas.PartnerInput,
                            output=schemas.PartnerView)
    edit_partner = Operation(LEAD, Library.edit_partner, PARTNER, input=schemas.PartnerInput,
                             output=schemas.PartnerView)
    retire_partner = Operation(LEAD, Library.retire_partner, PARTNER, input=schemas.Retirement,
                               output=schemas.PartnerView)
    all_links = Operation(LEAD, lambda app, **query: {"links": app.links(**query)},
                          input=schemas.LinkQuery, output=schemas.LinkList, caller=None)

    # -- anyone signed in (a public file: anyone) -------------------------------------------
    resources = Operation(SIGNED_IN, resources_seen_by, input=schemas.ResourceQuery,
                          output=schemas.ResourceList, caller="principal")
    resource = Operation(SIGNED_IN, lambda app, who, resource_id: app.resource(resource_id, _is_lead(who)),
                         RESOURCE, output=schemas.ResourceView, caller="principal")
    download = Operation(PUBLIC, file_download, RESOURCE, output=schemas.Download, caller="principal")
    partners = Operation(SIGNED_IN, partners_seen_by, input=schemas.PartnerQuery, output=schemas.PartnerList,
                         caller="principal")

    # -- a school's links ----------------------------------------------------------------------
    record_link = Operation(SCHOOL_STAFF, Library.record_link, SCHOOL, input=schemas.LinkInput,
                            output=schemas.LinkView)
    update_link = Operation(SCHOOL_STAFF, Library.update_link, LINK, input=schemas.LinkUpdate,
                            output=schemas.LinkView)
    end_link = Operation(SCHOOL_STAFF, Library.end_link, LINK, input=schemas.LinkEnd,
                         output=schemas.LinkView)
    school_links = Operation(SCHOOL_STAFF, lambda app, urn: {"links": app.links(urn=urn)}, SCHOOL,
                             output=schemas.LinkList, caller=None)
