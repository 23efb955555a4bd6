"""The lead's CSV files: a cell a spreadsheet would run as a formula is neutralised with a
leading quote, whatever the rest of it; everything else is kept as it was; the file is
UTF-8 CSV, downloaded under its name and never cached."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from services.gateway.web.spreadsheet import BOM, cell, csv_download, csv_text


@pytest.mark.parametrize("text", ["=1+1", "+44 24 7683 1834", "-2", "@SUM(A1:A2)", "\tindented",
                                  "\r=cmd|' /C calc'!A0", "=HYPERLINK(\"http://x.example\",\"x\")"])
def test_a_formula_like_cell_is_neutralised_with_a_leading_quote(text: str) -> None:
    assert cell(text) == "'" + text


@pytest.mark.parametrize("value, shown", [
    ("St Mary's School", "St Mary's School"), ("a=b", "a=b"), ("Coventry - EMAS", "Coventry - EMAS"),
    ("'quoted", "'quoted"), (" =spaced", " =spaced"), ("", ""), (None, ""), (12, "12"),
    (True, "Yes"), (False, "No"), (dt.date(2027, 3, 25), "2027-03-25"), ("Zoë Ñúñez", "Zoë Ñúñez")])
def test_other_cells_are_kept_as_they_are(value: object, shown: str) -> None:
    assert cell(value) == shown


def test_the_file_reads_back_with_every_cell_neutralised_where_needed() -> None:
    text = csv_text(("School", "Note"), [("=evil()", "fine, with a comma"), ("@x", "two\nlines")])
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert rows == [["School", "Note"], ["'=evil()", "fine, with a comma"], ["'@x", "two\nlines"]]


def test_a_header_is_neutralised_too() -> None:
    assert csv_text(("-minus",), []).removeprefix(BOM) == "'-minus\r\n"


def test_the_download_is_utf8_csv_under_its_name_and_not_cached() -> None:
    response = csv_download("coventry-schools-2026-12-01.csv", ("School",), [("Zoë's school",)])
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="coventry-schools-2026-12-01.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_data().decode("utf-8") == BOM + "School\r\nZoë's school\r\n"
