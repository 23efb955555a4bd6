"""Gateway routes for the library: resources (links and files), the partner
directory, and schools' links with partners. Mixed into the gateway service, whose
``clients`` make the RPCs; each route's access rule and schemas come from the
operation it names.

An upload is the file itself as the request body (not JSON), with its
Content-Type and its name as ``?filename=``; it is checked here as the library
service checks it (type by content, size), then forwarded as base64. A file
marked public downloads without signing in; any other needs a signed-in user.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from services.gateway.clients import Clients
from services.gateway.routes import route
from services.library import schemas as lib
from services.library.api import LibraryApi as Library
from services.library.files import MAX_FILE_BYTES, check_file, check_size
from shared.errors import TooLarge
from shared.messaging import RpcProxy

RESOURCE = "/library/resources/<resource_id>"
PARTNER = "/library/partners/<partner_id>"
LINKS = "/schools/<urn>/partner-links"
LINK = f"{LINKS}/<partner_id>"
# the body of an upload: the largest file, and a little room so that a file just over
# the limit is told its size (by the check) rather than refused for the body's length
MAX_UPLOAD_BYTES = MAX_FILE_BYTES + 64 * 1024
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ ()-]")


class LibraryRoutes:
    clients: Clients
    authenticate: Any
    library = RpcProxy("library")  # declared here, so the gateway's class keeps to its own

    # -- the lead ------------------------------------------------------------------------------

    @route("POST", "/library/files", "Upload a file for the library: the file itself is the body, "
           "sent with its Content-Type (PDF, PNG, JPEG, DOCX, XLSX, PPTX, plain text or CSV; at most "
           f"{MAX_FILE_BYTES // (1024 * 1024)} MB); name it with ?filename=. Then offer it as a resource",
           "library", op=Library.upload, query=lib.UploadQuery, body=None, status=201, errors=(413, 422))
    def upload_file(self, request: Any) -> dict:
        content = _read_file(request)
        declared = request.headers.get("Content-Type")
        facts = check_file(content, declared, request.data_in["filename"])  # before ~7 MB crosses RPC
        return self.clients.library.upload(request.principal, {
            "filename": facts.filename, "content_type": facts.content_type,
            "content": base64.b64encode(content).decode("ascii")})

    @route("POST", "/library/resources", "Add a resource: a link, or a file uploaded before, tagged "
           "with the criteria and stages it helps with", "library",
           op=Library.add_resource, status=201, errors=(404,))
    def add_resource(self, request: Any) -> dict:
        return self.clients.library.add_resource(request.principal, request.data_in)

    @route("PUT", RESOURCE, "Edit a resource (all of it, as when adding it)", "library",
           op=Library.edit_resource, errors=(404, 409))
    def edit_resource(self, request: Any, resource_id: str) -> dict:
        return self.clients.library.edit_resource(request.principal, resource_id, request.data_in)

    @route("POST", f"{RESOURCE}/retirement", "Retire a resource: schools no longer see it",
           "library", op=Library.retire_resource, errors=(404, 409))
    def retire_resource(self, request: Any, resource_id: str) -> dict:
        return self.clients.library.retire_resource(request.principal, resource_id, request.data_in)

    @route("POST", "/library/partners", "Add an organisation to the partner directory (an "
           "organisation only: no person's contact details)", "library",
           op=Library.add_partner, status=201, errors=(409,))
    def add_partner(self, request: Any) -> dict:
        return self.clients.library.add_partner(request.principal, request.data_in)

    @route("PUT", PARTNER, "Edit an organisation in the directory", "library",
           op=Library.edit_partner, errors=(404, 409))
    def edit_partner(self, request: Any, partner_id: str) -> dict:
        return self.clients.library.edit_partner(request.principal, partner_id, request.data_in)

    @route("POST", f"{PARTNER}/retirement", "Take an organisation off the directory (schools' "
           "links with it are kept)", "library", op=Library.retire_partner,
           errors=(404, 409))
    def retire_partner(self, request: Any, partner_id: str) -> dict:
        return self.clients.library.retire_partner(request.principal, partner_id, request.data_in)

    @route("GET", "/library/partner-links", "Every school's links with partner organisations",
           "library", op=Library.all_links)
    def all_partner_links(self, request: Any) -> dict:
        return self.clients.library.all_links(request.principal, request.data_in)

    # -- anyone signed in ---------------------------------------------------------------------

    @route("GET", "/library/resources", "Resources, optionally those that help with one criterion "
           "and/or one stage", "library", op=Library.resources)
    def list_resources(self, request: Any) -> dict:
        return self.clients.library.resources(request.principal, request.data_in)

    @route("GET", RESOURCE, "One resource", "library", op=Library.resource, errors=(404,))
    def get_resource(self, request: Any, resource_id: str) -> dict:
        return self.clients.library.resource(request.principal, resource_id)

    @route("GET", f"{RESOURCE}/file", "Download a resource's file (one marked public: anyone; "
           "otherwise sign in)", "library", op=Library.download, response=None,
           errors=(401, 404))
    def download(self, request: Any, resource_id: str) -> Response:
        principal = self.authenticate(request)  # optional here: the library says if it is needed
        found = self.clients.library.download(principal, resource_id)
        name = _UNSAFE_NAME.sub("_", found["filename"])
        headers = {"Content-Disposition": f'attachment; filename="{name}"',
                   "X-Content-Type-Options": "nosniff",
                   "Cache-Control": "public, max-age=300" if found["public"] else "private, no-store"}
        return Response(base64.b64decode(found["content"]), content_type=found["content_type"],
                        headers=headers)

    @route("GET", "/library/partners", "The directory of local partner organisations", "library",
           op=Library.partners)
    def list_partners(self, request: Any) -> dict:
        return self.clients.library.partners(request.principal, request.data_in)

    # -- a school's links ---------------------------------------------------------------------

    @route("POST", LINKS, "Record the school's link with a partner organisation (evidence for "
           "the Share criteria)", "library", op=Library.record_link, status=201,
           errors=(404, 409))
    def record_partner_link(self, request: Any, urn: str) -> dict:
        return self.clients.library.record_link(request.principal, urn, request.data_in)

    @route("GET", LINKS, "The school's links with partner organisations", "library",
           op=Library.school_links)
    def school_partner_links(self, request: Any, urn: str) -> dict:
        return self.clients.library.school_links(request.principal, urn)

    @route("PUT", LINK, "Update what the school and the organisation do together", "library",
           op=Library.update_link, errors=(404, 409))
    def update_partner_link(self, request: Any, urn: str, partner_id: str) -> dict:
        return self.clients.library.update_link(request.principal, urn, partner_id, request.data_in)

    @route("POST", f"{LINK}/end", "Record that the link has ended (it stays in the record)",
           "library", op=Library.end_link, errors=(404, 409))
    def end_partner_link(self, request: Any, urn: str, partner_id: str) -> dict:
        return self.clients.library.end_link(request.principal, urn, partner_id, request.data_in)


def _read_file(request: Any) -> bytes:
    """The request body, refused with the file's own limit (not the JSON body limit)."""
    length = request.content_length
    if length is not None and length > MAX_UPLOAD_BYTES:
        check_size(length)  # raises TooLarge naming the file and its size
    request.max_content_length = MAX_UPLOAD_BYTES  # also bounds a body sent without a length
    try:
        content = request.get_data(cache=False)
    except RequestEntityTooLarge:
        limit = f"{MAX_FILE_BYTES // (1024 * 1024)} MB"
        raise TooLarge(f"The file is larger than {limit}; the library takes files up to {limit}.",
                       "file") from None
    check_size(len(content))
    return content
