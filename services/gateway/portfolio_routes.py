"""Gateway routes for a school's evidence portfolio: uploading files to an evidence item,
taking one out, and reading them: one file (or a photo's thumbnail), or a submission's
whole portfolio as a zip. Mixed into the gateway service.

An upload is the file itself as the request body, with its Content-Type and ``?filename=``
(as the library's); the applications service checks it by its content. Files are never at
a public or guessable address: each is named by the application and its content hash, and
every request is checked by the service (the school's coordinators, the lead, and panel
members appraising the application who declared no conflict) and recorded.

Reading: the service decides who may read what and answers with references only (a file's
hash; for the zip, its manifest: each file's hash and place, and the contents page); the
gateway sends the bytes from the shared files folder (the same content-addressed store the
service writes), a chunk at a time with each file's hash checked as it is read. So a
portfolio of any size (500 MB by default) never crosses RPC, nor sits whole in memory.
"""

from __future__ import annotations

import base64
import itertools
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from services.applications import schemas
from services.applications.api import ApplicationsApi as Applications
from services.applications.portfolio import EVIDENCE_FILES
from services.gateway.clients import Clients
from services.gateway.routes import route
from shared.authority import MAX_FILE_MB
from shared.errors import DomainError, Invalid
from shared.files import FileStore, megabytes, zip_stream
from shared.runtime import settings_of

log = logging.getLogger(__name__)

BASE = "/schools/<urn>/applications/<year>"
ITEM = f"{BASE}/evidence/<evidence_id>"
FILE = f"{BASE}/files/<sha256>"
# the largest body the gateway reads for one upload: the authority's limit is checked by the
# service; this only bounds memory (a file past it is refused naming its size). An authority may
# raise its per-file limit (20 MB by default) up to this and no further (shared/authority.py
# refuses more at start); nginx's client_max_body_size tracks it, and its base64 form must stay
# under RabbitMQ's largest message (128 MB)
MAX_UPLOAD_BYTES = MAX_FILE_MB * 1024 * 1024
SHOWN_INLINE = ("application/pdf", "image/jpeg", "image/png")  # the browser opens these itself
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ ()-]")
# a PDF opens in the browser's own viewer, which a sandboxed page may not start; the PDF cannot
# script (those with JavaScript are refused) and is never framed
PDF_POLICY = "default-src 'none'; frame-ancestors 'none'"


class PortfolioRoutes:
    clients: Clients

    @route("POST", f"{ITEM}/files", "Upload a file to an evidence item: the file itself is the body, "
           "sent with its Content-Type (PDF, JPEG, PNG, HEIC, DOCX, PPTX, XLSX or plain text; video as a "
           "link instead), named with ?filename=. Photos are kept without their metadata (location, "
           "camera), upright", "applications", op=Applications.add_files, query=schemas.UploadQuery,
           body=None, status=201, errors=(404, 409, 413))
    def upload_evidence_file(self, request: Any, urn: str, year: str, evidence_id: str) -> dict:
        content = read_upload(request)
        upload = {"filename": request.data_in["filename"],
                  "content_type": request.headers.get("Content-Type", ""),
                  "content": base64.b64encode(content).decode("ascii")}
        return self.clients.applications.add_files(request.principal, urn, year, evidence_id,
                                                   {"files": [upload]})

    @route("DELETE", f"{ITEM}/files/<sha256>", "Take a file out of an evidence item for future "
           "submissions (a submission that included it keeps it)", "applications",
           op=Applications.remove_file, errors=(404, 409))
    def remove_evidence_file(self, request: Any, urn: str, year: str, evidence_id: str,
                             sha256: str) -> dict:
        return self.clients.applications.remove_file(request.principal, urn, year, evidence_id, sha256)

    @route("GET", FILE, "One file of the portfolio (?kind=thumbnail: a photo's small copy), for the "
           "school's coordinators, the lead, and panel members clear to see it; recorded",
           "applications", op=Applications.evidence_file, response=None, errors=(404,))
    def evidence_file(self, request: Any, urn: str, year: str, sha256: str) -> Response:
        found = self.clients.applications.evidence_file(request.principal, urn, year, sha256,
                                                        request.data_in)
        if "content" in found:  # a thumbnail: small, made by the service
            return file_response([base64.b64decode(found["content"])], found["content_type"],
                                 found["filename"])
        store = self.evidence_store
        chunks = logged(store.chunks(found["sha256"]))
        # read before the headers go: a file of one chunk (most are) is then checked whole, so an
        # altered one is answered 409, saying so, rather than cut short after a 200
        first = next(chunks, b"")
        return file_response(itertools.chain([first], chunks), found["content_type"],
                             found["filename"], size=store.size(found["sha256"]))

    @route("GET", f"{BASE}/portfolio/<any(draft, final):stage>.zip", "The portfolio as the latest "
           "submission at that stage froze it (a panel member: the one they appraise), as one zip with "
           "a contents page; recorded", "applications", op=Applications.portfolio_manifest, response=None,
           errors=(404,))
    def portfolio_zip(self, request: Any, urn: str, year: str, stage: str) -> Response:
        manifest = self.clients.applications.portfolio_manifest(request.principal, urn, year, stage)
        store = self.evidence_store
        for entry in manifest["files"]:
            store.size(entry["sha256"])  # each is there: a 404 now, not a zip cut short
        entries = [("CONTENTS.txt", [manifest["contents"].encode()]),
                   *((e["path"], store.chunks(e["sha256"])) for e in manifest["files"])]
        return file_response(logged(zip_stream(entries)), "application/zip", manifest["filename"])

    @property
    def evidence_store(self) -> FileStore:
        """The portfolios' files: the shared files folder the applications service writes."""
        return FileStore(Path(settings_of(self.config).data_dir) / EVIDENCE_FILES, "the portfolio")

    @route("POST", f"{FILE}/people", "Record that a file shows a person (by name at the school): once "
           "everyone a file is marked as showing is erased, the file is deleted", "applications",
           op=Applications.mark_file_shows, errors=(404, 409))
    def mark_file_shows(self, request: Any, urn: str, year: str, sha256: str) -> dict:
        return self.clients.applications.mark_file_shows(request.principal, urn, year, sha256,
                                                         request.data_in)

    @route("GET", f"{BASE}/downloads", "Every download of the application's files: who, when, which",
           "applications", op=Applications.downloads, errors=(404,))
    def portfolio_downloads(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.downloads(request.principal, urn, year)


def file_response(content: Iterable[bytes], content_type: str, filename: str,
                  size: int | None = None) -> Response:
    """Sent as it is read (``size``, when known, as its length). Never cached, never sniffed;
    PDFs and photos open in the browser, the rest download."""
    name = _UNSAFE_NAME.sub("_", filename)
    disposition = "inline" if content_type in SHOWN_INLINE else "attachment"
    headers = {"Content-Disposition": f'{disposition}; filename="{name}"',
               "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}
    if content_type == "application/pdf":
        headers["Content-Security-Policy"] = PDF_POLICY
    if size is not None:
        headers["Content-Length"] = str(size)
    return Response(content, content_type=content_type, headers=headers, direct_passthrough=True)


def logged(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks; a file found altered (or gone) is logged: before anything is sent, it is
    refused; while it is sent, the download is cut short (its headers are sent already), so it
    never arrives whole but wrong."""
    try:
        yield from chunks
    except DomainError as failed:
        log.error("a portfolio file was not sent whole: %s", failed.message)
        raise


def read_upload(request: Any) -> bytes:
    """The request body, bounded (the service checks the authority's own limit)."""
    if (request.content_length or 0) > MAX_UPLOAD_BYTES:
        raise Invalid(f"The file is {megabytes(request.content_length)}: too large.",
                      {"file": [f"At most {megabytes(MAX_UPLOAD_BYTES)} is read."]})
    request.max_content_length = MAX_UPLOAD_BYTES
    try:
        return request.get_data(cache=False)
    except RequestEntityTooLarge:
        limit = megabytes(MAX_UPLOAD_BYTES)
        raise Invalid("The file is too large.", {"file": [f"At most {limit}."]}) from None
