"""Files in the library: the shared checks and store (shared/files.py), with the
library's own rules: the types it keeps, and nothing larger than ``MAX_FILE_BYTES``.
Stored files are named by their SHA-256 under ``<data>/library/``."""

from __future__ import annotations

from pathlib import Path

from shared import files as shared
from shared.errors import Invalid
from shared.files import CSV, DOCX, JPEG, MAX_FILENAME, PDF, PNG, PPTX, TEXT, XLSX, FileFacts, sniff

__all__ = ["DOCX", "MAX_FILENAME", "PPTX", "XLSX", "FileFacts", "FileStore", "check_file", "check_size",
           "sniff"]

MAX_FILE_BYTES = 5 * 1024 * 1024  # 5 MB: guidance, example applications, a resource pack
RULES = shared.FileRules("the library", (PDF, PNG, JPEG, DOCX, XLSX, PPTX, TEXT, CSV), MAX_FILE_BYTES)
KEPT = RULES.kept
check_file = RULES.check_file
check_size = RULES.check_size


class FileStore(shared.FileStore):
    """The library's files, checked again when a resource offers one under a name."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, "the library")

    def facts(self, digest: str, filename: str) -> FileFacts:
        """A stored file, checked again as a new upload would be, under ``filename``."""
        if not self.exists(digest):
            raise Invalid("No file with this SHA-256 has been uploaded.", {"file.sha256": [
                "Upload the file first (POST /library/files) and use the sha256 it returns."]})
        content = self.read(digest)
        kind = RULES.type_for(filename)
        try:
            return check_file(content, kind, filename)
        except Invalid as error:  # the name given here declares the type: it is what is at fault
            raise Invalid(error.message, {"file.filename": [m for ms in error.fields.values()
                                                            for m in ms]}) from None
