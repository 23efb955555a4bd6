"""A school's evidence portfolio: the files uploaded with its evidence. Plain Python.

What is taken: PDF, photos (JPEG, PNG, HEIC), Word, PowerPoint, Excel and plain text,
each checked by its content (shared/files.py), photos cleaned of their metadata
(photos.py); each file at most the authority's ``max_file_mb``, the application's
files together at most ``max_application_mb``. Video is a link, never a file. A
batch of files is taken whole or not at all: every file is checked before any is
stored, and a refusal names the file and the reason.

The whole portfolio as one zip is described here (``zip_entries``, ``contents_page``: which
file goes where, by content hash) and made by whoever sends it, from the shared files folder
(shared/files.py ``zip_stream``): never built whole in memory, nor sent as one message.

Who reads a file: the school's coordinators and the lead (any file the application
ever held), and a panel member on one of its appraisals who has declared no
conflict (only the files of the submission that appraisal is of). Every download is
recorded as a ``Download`` (who, when, which files), which the lead sees.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from eventsourcing.domain import Aggregate, event

from services.applications.photos import PHOTOS, clean_photo
from shared.authority import PortfolioRules
from shared.errors import DomainError, Invalid
from shared.files import DOCX, HEIC, JPEG, PDF, PNG, PPTX, TEXT, XLSX, FileFacts, FileRules, megabytes

KEPT = (PDF, JPEG, PNG, HEIC, DOCX, PPTX, XLSX, TEXT)
EVIDENCE_FILES = "evidence"  # <data>/evidence: the portfolios' files by content hash (sanctuary backup)
DOWNLOAD_KINDS = ("file", "thumbnail", "zip")


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Checked:
    facts: FileFacts
    content: bytes  # as it will be stored (a photo: cleaned)

    @property
    def reference(self) -> dict:
        return self.facts.to_dict()


def file_rules(rules: PortfolioRules) -> FileRules:
    return FileRules("the portfolio", KEPT, rules.max_file_bytes)


def check_uploads(uploads: Iterable[Upload], rules: PortfolioRules, held_bytes: int) -> list[Checked]:
    """Every upload checked and made safe, or a 422 naming the file; nothing is stored here.
    ``held_bytes``: what the application's live portfolio holds already."""
    checks = file_rules(rules)
    taken = [_check_one(checks, upload) for upload in uploads]
    if not taken:
        raise Invalid("Choose at least one file to upload.", {"files": ["Choose a file."]})
    total = held_bytes + sum(c.facts.size for c in taken)
    if total > rules.max_application_bytes:
        names = ", ".join(c.facts.filename for c in taken)
        raise Invalid(f"{names}: the application's files would come to {megabytes(total)}; an "
                      f"application holds at most {megabytes(rules.max_application_bytes)}.",
                      {"files": [f"{names}: too large for what the application may hold "
                                 f"({megabytes(rules.max_application_bytes)}): remove files, or link to "
                                 "large ones instead."]})
    return taken


def _check_one(checks: FileRules, upload: Upload) -> Checked:
    name = upload.filename or "the file"
    try:
        facts = checks.check_file(upload.content, upload.content_type, upload.filename)
        if facts.content_type in PHOTOS:
            photo = clean_photo(upload.content, facts.content_type, facts.filename)
            facts = FileFacts(photo.filename, photo.content_type, len(photo.content),
                              _sha256(photo.content))
            return Checked(facts, photo.content)
        return Checked(facts, upload.content)
    except DomainError as refused:  # TooLarge too: a 422 naming the file, as every other refusal
        reasons = [m for ms in (getattr(refused, "fields", None) or {}).values() for m in ms]
        reason = " ".join(reasons) or refused.message
        message = refused.message if refused.message.startswith(f"{name}:") else f"{name}: {refused.message}"
        raise Invalid(message, {"files": [reason if reason.startswith(f"{name}:") else f"{name}: {reason}"]}
                      ) from None


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# -- the panel's copy -----------------------------------------------------------------------

ERASED_NOTE = "removed at the person's request"


def as_shown(refs: list[dict], erased: Iterable[str]) -> list[dict]:
    """File references as readers see them: a file deleted because a person it shows was
    erased stays in its place, marked so (its name too is gone: it may name them)."""
    gone = set(erased)
    return [{"sha256": f["sha256"], "erased": True} if f["sha256"] in gone else f for f in refs]


def by_criterion(evidence: list[dict], files: dict[str, list[dict]], labels: dict[str, str]) -> list[dict]:
    """Submitted evidence grouped by criterion (in ``labels``' order), each item with its files."""
    groups = []
    for code, label in labels.items():
        items = [{**e, "files": files.get(e["id"], [])} for e in evidence if e["criterion"] == code]
        if items:
            groups.append({"criterion": code, "label": label, "items": items})
    return groups


def zip_entries(groups: list[dict]) -> list[tuple[str, dict]]:
    """(path in the zip, file reference): a folder per criterion, a file's name kept but
    made unique (two items may hold files of the same name)."""
    entries, used = [], set()
    for number, group in enumerate(groups, 1):
        folder = f"{number:02d} {_safe(group['label'])}"
        for item in group["items"]:
            for ref in item["files"]:
                if ref.get("erased"):
                    continue
                path = f"{folder}/{_safe(ref['filename'])}"
                stem, suffix, n = str(PurePath(path).with_suffix("")), PurePath(path).suffix, 2
                while path in used:
                    path, n = f"{stem} ({n}){suffix}", n + 1
                used.add(path)
                entries.append((path, ref))
    return entries


def contents_page(school: str, urn: str, school_year: str, submission: dict, groups: list[dict],
                  entries: list[tuple[str, dict]]) -> str:
    """CONTENTS.txt: what the zip holds, criterion by criterion, with each item's words and links."""
    where = {ref["sha256"] + path.split("/", 1)[0]: path for path, ref in entries}
    lines = [f"{school} (URN {urn}): evidence portfolio, {school_year}",
             f"The {submission['stage']} application as submitted on {submission['on']} "
             f"(submission {submission['version']}).", ""]
    for number, group in enumerate(groups, 1):
        folder = f"{number:02d} {_safe(group['label'])}"
        lines += [folder, "=" * len(folder)]
        for item in group["items"]:
            lines.append(f"- {item['title']}")
            if item.get("detail"):
                lines.append(f"  {item['detail']}")
            if item.get("link"):
                lines.append(f"  Link: {item['link']}")
            for ref in item["files"]:
                if ref.get("erased"):
                    lines.append(f"  A file {ERASED_NOTE}.")
                    continue
                path = where.get(ref["sha256"] + folder, ref["filename"])
                lines.append(f"  File: {path} ({megabytes(ref['size'])}, SHA-256 {ref['sha256']})")
        lines.append("")
    return "\n".join(lines)


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in " ._()-," else "_" for c in name).strip(" .")
    return cleaned[:120] or "file"


# -- the download record ----------------------------------------------------------------------


class Download(Aggregate):
    """One download of portfolio files: who, when (the event's time), which files, and how
    (a file, a photo's thumbnail, or the zip). One aggregate each, so downloads at the same
    moment never conflict."""

    class Recorded(Aggregate.Created):
        application: str
        urn: str
        school_year: str
        kind: str
        files: list[dict]  # sha256 and filename of each
        by: str  # account:<id>
        role: str  # how they were allowed: school, lead, panel
        at: dt.datetime

    @event(Recorded)
    def __init__(self, application: str, urn: str, school_year: str, kind: str, files: list[dict],
                 by: str, role: str, at: dt.datetime) -> None:
        self.application = application
        self.urn = urn
        self.school_year = school_year
        self.kind = kind
        self.files = files
        self.by = by
        self.role = role
        self.at = at

    def view(self) -> dict:
        return {"at": self.at, "by": self.by, "role": self.role, "kind": self.kind, "files": self.files}
