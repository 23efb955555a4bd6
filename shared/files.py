"""Uploaded files: checked by their content, stored by their content. Plain Python.

One implementation for every service that takes files (the library's resources, a
school's evidence portfolio); each says which types it keeps and how large a file
may be (a ``FileRules``).

A file is taken only when its declared type is one the service keeps, its name
ends as that type's names do, and its first bytes say it really is that type
(a PNG renamed ``.pdf`` and sent as ``application/pdf`` is refused). Office
documents are ZIP archives: the archive's ``[Content_Types].xml`` must name
the document's main part (a macro-enabled workbook is not an XLSX). Text must
be UTF-8 without control characters. A PDF that carries JavaScript (``/JS``,
``/JavaScript``) is refused: a reader may run it. Archives and programs are
named as such, never taken.

Stored files are named by their SHA-256 in one folder, written to a temporary
file first and renamed into place, so a reader never sees half a file and the
same file uploaded twice is kept once. A stored file is read whole (``read``) or
a chunk at a time (``chunks``), its hash checked either way; many files are sent
as one zip a chunk at a time (``zip_stream``), so memory stays bounded however
large they are.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from shared.errors import Conflict, Invalid, NotFound, TooLarge

MAX_FILENAME = 200
CHUNK_BYTES = 1024 * 1024  # read and sent a mebibyte at a time
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FILENAME_BAD = re.compile(r"[\x00-\x1f\x7f/\\]")

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
HEIC = "image/heic"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
TEXT = "text/plain"
CSV = "text/csv"


@dataclass(frozen=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]
    described: str  # "a PDF document": completes "this file is ..."
    family: str  # what the content check can tell: types sharing a family look alike
    short: str  # "PDF": in the list of what a service keeps


TYPES = {t.content_type: t for t in (
    FileType(PDF, (".pdf",), "a PDF document", "pdf", "PDF"),
    FileType(PNG, (".png",), "a PNG image", "png", "PNG"),
    FileType(JPEG, (".jpg", ".jpeg"), "a JPEG image", "jpeg", "JPEG"),
    FileType(HEIC, (".heic", ".heif"), "a HEIC photo", "heic", "HEIC (iPhone photos)"),
    FileType(DOCX, (".docx",), "a Word document (DOCX)", "docx", "Word (DOCX)"),
    FileType(XLSX, (".xlsx",), "an Excel workbook (XLSX)", "xlsx", "Excel (XLSX)"),
    FileType(PPTX, (".pptx",), "a PowerPoint presentation (PPTX)", "pptx", "PowerPoint (PPTX)"),
    FileType(TEXT, (".txt",), "plain text", "text", "plain text"),
    FileType(CSV, (".csv",), "a CSV file", "text", "CSV"),
)}

# what the content turned out to be, for types no service keeps
_OTHER = {"zip": "a ZIP archive that is not a Word, Excel or PowerPoint document",
          "archive": "an archive (gzip, 7-Zip, RAR or tar)",
          "program": "a program (an executable file)",
          "video": "a video: link to it instead (a shared folder or video site)",
          "office-macro": "an Office document with macros", "binary": "a file of an unknown kind",
          "gif": "a GIF image", "webp": "a WebP image",
          "ole": "an old-style Office document (.doc, .xls, .ppt)",
          "html": "an HTML page", "svg": "an SVG image"}
_OFFICE_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
}
_OFFICE_MACRO = re.compile(rb"application/vnd\.ms-[a-z]+\.[a-z.]*macroEnabled", re.I)
_CONTENT_TYPES_LIMIT = 1024 * 1024  # the manifest of a real document is a few kilobytes
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_ARCHIVES = (b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"BZh", b"\xfd7zXZ\x00")
_PROGRAMS = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_PDF_SCRIPT = re.compile(rb"/(?:JS|JavaScript)(?![A-Za-z0-9])")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9a-fA-F]{2})")


@dataclass(frozen=True)
class FileFacts:
    filename: str
    content_type: str
    size: int
    sha256: str

    def to_dict(self) -> dict:
        return asdict(self)


def sniff(content: bytes) -> str:
    """What the content is, by its first bytes (and for ZIP archives, by their manifest):
    a ``FileType.family`` or a key of ``_OTHER``."""
    head = content[:16]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if content[4:8] == b"ftyp":
        return "heic" if content[8:12] in _HEIC_BRANDS else "video"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and content[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        return _office(content)
    if head.startswith(_ARCHIVES) or content[257:262] == b"ustar":
        return "archive"
    if head.startswith(_PROGRAMS):
        return "program"
    return _text(content)


def _office(content: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_LIMIT:
                return "zip"
            manifest = archive.read(info)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError, EOFError):
        return "zip"
    if _OFFICE_MACRO.search(manifest):
        return "office-macro"
    found = {family for main, family in _OFFICE_MAIN.items() if main.encode() in manifest}
    return found.pop() if len(found) == 1 else "zip"


def _text(content: bytes) -> str:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "binary"
    if _TEXT_CONTROL.search(text):
        return "binary"
    start = text.lstrip()[:256].lower()
    if start.startswith(("<!doctype html", "<html")):
        return "html"
    if start.startswith("<svg") or (start.startswith("<?xml") and "<svg" in text[:1024].lower()):
        return "svg"
    return "text"


def pdf_has_script(content: bytes) -> bool:
    """Whether a PDF names JavaScript anywhere (an action, a name tree). Compressed object
    streams could hide it from this: a reader that runs scripts is the risk this lowers."""
    plain = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), content)  # /J#53 is /JS
    return bool(_PDF_SCRIPT.search(plain))


def describe(family: str) -> str:
    for kind in TYPES.values():
        if kind.family == family:
            return "text" if family == "text" else kind.described
    return _OTHER.get(family, "a file of an unknown kind")


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


@dataclass(frozen=True)
class FileRules:
    """Which types a service keeps (``keeper``: "the library") and how large a file may be."""

    keeper: str
    content_types: tuple[str, ...]
    max_bytes: int

    @property
    def kept(self) -> str:
        """"PDF, PNG and plain text": for messages."""
        names = [TYPES[t].short for t in self.content_types]
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"

    def declared_type(self, value: str | None) -> str:
        """``text/csv; charset=utf-8`` -> ``text/csv``; refused unless kept."""
        content_type = (value or "").split(";", 1)[0].strip().lower()
        if not content_type:
            raise Invalid("Say what kind of file this is in the Content-Type header.", {"content_type": [
                f"Required: one of the types {self.keeper} keeps ({self.kept})."]})
        if content_type not in self.content_types:
            raise Invalid(f"{self.keeper.capitalize()} does not keep files of type {content_type}.",
                          {"content_type": [f"{content_type} is not kept; {self.keeper} keeps {self.kept}."]})
        return content_type

    def check_filename(self, filename: str | None, content_type: str) -> str:
        """A plain file name (no folders) that ends as files of ``content_type`` do."""
        name = (filename or "").strip()
        if not name:
            raise Invalid("Give the file's name.", {"filename": ["Required, e.g. guidance.pdf."]})
        if len(name) > MAX_FILENAME or _FILENAME_BAD.search(name) or name.startswith("."):
            raise Invalid("Not a usable file name.", {"filename": [
                f"A plain name of at most {MAX_FILENAME} characters, without folders or control "
                "characters."]})
        kind = TYPES[content_type]
        if not name.lower().endswith(kind.extensions):
            raise Invalid(f"The name {name!r} does not fit a file declared as {content_type}.", {"filename": [
                f"A file declared as {content_type} ({kind.described}) must be named "
                f"{' or '.join('*' + e for e in kind.extensions)}."]})
        return name

    def check_size(self, size: int) -> None:
        if size <= 0:
            raise Invalid("The file is empty.", {"file": ["The file is empty: nothing was uploaded."]})
        if size > self.max_bytes:
            raise TooLarge(f"The file is {megabytes(size)}; {self.keeper} takes files up to "
                           f"{megabytes(self.max_bytes)}.", "file")

    def check_content(self, content: bytes, content_type: str) -> None:
        """The content really is what ``content_type`` declares, and carries no script."""
        expected = TYPES[content_type]
        found = sniff(content)
        if found != expected.family:
            raise Invalid(f"The file's content is {describe(found)}, not {expected.described} as declared.",
                          {"file": [f"The content is {describe(found)}, but it was declared as "
                                    f"{content_type} ({expected.described}): upload the right file, "
                                    f"or declare its real type."]})
        if found == "pdf" and pdf_has_script(content):
            raise Invalid("The PDF carries JavaScript, which a reader may run: it is not taken.",
                          {"file": ["The PDF carries JavaScript: save it again without scripts (for "
                                    "example, print it to PDF) and upload that."]})

    def check_file(self, content: bytes, content_type: str | None, filename: str | None) -> FileFacts:
        """Every check, cheapest first; the facts of a file the service may keep."""
        self.check_size(len(content))
        kind = self.declared_type(content_type)
        name = self.check_filename(filename, kind)
        self.check_content(content, kind)
        return FileFacts(name, kind, len(content), hashlib.sha256(content).hexdigest())

    def type_for(self, filename: str) -> str:
        """The type a stored file's name says it is (its content is checked against it)."""
        lowered = filename.lower()
        for content_type in self.content_types:
            if lowered.endswith(TYPES[content_type].extensions):
                return content_type
        raise Invalid(f"{self.keeper.capitalize()} does not keep files named {filename!r}.",
                      {"file.filename": [f"Name the file as one of the kinds {self.keeper} keeps "
                                         f"({self.kept})."]})


class FileStore:
    """Files named by their SHA-256 in one folder."""

    def __init__(self, root: Path, keeper: str = "the store") -> None:
        self.root = Path(root)
        self.keeper = keeper

    def put(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        target = self.root / digest
        if target.exists():
            return digest  # the same bytes, kept once
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / f".{digest}.{uuid.uuid4().hex}.partial"
        try:
            with open(partial, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, target)  # atomic: readers see all of it or none
        finally:
            partial.unlink(missing_ok=True)
        return digest

    def path(self, digest: str) -> Path:
        if not _SHA256.match(digest or ""):
            raise NotFound("There is no such file.", "sha256")
        return self.root / digest

    def exists(self, digest: str) -> bool:
        try:
            return self.path(digest).is_file()
        except NotFound:
            return False

    def read(self, digest: str) -> bytes:
        try:
            content = self.path(digest).read_bytes()
        except FileNotFoundError:
            raise self._missing() from None
        if hashlib.sha256(content).hexdigest() != digest:  # altered on disk
            raise self._altered()
        return content

    def size(self, digest: str) -> int:
        """The stored file's size; NotFound if it is not there."""
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise self._missing() from None

    def chunks(self, digest: str) -> Iterator[bytes]:
        """The file a chunk at a time (read when iterated), its hash checked as it is read. The
        last chunk is held back until the hash matches: an altered file never arrives whole (a
        Conflict is raised instead), so a download of it is cut short rather than wrong."""
        path = self.path(digest)
        hasher, held = hashlib.sha256(), None
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below, as the reading ends
        except FileNotFoundError:
            raise self._missing() from None
        with handle:
            while chunk := handle.read(CHUNK_BYTES):
                hasher.update(chunk)
                if held is not None:
                    yield held
                held = chunk
        if hasher.hexdigest() != digest:
            raise self._altered()
        if held is not None:
            yield held

    def _missing(self) -> NotFound:
        return NotFound(f"The file is not in {self.keeper}'s store; upload it again.", "file")

    def _altered(self) -> Conflict:
        return Conflict(f"The stored file no longer matches its checksum in {self.keeper}'s store; "
                        "upload it again.", "file")

    def delete(self, digest: str) -> bool:
        """Remove a file for good; False if it was not there."""
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            return False
        return True


class _Sink:
    """Where a streamed zip is written: what is written is taken away a piece at a time. No
    ``tell``/``seek``, so zipfile writes each entry's sizes after its data (a data descriptor)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        taken = b"".join(self._parts)
        self._parts.clear()
        return taken


def zip_stream(entries: Iterable[tuple[str, Iterable[bytes]]]) -> Iterator[bytes]:
    """A zip of ``entries`` (path in the zip, its content a chunk at a time), made as it is
    sent: at most about a chunk of it is held at once. Compressed lightly: photos and
    documents are compressed already. An entry's content failing (an altered file) ends the
    zip there, without its directory, so it does not open."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path, content in entries:
            with archive.open(path, "w") as entry:
                for chunk in content:
                    entry.write(chunk)
                    if piece := sink.take():
                        yield piece
            yield sink.take()
    yield sink.take()
