"""The award certificate: one A4 landscape page naming the school, the authority, the
award and its dates (UK style), read back from the PDF itself; none before the award.

The PDF's text is read back with the standard library only: each content stream is
decoded through its filters (reportlab writes ASCII85 then Flate), and the literal
strings shown with ``Tj`` are unescaped and decoded from WinAnsi (the standard fonts'
encoding). That reads exactly what a PDF reader is told to draw, without a PDF
library as a test dependency.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import zlib

import pytest

from services.applications.certificate import Certificate, certificate_of, render, uk_date
from shared.errors import Conflict

SCHOOL = "St Mary's (C of E) Primary – École (\\ welcome)"
CERTIFICATE = Certificate(school_name=SCHOOL, urn="610001", school_year="2026-27",
                          authority_name="Coventry", lead_team="Ethnic Minority Achievement Service (EMAS)",
                          awarded_on=dt.date(2027, 9, 1), expires_on=dt.date(2030, 9, 1))
A4_LANDSCAPE = (841.89, 595.28)  # points


def streams(pdf: bytes) -> list[bytes]:
    """Every stream's data, decoded through its filters."""
    found = []
    for match in re.finditer(rb"(?<!end)stream\r?\n", pdf):
        head = pdf[pdf.rfind(b"<<", 0, match.start()):match.start()]
        if b"/Length" not in head:
            continue
        length = int(re.search(rb"/Length (\d+)", head).group(1))
        data = pdf[match.end():match.end() + length]
        if b"/ASCII85Decode" in head:
            data = base64.a85decode(data.strip().removesuffix(b"~>"))
        if b"/FlateDecode" in head:
            data = zlib.decompress(data)
        found.append(data)
    return found


_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f",
            b"(": b"(", b")": b")", b"\\": b"\\"}


def unescape(literal: bytes) -> str:
    """A PDF literal string's bytes (escapes and octal codes undone), as WinAnsi text."""
    def one(match: re.Match) -> bytes:
        code = match.group(1)
        return bytes([int(code, 8)]) if code[:1].isdigit() else _ESCAPES.get(code, code)
    return re.sub(rb"\\([0-7]{1,3}|.)", one, literal, flags=re.S).decode("cp1252")


def shown_text(pdf: bytes) -> list[str]:
    """Each string the page shows, in drawing order."""
    return [unescape(s) for data in streams(pdf)
            for s in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", data, flags=re.S)]


def test_the_certificate_is_one_a4_landscape_page() -> None:
    pdf = render(CERTIFICATE)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert re.search(rb"/Count 1\b", pdf) and len(re.findall(rb"/Type /Page\b", pdf)) == 1
    box = re.search(rb"/MediaBox \[ ?0 0 ([\d.]+) ([\d.]+) ?\]", pdf)
    assert (round(float(box.group(1)), 2), round(float(box.group(2)), 2)) == A4_LANDSCAPE


def test_it_names_the_school_the_authority_the_award_and_its_dates() -> None:
    text = shown_text(render(CERTIFICATE))
    assert SCHOOL in text  # parentheses, backslash, apostrophe, dash and accent all intact
    assert "COVENTRY" in text and "School of Sanctuary" in text
    assert text.index("Awarded on") < text.index("1 September 2027")
    assert text.index("Valid until") < text.index("1 September 2030")
    [footer] = [t for t in text if t.startswith("Awarded by")]
    assert "Coventry" in footer and "URN 610001" in footer and "2026-27" in footer


def test_its_metadata_says_what_it_is() -> None:
    pdf = render(CERTIFICATE)
    assert b"/Title (School of Sanctuary certificate: St Mary's" in pdf
    assert b"/Author (Coventry)" in pdf


def test_the_same_certificate_renders_the_same_bytes() -> None:
    assert render(CERTIFICATE) == render(CERTIFICATE)


def test_a_long_name_goes_on_two_lines_rather_than_off_the_page() -> None:
    name = ("The Very Long Named Church of England Voluntary Aided Primary School and Nursery of "
            "Saint Michael and All Angels with Saint Mary Magdalene")
    text = shown_text(render(Certificate(**{**CERTIFICATE.__dict__, "school_name": name})))
    lines = [t for t in text if t and t in name]
    assert len(lines) == 2 and " ".join(lines) == name


def test_dates_are_written_the_uk_way() -> None:
    assert uk_date(dt.date(2027, 9, 1)) == "1 September 2027"
    assert uk_date(dt.date(2030, 12, 25)) == "25 December 2030"


def application(**changes: object) -> dict:
    return {"urn": "610001", "school_name": "Hill Primary", "school_year": "2026-27",
            "stage": "awarded", "award": {"awarded_on": "2027-09-01", "expires_on": "2030-09-01"},
            **changes}


def test_an_awarded_application_has_a_certificate() -> None:
    found = certificate_of(application(), "Coventry", "EMAS")
    assert (found.school_name, found.awarded_on, found.expires_on) == (
        "Hill Primary", dt.date(2027, 9, 1), dt.date(2030, 9, 1))


@pytest.mark.parametrize("stage", ["started", "final_submitted", "further_evidence", "not_awarded"])
def test_no_certificate_before_the_award(stage: str) -> None:
    with pytest.raises(Conflict) as refused:
        certificate_of(application(stage=stage, award=None), "Coventry", "EMAS")
    assert refused.value.status == 409
    assert "once the application is awarded" in refused.value.message
    assert stage in refused.value.message
