"""The evidence portfolio over real HTTP, on the whole running system: a school uploads a
phone photo (with GPS) and a PDF, submits its draft, adds a file afterwards; the panel
member clear to see it gets only the submitted files (the photo without its location)
and the zip with its contents page; a conflicted member, a member of no panel and another
school's coordinator get 403 on every file URL; bad files are a 422 naming the file with
nothing stored; the lead sees every download."""

from __future__ import annotations

import io
import zipfile

import pytest
import requests
from PIL import Image

from tests.e2e.conftest import Api, E2ESystem
from tests.e2e.test_journey import (
    DRAFT_DEADLINE,
    People,
    app_path,
    appraisal_path,
    ensure_panel,
    nothing_stored,
    pledge,
    refused,
    today,
)
from tests.e2e.test_journey import people as people  # noqa: F401 - the fixture, for these tests
from tests.e2e.test_journey import system as system  # noqa: F401 - the fixture, for these tests
from tests.unit.test_portfolio import GPS_IFD, PDF_BYTES, photo

pytestmark = pytest.mark.e2e

URN, OTHER = "940201", "940202"  # no other e2e test uses 9402xx
YEAR = "2026-27"


def upload(api: Api, evidence_id: str, content: bytes, content_type: str, filename: str,
           urn: str = URN) -> requests.Response:
    return api.call("POST", f"{app_path(urn)}/evidence/{evidence_id}/files", params={"filename": filename},
                    data=content, headers={"Content-Type": content_type})


def test_a_portfolio_uploaded_submitted_and_read_only_by_those_allowed(system: E2ESystem,  # noqa: F811
                                                                      people: People) -> None:  # noqa: F811
    lead, school, path = people.lead, people.school(URN), app_path(URN)
    pledge(people, URN)
    school.ok(school.post(f"/schools/{URN}/applications", {"school_year": YEAR}), 201)
    view = school.ok(school.post(f"{path}/evidence", {"criterion": "learn-1", "title": "Display"}), 201)
    [item] = view["evidence"]

    # a phone photo (GPS, turned) and a PDF
    shot = photo(size=(60, 30))
    taken = school.ok(upload(school, item["id"], shot, "image/jpeg", "display.jpg"), 201)
    taken = school.ok(upload(school, item["id"], PDF_BYTES, "application/pdf", "policy.pdf"), 201)
    files = {f["filename"]: f for f in taken["evidence"][0]["files"]}
    assert set(files) == {"display.jpg", "policy.pdf"}

    # bad files: a 422 naming the file, nothing stored
    with nothing_stored(lead, path):
        for content, kind, name in ((b"PK\x03\x04" + bytes(40), "application/pdf", "photos.pdf"),
                                    (b"MZ" + bytes(60), "text/plain", "run.txt"),
                                    (shot[:100], "image/jpeg", "broken.jpg"),
                                    (PDF_BYTES.replace(b">> endobj", b"/JS (x) >> endobj"),
                                     "application/pdf", "script.pdf")):
            error = refused(upload(school, item["id"], content, kind, name), 422, "files")
            assert error["message"].startswith(f"{name}:"), error

    if today(system) > DRAFT_DEADLINE:
        lead.ok(lead.post(f"{path}/extensions", {"stage": "draft", "until": today(system).isoformat(),
                                                 "reason": "Late", "beyond_panel_meeting": True}))
    school.ok(school.post(f"{path}/submissions", {"stage": "draft"}))
    ensure_panel(people, "draft")
    lead.ok(lead.post(f"/cycles/{YEAR}/panels/draft/assignments/{URN}"))
    # after submission: the school adds a file; the panel must not see it
    later = school.ok(upload(school, item["id"], b"Added after the draft went in.\n", "text/plain",
                             "later.txt"), 201)
    added = next(f for f in later["evidence"][0]["files"] if f["filename"] == "later.txt")

    m1, m3 = people.api(people.m1), people.api(people.m3)
    base = appraisal_path(URN, "draft")
    m1.ok(m1.post(f"{base}/declaration", {"conflicted": False}))
    m3.ok(m3.post(f"{base}/declaration", {"conflicted": True, "interests": "My child attends"}))

    seen = m1.ok(m1.get(f"{base}/application"))
    assert {f["filename"] for e in seen["evidence"] for f in e["files"]} == {"display.jpg", "policy.pdf"}
    got = m1.get(f"{path}/files/{files['display.jpg']['sha256']}")
    assert got.status_code == 200 and got.headers["Content-Type"] == "image/jpeg"
    assert got.headers["Cache-Control"] == "private, no-store"
    served = Image.open(io.BytesIO(got.content))
    assert not served.getexif().get_ifd(GPS_IFD) and not served.getexif()  # no location in it
    assert served.size == (30, 60)  # upright
    pdf = m1.get(f"{path}/files/{files['policy.pdf']['sha256']}")
    assert pdf.content == PDF_BYTES and pdf.headers["Content-Disposition"].startswith("inline")
    thumb = m1.get(f"{path}/files/{files['display.jpg']['sha256']}", params={"kind": "thumbnail"})
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"
    refused(m1.get(f"{path}/files/{added['sha256']}"), 404)  # added after: not the panel's
    archive = m1.get(f"{path}/portfolio/draft.zip")
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        names = opened.namelist()
        contents = opened.read("CONTENTS.txt").decode()
    assert names[0] == "CONTENTS.txt" and len(names) == 3 and not any("later" in n for n in names)
    assert "display.jpg" in contents and "policy.pdf" in contents

    # every file URL, as everyone not allowed
    other, outsider = people.school(OTHER), people.api(people.outsider)
    urls = [f"{path}/files/{f['sha256']}" for f in (*files.values(), added)]
    urls += [f"{path}/files/{files['display.jpg']['sha256']}?kind=thumbnail", f"{path}/portfolio/draft.zip"]
    for who in (m3, other, outsider):
        for url in urls:
            assert who.get(url).status_code == 403, (who, url)
    assert Api(system, None).get(urls[0]).status_code == 401

    # the school sees every file it uploaded; the lead sees every download, who and which
    assert school.get(f"{path}/files/{added['sha256']}").status_code == 200
    record = lead.ok(lead.get(f"{path}/downloads"))["items"]
    by_m1 = [r for r in record if r["by"] == f"account:{people.m1.id}"]
    assert [r["kind"] for r in by_m1] == ["file", "file", "thumbnail", "zip"]
    assert by_m1[0]["files"] == [{"sha256": files["display.jpg"]["sha256"], "filename": "display.jpg"}]
    assert all(r["role"] == "panel" for r in by_m1)
    assert not any(r["by"] == f"account:{people.m3.id}" for r in record)  # refused: nothing read
    refused(school.get(f"{path}/downloads"), 403)
