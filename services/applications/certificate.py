"""The award certificate: one A4 landscape page, plain and dignified, as a PDF.
Plain Python (reportlab); no state of its own.

It names the school, the authority that awarded it, the award ("School of
Sanctuary"), and the day it was awarded and the day it runs until, written as
people in the UK read dates (10 September 2027). Only an awarded application
has one.

The text is set in the PDF's standard Times faces (every reader has them, so
nothing is embedded). They cover Windows-1252, which holds English school names
and most accented Latin letters; a character beyond it (Welsh w-circumflex, for
one) would print as a box, and would need an embedded TrueType font instead.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from shared.errors import Conflict

AWARD = "School of Sanctuary"
INK = Color(0.12, 0.16, 0.28)  # a deep blue-black
RULE = Color(0.55, 0.47, 0.28)  # a muted gold, for the border and rules
SERIF, SERIF_BOLD, SERIF_ITALIC = "Times-Roman", "Times-Bold", "Times-Italic"


@dataclass(frozen=True)
class Certificate:
    school_name: str
    urn: str
    school_year: str
    authority_name: str
    lead_team: str
    awarded_on: dt.date
    expires_on: dt.date


def uk_date(day: dt.date) -> str:
    """10 September 2027: day, month, year, as dates are written in the UK."""
    return f"{day.day} {day:%B %Y}"


def certificate_of(application: dict, authority_name: str, lead_team: str) -> Certificate:
    """The certificate of an application (its view), or 409 if it is not awarded."""
    award = application.get("award")
    if not award:
        raise Conflict(
            "The certificate is available once the application is awarded; this application is at "
            f"stage '{application.get('stage')}'.",
            "stage",
        )
    return Certificate(
        school_name=application["school_name"],
        urn=application["urn"],
        school_year=application["school_year"],
        authority_name=authority_name,
        lead_team=lead_team,
        awarded_on=_date(award["awarded_on"]),
        expires_on=_date(award["expires_on"]),
    )


def render(certificate: Certificate) -> bytes:
    """The certificate as a one-page PDF (the same bytes for the same certificate)."""
    buffer = io.BytesIO()
    width, height = landscape(A4)
    c = Canvas(buffer, pagesize=(width, height), invariant=True, pageCompression=1)
    title = f"{AWARD} certificate: {certificate.school_name}"
    c.setTitle(title)
    c.setAuthor(certificate.authority_name)
    c.setSubject(f"{AWARD} award, {uk_date(certificate.awarded_on)} to {uk_date(certificate.expires_on)}")
    c.setCreator("Schools of Sanctuary")

    # a double border in muted gold
    c.setStrokeColor(RULE)
    c.setLineWidth(2.5)
    c.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    c.setLineWidth(0.75)
    c.rect(16 * mm, 16 * mm, width - 32 * mm, height - 32 * mm)

    centre = width / 2
    c.setFillColor(INK)
    _line(c, centre, height - 45 * mm, certificate.authority_name.upper(), SERIF, 15, spacing=3)
    _line(c, centre, height - 53 * mm, "Schools of Sanctuary", SERIF_ITALIC, 13)
    _rule(c, centre, height - 60 * mm, 40 * mm)

    _line(c, centre, height - 78 * mm, "This is to certify that", SERIF_ITALIC, 16)
    _school_name(c, centre, height - 97 * mm, certificate.school_name, width - 60 * mm)
    _line(c, centre, height - 112 * mm, "has been awarded the status of", SERIF_ITALIC, 16)
    _line(c, centre, height - 132 * mm, AWARD, SERIF_BOLD, 40)
    _line(c, centre, height - 145 * mm,
          "for its culture of welcome and inclusion for everyone, especially people seeking sanctuary:",
          SERIF, 13)
    _line(c, centre, height - 152 * mm,
          "learning, embedding and sharing what it means to be seeking sanctuary.", SERIF, 13)
    _rule(c, centre, height - 157 * mm, 40 * mm)

    _line(c, centre - 65 * mm, 44 * mm, "Awarded on", SERIF_ITALIC, 12)
    _line(c, centre - 65 * mm, 36 * mm, uk_date(certificate.awarded_on), SERIF_BOLD, 15)
    _line(c, centre + 65 * mm, 44 * mm, "Valid until", SERIF_ITALIC, 12)
    _line(c, centre + 65 * mm, 36 * mm, uk_date(certificate.expires_on), SERIF_BOLD, 15)

    _line(c, centre, 24 * mm, f"Awarded by {certificate.authority_name}, {certificate.lead_team}  ·  "
          f"URN {certificate.urn}  ·  {certificate.school_year} cycle", SERIF, 9)
    c.showPage()
    c.save()
    return buffer.getvalue()


def _line(c: Canvas, x: float, y: float, text: str, font: str, size: float, spacing: float = 0) -> None:
    c.setFont(font, size)
    if spacing:  # letter-spaced capitals, centred
        c.drawCentredString(x, y, text, charSpace=spacing)
    else:
        c.drawCentredString(x, y, text)


def _school_name(c: Canvas, x: float, y: float, name: str, room: float) -> None:
    """The name on one line, smaller as it grows; a long name on two balanced lines."""
    size = _fit([name], 34, 22, room)
    if size is not None:
        _line(c, x, y, name, SERIF_BOLD, size)
        return
    words = name.split()
    splits = [(" ".join(words[:n]), " ".join(words[n:])) for n in range(1, len(words))] or [(name, "")]
    first, second = min(splits, key=lambda pair: abs(len(pair[0]) - len(pair[1])))
    size = _fit([first, second], 24, 12, room) or 12
    gap = size * 1.15
    _line(c, x, y + gap / 2, first, SERIF_BOLD, size)
    _line(c, x, y - gap / 2, second, SERIF_BOLD, size)


def _fit(lines: list[str], largest: int, smallest: int, room: float) -> int | None:
    """The largest size, down to ``smallest``, at which every line fits; None if none does."""
    for size in range(largest, smallest - 1, -1):
        if all(stringWidth(line, SERIF_BOLD, size) <= room for line in lines):
            return size
    return None


def _rule(c: Canvas, x: float, y: float, half: float) -> None:
    c.setStrokeColor(RULE)
    c.setLineWidth(0.75)
    c.line(x - half, y, x + half, y)


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
