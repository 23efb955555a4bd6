"""The portfolio pages' own decisions: which type a browser's upload is declared as, and
where each file of an application view opens."""

from __future__ import annotations

import pytest

from services.gateway.web.pages import TEMPLATES
from services.gateway.web.portfolio_pages import _file_in, declared_type, size_text, with_file_links
from shared.errors import NotFound

SHA = "a" * 64


def test_a_browser_s_type_is_kept_when_the_portfolio_takes_it_else_the_name_says() -> None:
    assert declared_type("display.jpg", "image/jpeg") == "image/jpeg"
    assert declared_type("IMG_0001.HEIC", "application/octet-stream") == "image/heic"
    assert declared_type("plan.docx", "") == ("application/vnd.openxmlformats-officedocument."
                                              "wordprocessingml.document")
    # neither: what was sent, for the service to refuse naming the file
    assert declared_type("setup.exe", "application/x-msdownload") == "application/x-msdownload"
    assert declared_type("noname", "") == "application/octet-stream"


def test_each_file_says_where_it_opens_and_photos_where_their_thumbnail_is() -> None:
    photo = {"sha256": SHA, "filename": "a.jpg", "content_type": "image/jpeg", "size": 2 * 1024 * 1024}
    pdf = {**photo, "filename": "b.pdf", "content_type": "application/pdf", "sha256": "b" * 64}
    view = {"urn": "100001", "school_year": "2026-27",
            "evidence": [{"id": "e1", "files": [photo, pdf]}, {"id": "e2"}]}
    [first, second] = with_file_links(view)["evidence"]
    shown, paper = first["files"]
    assert shown["href"] == f"/schools/100001/applications/2026-27/files/{SHA}"
    assert shown["thumbnail"] == f"{shown['href']}?kind=thumbnail"
    assert (shown["kind"], shown["size_text"]) == ("JPEG", "2 MB")
    assert paper["thumbnail"] is None and paper["kind"] == "PDF"
    sizes = (80, 1024, 1025, 3 * 1024 * 1024 // 2)
    assert [size_text(n) for n in sizes] == ["1 KB", "1 KB", "2 KB", "1.5 MB"]
    assert second["files"] == []


def test_a_file_erased_with_a_person_opens_nowhere() -> None:
    view = {"urn": "100001", "school_year": "2026-27",
            "evidence": [{"id": "e1", "files": [{"sha256": SHA, "erased": True}]}]}
    [[erased]] = [e["files"] for e in with_file_links(view)["evidence"]]
    assert erased == {"sha256": SHA, "erased": True, "href": None, "thumbnail": None}


def test_the_panel_sees_a_file_erased_with_a_person_said_so_without_a_link_or_its_name() -> None:
    kept = {"sha256": "b" * 64, "filename": "policy.pdf", "content_type": "application/pdf", "size": 2048}
    view = {"urn": "100001", "school_year": "2026-27",
            "evidence": [{"id": "e1", "files": [{"sha256": SHA, "erased": True}, kept]}]}
    [item] = with_file_links(view)["evidence"]
    macro = TEMPLATES.get_template("portfolio/_files.html").module.evidence_files
    shown = str(macro(item))
    assert "A file removed at the person's request." in shown and SHA not in shown
    assert shown.count("<a ") == 1 and "policy.pdf" in shown


def test_a_file_erased_with_a_person_cannot_be_asked_to_be_removed() -> None:
    """Its remove page and form name the file: an erased one has no name (was a 500)."""
    item = with_file_links({"urn": "100001", "school_year": "2026-27", "evidence": [
        {"id": "e1", "files": [{"sha256": SHA, "erased": True}]}]})["evidence"][0]
    with pytest.raises(NotFound, match="erased"):
        _file_in(item, SHA)
