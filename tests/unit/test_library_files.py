"""The library's file checks and store, in memory and on a temporary folder: a file of
the wrong type for its declared type, a spoofed extension, too large, or empty is
refused with a message naming the field; a good file is kept once, by its SHA-256."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest

from services.library.files import (
    DOCX,
    MAX_FILE_BYTES,
    PPTX,
    XLSX,
    FileStore,
    check_file,
    sniff,
)
from shared.errors import Conflict, Invalid, NotFound, TooLarge
from shared.files import CHUNK_BYTES, zip_stream

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32) + b"\xff\xd9"
MAIN = {
    DOCX: ("/word/document.xml",
           "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    XLSX: ("/xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    PPTX: ("/ppt/presentation.xml",
           "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
    "docm": ("/word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
}


def office(kind: str) -> bytes:
    part, content_type = MAIN[kind]
    manifest = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="{part}" ContentType="{content_type}"/></Types>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", manifest)
        archive.writestr(part.lstrip("/"), "<document/>")
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


def refused(kind: type, field: str, content: bytes, content_type: str | None, filename: str | None):
    with pytest.raises(kind) as caught:
        check_file(content, content_type, filename)
    error = caught.value
    assert type(error) is kind
    assert error.field == field, error.to_dict()
    body = error.to_dict()
    assert field in body["fields"] and all(body["fields"][field]), body
    return error


# -- what is kept ------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "content_type", "filename"), [
    (PDF, "application/pdf", "Application guidance.pdf"),
    (PNG, "image/png", "poster.PNG"),
    (JPEG, "image/jpeg", "photo.jpg"),
    (JPEG, "image/jpeg", "photo.jpeg"),
    (office(DOCX), DOCX, "audit-tool.docx"),
    (office(XLSX), XLSX, "action-plan.xlsx"),
    (office(PPTX), PPTX, "refugee-week.pptx"),
    ("Ideas for Refugee Week\n- a welcome café\n".encode(), "text/plain", "ideas.txt"),
    ("\ufeffschool,activity\nHill Primary,Day of Welcome\n".encode(), "text/csv; charset=utf-8",
     "activities.csv"),
])
def test_files_of_each_kept_type_are_taken_with_their_facts(content: bytes, content_type: str,
                                                           filename: str) -> None:
    facts = check_file(content, content_type, filename)
    assert facts.content_type == content_type.split(";")[0]
    assert facts.filename == filename
    assert facts.size == len(content)
    assert facts.sha256 == hashlib.sha256(content).hexdigest()


def test_the_largest_file_is_taken() -> None:
    content = PDF + bytes(MAX_FILE_BYTES - len(PDF))
    assert check_file(content, "application/pdf", "big.pdf").size == MAX_FILE_BYTES


# -- wrong type for the declared type -----------------------------------------------------------


@pytest.mark.parametrize(("content", "content_type", "filename", "found"), [
    (PNG, "application/pdf", "guidance.pdf", "a PNG image"),
    (PDF, "image/png", "poster.png", "a PDF document"),
    (JPEG, "image/png", "poster.png", "a JPEG image"),
    (office(XLSX), DOCX, "audit-tool.docx", "an Excel workbook"),
    (office("docm"), DOCX, "audit-tool.docx", "an Office document with macros"),
    (plain_zip(), DOCX, "audit-tool.docx", "a ZIP archive"),
    (b"PK\x03\x04 not really a zip", XLSX, "plan.xlsx", "a ZIP archive"),
    (bytes(range(256)), "text/plain", "notes.txt", "a file of an unknown kind"),
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "text/plain", "page.txt", "an HTML page"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(40), DOCX, "old.docx", "old-style Office"),
    (b"plain words", "application/pdf", "guidance.pdf", "text"),
])
def test_content_that_is_not_what_was_declared_is_refused_naming_the_file(
        content: bytes, content_type: str, filename: str, found: str) -> None:
    error = refused(Invalid, "file", content, content_type, filename)
    assert found in error.message
    assert "as declared" in error.message
    assert error.status == 422


def test_a_png_sent_as_a_pdf_says_what_it_is_and_what_was_declared() -> None:
    error = refused(Invalid, "file", PNG, "application/pdf", "guidance.pdf")
    assert error.message == "The file's content is a PNG image, not a PDF document as declared."
    assert "application/pdf" in error.fields["file"][0]


# -- spoofed or unfitting names ---------------------------------------------------------------------


@pytest.mark.parametrize(("content", "content_type", "filename"), [
    (PNG, "image/png", "guidance.pdf"),  # a PNG, honestly declared, named as a PDF
    (PDF, "application/pdf", "guidance.pdf.exe"),
    (PDF, "application/pdf", "guidance"),
    (office(DOCX), DOCX, "audit-tool.doc"),
    (b"a,b\n1,2\n", "text/csv", "data.txt"),
])
def test_a_name_that_does_not_fit_the_declared_type_is_refused_naming_the_filename(
        content: bytes, content_type: str, filename: str) -> None:
    error = refused(Invalid, "filename", content, content_type, filename)
    assert content_type in error.fields["filename"][0]


def test_a_spoofed_extension_on_other_content_is_refused_by_content() -> None:
    """Named and declared as a PDF, but a PNG inside: the name alone proves nothing."""
    refused(Invalid, "file", PNG, "application/pdf", "totally-a.pdf")


@pytest.mark.parametrize("filename", ["../../etc/passwd.pdf", "folder/guide.pdf", "a\\b.pdf",
                                      ".hidden.pdf", "bad\nname.pdf", "x" * 201 + ".pdf", "", None])
def test_names_with_folders_or_control_characters_are_refused(filename: str | None) -> None:
    refused(Invalid, "filename", PDF, "application/pdf", filename)


@pytest.mark.parametrize("content_type", ["image/svg+xml", "text/html", "application/zip",
                                          "application/octet-stream", "application/x-msdownload"])
def test_types_the_library_does_not_keep_are_refused_naming_the_content_type(content_type: str) -> None:
    error = refused(Invalid, "content_type", PDF, content_type, "guidance.pdf")
    assert "PDF" in error.fields["content_type"][0]


@pytest.mark.parametrize("content_type", [None, "", "  "])
def test_an_undeclared_type_is_refused_naming_the_content_type(content_type: str | None) -> None:
    refused(Invalid, "content_type", PDF, content_type, "guidance.pdf")


# -- size ------------------------------------------------------------------------------------------


def test_a_file_too_large_is_refused_naming_the_file_and_its_size() -> None:
    content = PDF + bytes(6 * 1024 * 1024 - len(PDF))
    error = refused(TooLarge, "file", content, "application/pdf", "big.pdf")
    assert error.status == 413
    assert error.message == "The file is 6 MB; the library takes files up to 5 MB."


def test_one_byte_over_the_limit_is_too_large() -> None:
    refused(TooLarge, "file", PDF + bytes(MAX_FILE_BYTES + 1 - len(PDF)), "application/pdf", "big.pdf")


def test_an_empty_file_is_refused_naming_the_file() -> None:
    error = refused(Invalid, "file", b"", "application/pdf", "guidance.pdf")
    assert "empty" in error.message


def test_size_is_checked_before_anything_else() -> None:
    """A huge body of the wrong type is told it is too large: no time is spent reading it."""
    refused(TooLarge, "file", bytes(MAX_FILE_BYTES + 1), None, None)


# -- sniffing ----------------------------------------------------------------------------------------


def test_sniffing_reads_office_documents_by_their_manifest() -> None:
    assert [sniff(office(k)) for k in (DOCX, XLSX, PPTX, "docm")] == ["docx", "xlsx", "pptx", "office-macro"]
    assert sniff(plain_zip()) == "zip"


# -- the store -------------------------------------------------------------------------------------------


def test_the_store_keeps_a_file_once_under_its_sha256_and_leaves_nothing_partial(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "library")
    digest = store.put(PDF)
    assert digest == hashlib.sha256(PDF).hexdigest()
    assert store.put(PDF) == digest
    assert [p.name for p in (tmp_path / "library").iterdir()] == [digest]
    assert store.read(digest) == PDF
    assert store.exists(digest)
    assert store.facts(digest, "renamed.pdf").filename == "renamed.pdf"


def test_the_store_refuses_unknown_or_malformed_names(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    with pytest.raises(NotFound):
        store.read("0" * 64)
    with pytest.raises(NotFound):
        store.read("../../etc/passwd")
    assert not store.exists("../x")
    with pytest.raises(Invalid) as caught:
        store.facts("0" * 64, "x.pdf")
    assert caught.value.field == "file.sha256"


def test_a_stored_file_altered_on_disk_is_not_served(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    digest = store.put(PDF)
    (tmp_path / digest).write_bytes(PDF + b"tampered")
    with pytest.raises(Conflict):
        store.read(digest)


def test_a_stored_file_read_in_chunks_is_checked_and_never_arrives_whole_when_altered(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    big = bytes(range(256)) * (CHUNK_BYTES // 256) * 2 + b"tail"  # two chunks and a bit
    digest = store.put(big)
    assert b"".join(store.chunks(digest)) == big and store.size(digest) == len(big)
    (tmp_path / digest).write_bytes(big[:-1] + b"X")  # one byte changed, at the very end
    got = []
    with pytest.raises(Conflict):
        for chunk in store.chunks(digest):
            got.append(chunk)
    assert sum(map(len, got)) == 2 * CHUNK_BYTES  # the last chunk was held back: never the whole file
    with pytest.raises(NotFound):
        next(store.chunks("0" * 64))
    with pytest.raises(NotFound):
        store.size("0" * 64)


def test_a_zip_is_made_as_it_is_sent_a_chunk_at_a_time(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    big = os.urandom(3 * CHUNK_BYTES)  # does not compress: the zip is at least this large
    digest = store.put(big)
    pieces = list(zip_stream([("CONTENTS.txt", [b"what is here"]), ("a/big.pdf", store.chunks(digest)),
                              ("b/big.pdf", store.chunks(digest))]))
    assert max(map(len, pieces)) < 2 * CHUNK_BYTES  # never the whole zip, nor a whole file, at once
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as archive:
        assert archive.namelist() == ["CONTENTS.txt", "a/big.pdf", "b/big.pdf"]
        assert archive.read("b/big.pdf") == big and archive.testzip() is None


def test_a_zip_whose_file_was_altered_is_cut_short_and_does_not_open(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    digest = store.put(PDF)
    (tmp_path / digest).write_bytes(PDF + b"tampered")
    sent = []
    with pytest.raises(Conflict):
        for piece in zip_stream([("CONTENTS.txt", [b"contents"]), ("x.pdf", store.chunks(digest))]):
            sent.append(piece)
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(b"".join(sent)))


def test_a_stored_file_offered_under_a_name_of_another_type_is_refused(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    digest = store.put(PDF)
    with pytest.raises(Invalid) as caught:
        store.facts(digest, "guidance.docx")
    assert caught.value.field == "file.filename"
    with pytest.raises(Invalid) as caught:
        store.facts(digest, "guidance.exe")
    assert caught.value.field == "file.filename"
