"""Pages for the evidence portfolio: a school uploads files to an evidence item (several
at once, a plain multipart form) and takes them out again (after a confirmation); what
the panel and the lead see of the files is added to their pages from here
(``with_file_links``, and the templates under portfolio/).

Files are never served by these pages: every link goes to the JSON API's file URLs
(services/gateway/portfolio_routes.py), which check who is asking and record it. A
refused upload names the file and the reason in the error summary, and nothing is kept.
"""

from __future__ import annotations

import base64
from typing import Any

from werkzeug.wrappers import Response

from services.applications.portfolio import KEPT
from services.gateway.portfolio_routes import MAX_UPLOAD_BYTES
from services.gateway.web.pages import field_errors, page, redirect, render, submit
from shared.access import SCHOOL_STAFF
from shared.errors import Conflict, Invalid, NotFound
from shared.files import TYPES, megabytes

ITEM = "/school/<urn>/application/<year>/evidence/<criterion>/<evidence_id>/files"
PHOTO_TYPES = ("image/jpeg", "image/png", "image/heic")  # those with a thumbnail
ACCEPT = ",".join(e for t in KEPT for e in TYPES[t].extensions)
# what a file's type is called next to its name
KINDS = {t: TYPES[t].short.split(" (")[0] for t in KEPT}
DOWNLOAD_KINDS = {"file": "Opened", "thumbnail": "Thumbnail of", "zip": "Whole portfolio (zip)"}


def files_base(urn: str, year: str) -> str:
    return f"/schools/{urn}/applications/{year}"


def file_links(ref: dict, urn: str, year: str) -> dict:
    """A file reference with where to open it (and its thumbnail) and how to describe it; a
    file deleted because a person it shows was erased has neither (the page says so)."""
    if ref.get("erased"):
        return {**ref, "href": None, "thumbnail": None}
    href = f"{files_base(urn, year)}/files/{ref['sha256']}"
    photo = ref["content_type"] in PHOTO_TYPES
    return {**ref, "href": href, "thumbnail": f"{href}?kind=thumbnail" if photo else None,
            "kind": KINDS.get(ref["content_type"], ref["content_type"]), "size_text": size_text(ref["size"])}


def size_text(size: int) -> str:
    """'2 MB', or for a small file '12 KB' (not '0 MB')."""
    return megabytes(size) if size >= 1024 * 1024 else f"{max(1, -(-size // 1024))} KB"


def with_file_links(view: dict) -> dict:
    """An application view whose evidence files each say where to open them."""
    urn, year = view["urn"], view["school_year"]
    evidence = [{**e, "files": [file_links(f, urn, year) for f in e.get("files", [])]}
                for e in view["evidence"]]
    return {**view, "evidence": evidence}


def declared_type(name: str, sent: str) -> str:
    """The browser's type when the portfolio keeps it; else the one the name says (browsers
    send HEIC photos and Office files as application/octet-stream); else what was sent, which
    the service refuses naming the file."""
    if sent in KEPT:
        return sent
    lowered = name.lower()
    named = (t for t in KEPT if lowered.endswith(TYPES[t].extensions))
    return next(named, sent or "application/octet-stream")


def chosen_files(request: Any) -> list[dict]:
    """The files the form sent, as the service takes them (a browser sends an empty part when
    none was chosen)."""
    chosen = [f for f in request.files.getlist("files") if f.filename]
    if not chosen:
        raise Invalid("No file chosen.", {"files": ["Select one or more files to upload"]})
    return [{"filename": f.filename, "content_type": declared_type(f.filename, f.mimetype),
             "content": base64.b64encode(f.read()).decode("ascii")} for f in chosen]


class PortfolioPages:
    clients: Any
    config: Any

    def _portfolio_item(self, request: Any, urn: str, year: str, criterion: str, evidence_id: str) -> dict:
        """The evidence item, live, with its criterion's label and its files' links."""
        view = with_file_links(self.clients.applications.application_view(request.principal, urn, year, {}))
        item = next((e for e in view["evidence"] if e["id"] == evidence_id and e["criterion"] == criterion
                     and not e["withdrawn"]), None)
        if item is None:
            raise NotFound("There is no such evidence in the application: it was never added, or it was "
                           "withdrawn.")
        rules = self._portfolio_rules()
        return {"urn": urn, "year": year, "criterion": criterion, "view": view, "item": item,
                "accept": ACCEPT, "max_file": megabytes(rules.max_file_bytes),
                "max_application": megabytes(rules.max_application_bytes),
                "back": f"/school/{urn}/application/{year}/audit/{criterion}",
                "here": f"/school/{urn}/application/{year}/evidence/{criterion}/{evidence_id}/files"}

    def _portfolio_rules(self) -> Any:
        return self._school_authority().portfolio  # SchoolPages': the authority the gateway reads

    @page("GET", ITEM, allow=SCHOOL_STAFF)
    def portfolio_item_page(self, request: Any, urn: str, year: str, criterion: str,
                            evidence_id: str) -> Response:
        context = self._portfolio_item(request, urn, year, criterion, evidence_id)
        return render(request, "portfolio/item.html", **context)

    @page("POST", ITEM, allow=SCHOOL_STAFF, max_bytes=MAX_UPLOAD_BYTES)
    def portfolio_upload_form(self, request: Any, urn: str, year: str, criterion: str,
                              evidence_id: str) -> Response:
        context = self._portfolio_item(request, urn, year, criterion, evidence_id)
        try:
            files = chosen_files(request)
            self.clients.applications.add_files(request.principal, urn, year, evidence_id, {"files": files})
        except (Invalid, Conflict) as error:  # the service names the file; nothing was kept
            return render(request, "portfolio/item.html", status=422,
                          errors=_on_input(field_errors(error)), **context)
        return redirect(context["here"], _uploaded([f["filename"] for f in files]))

    @page("GET", f"{ITEM}/<sha256>/remove", allow=SCHOOL_STAFF)
    def portfolio_remove_page(self, request: Any, urn: str, year: str, criterion: str, evidence_id: str,
                              sha256: str) -> Response:
        context = self._portfolio_item(request, urn, year, criterion, evidence_id)
        return render(request, "portfolio/remove.html", file=_file_in(context["item"], sha256), **context)

    @page("POST", f"{ITEM}/<sha256>/remove", allow=SCHOOL_STAFF)
    def portfolio_remove_form(self, request: Any, urn: str, year: str, criterion: str, evidence_id: str,
                              sha256: str) -> Response:
        context = self._portfolio_item(request, urn, year, criterion, evidence_id)
        file = _file_in(context["item"], sha256)

        def again(errors: dict[str, str]) -> Response:
            return render(request, "portfolio/remove.html", status=409, file=file,
                          errors={"remove": " ".join(errors.values())}, **context)

        return submit(request, lambda: self.clients.applications.remove_file(
            request.principal, urn, year, evidence_id, sha256), context["here"],
            f"{file['filename']} is removed from {context['item']['title']}.", again)


def _file_in(item: dict, sha256: str) -> dict:
    """The item's file, to remove: one deleted with a person erased has no name to show, and
    nothing left to remove."""
    found = next((f for f in item["files"] if f["sha256"] == sha256), None)
    if found is None:
        raise NotFound("The evidence has no such file: it may have been removed already.")
    if found.get("erased"):
        raise NotFound("The file was deleted: a person it shows asked for their personal data to be erased.")
    return found


def _on_input(errors: dict[str, str]) -> dict[str, str]:
    """Every refusal of an upload belongs to the file input (the service names the file)."""
    return {"files": " ".join(dict.fromkeys(errors.values()))}


def _uploaded(names: list[str]) -> str:
    return f"{names[0]} is uploaded." if len(names) == 1 else f"{len(names)} files are uploaded: " + \
        ", ".join(names) + "."
