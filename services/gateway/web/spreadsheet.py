"""CSV files a lead hands to a manager or a committee. Every cell that a spreadsheet
would read as a formula (it begins with ``=``, ``+``, ``-`` or ``@``, or a tab or
carriage return, which some spreadsheets skip before looking) is neutralised with a
leading single quote: a school's name or a person's note must never run as a formula
on someone else's computer (CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from werkzeug.wrappers import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # so a spreadsheet opening the file reads it as UTF-8 (names with accents)


def cell(value: Any) -> str:
    """One cell's text: empty for None, Yes/No for a truth, neutralised if formula-like."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(h) for h in header])
    writer.writerows([cell(v) for v in row] for row in rows)
    return BOM + out.getvalue()


def csv_download(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """The file as a download, never kept by a cache (it holds personal data)."""
    response = Response(csv_text(header, rows), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
