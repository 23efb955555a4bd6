"""The evidence portfolio over real HTTP, on the whole running system: a school uploads a
phone photo (with GPS) and a PDF, submits its draft, adds a file afterwards; the panel
member clear to see it gets only the submitted files (the photo without its location)
and the zip with its contents page; a conflicted member, a member of no panel and another
school's coordinator get 403 on every file URL; bad files are a 422 naming the file with
nothing stored; the lead sees every download.

Every file URL (a file, a thumbnail, the zip, the download record) as every role: nobody
signed in, another school's coordinator, a conflicted member, a member on the panel who has
not declared, members on no panel, the lead, the school's coordinator and the member clear
to see it; no location or camera left in any photo the panel downloads, alone or in the zip.
A portfolio larger than one RPC message downloads as one zip, sent as it is read from the
shared files folder, with the gateway's memory bounded."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from pathlib import Path

import pytest
import requests
from PIL import Image

from services.applications.portfolio import EVIDENCE_FILES
from shared.files import FileStore
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

URN, OTHER, ROLES, LARGE = "940201", "940202", "940203", "940204"  # no other e2e test uses 9402xx
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


def submitted_draft(system: E2ESystem, people: People, urn: str,  # noqa: F811
                    files: list[tuple[bytes, str, str]]) -> tuple[str, dict]:
    """School ``urn`` applying with one evidence item holding ``files``, its draft submitted and
    assigned to the draft panel: the item's id and its files by name."""
    school, lead, path = people.school(urn), people.lead, app_path(urn)
    pledge(people, urn)
    school.ok(school.post(f"/schools/{urn}/applications", {"school_year": YEAR}), 201)
    [item] = school.ok(school.post(f"{path}/evidence", {"criterion": "learn-1", "title": "Display"}),
                       201)["evidence"]
    for content, kind, name in files:
        view = school.ok(upload(school, item["id"], content, kind, name, urn=urn), 201)
    if today(system) > DRAFT_DEADLINE:
        lead.ok(lead.post(f"{path}/extensions", {"stage": "draft", "until": today(system).isoformat(),
                                                 "reason": "Late", "beyond_panel_meeting": True}))
    school.ok(school.post(f"{path}/submissions", {"stage": "draft"}))
    ensure_panel(people, "draft")
    lead.ok(lead.post(f"/cycles/{YEAR}/panels/draft/assignments/{urn}"))
    return item["id"], {f["filename"]: f for f in view["evidence"][0]["files"]}


def no_location(content: bytes) -> None:
    """A photo with nothing of where or with what it was taken: no EXIF block at all."""
    assert content[:3] == b"\xff\xd8\xff" and b"Exif" not in content and b"PhoneMaker" not in content
    assert not Image.open(io.BytesIO(content)).getexif()


def test_every_file_url_as_every_role(system: E2ESystem, people: People) -> None:  # noqa: F811
    path, lead, school = app_path(ROLES), people.lead, people.school(ROLES)
    evidence_id, files = submitted_draft(system, people, ROLES, [
        (photo(size=(60, 30)), "image/jpeg", "phone.jpg"), (PDF_BYTES, "application/pdf", "policy.pdf")])
    later = school.ok(upload(school, evidence_id, b"After the draft.\n", "text/plain", "after.txt",
                             urn=ROLES), 201)
    after = next(f for f in later["evidence"][0]["files"] if f["filename"] == "after.txt")
    m1, m2, m3 = (people.api(m) for m in (people.m1, people.m2, people.m3))
    base = appraisal_path(ROLES, "draft")
    m1.ok(m1.post(f"{base}/declaration", {"conflicted": False}))
    m3.ok(m3.post(f"{base}/declaration", {"conflicted": True, "interests": "I govern the school"}))

    photo_url = f"{path}/files/{files['phone.jpg']['sha256']}"
    urls = {"photo": photo_url, "pdf": f"{path}/files/{files['policy.pdf']['sha256']}",
            "thumbnail": f"{photo_url}?kind=thumbnail", "zip": f"{path}/portfolio/draft.zip",
            "after": f"{path}/files/{after['sha256']}", "unknown": f"{path}/files/{'0' * 64}",
            "downloads": f"{path}/downloads"}
    shut_out = dict.fromkeys(urls, 403)
    no_panel = people.system.add_account("nobody@portfolio.e2e.example.org", "Nobody Panel",
                                         [{"role": "panel_member"}])
    expected = {
        "anonymous": (Api(system, None), dict.fromkeys(urls, 401)),
        "another school's coordinator": (people.school(OTHER), shut_out),
        "a conflicted member": (m3, shut_out),
        "a member who has not declared": (m2, shut_out),
        "a member on no panel": (people.api(people.outsider), shut_out),
        "another member on no panel": (people.api(no_panel), shut_out),
        "the lead": (lead, {**dict.fromkeys(urls, 200), "unknown": 404}),
        "the school's coordinator": (school, {**dict.fromkeys(urls, 200), "unknown": 404, "downloads": 403}),
        "the member clear to see it": (m1, {**dict.fromkeys(urls, 200), "after": 404, "unknown": 404,
                                            "downloads": 403}),
    }
    for role, (who, statuses) in expected.items():
        got = {name: who.get(url).status_code for name, url in urls.items()}
        assert got == statuses, role

    # what the panel downloads carries no location, alone or in the zip
    no_location(m1.get(photo_url).content)
    no_location(m1.get(urls["thumbnail"]).content)
    with zipfile.ZipFile(io.BytesIO(m1.get(urls["zip"]).content)) as archive:
        [in_zip] = [n for n in archive.namelist() if n.endswith("phone.jpg")]
        no_location(archive.read(in_zip))
        assert "after.txt" not in archive.read("CONTENTS.txt").decode()
    record = lead.ok(lead.get(urls["downloads"]))["items"]
    assert {r["by"] for r in record} == {lead.who.actor, people.system.coordinator(ROLES).actor,
                                         people.m1.actor}  # those refused read nothing

    # a file altered on disk is refused whole, saying why, not sent cut short after a 200
    stored = FileStore(system.settings.data_dir / EVIDENCE_FILES, "the portfolio").path(after["sha256"])
    stored.write_bytes(b"After the draft, altered.\n")
    altered = school.get(urls["after"])
    assert altered.status_code == 409, (altered.status_code, altered.content)
    assert "no longer matches its checksum" in altered.json()["message"]


def rss_kb(pid: int) -> int:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1])


def large_pdf() -> bytes:
    """15 MB of PDF that does not compress (and names no script: no '/' in its noise)."""
    return PDF_BYTES[:9] + os.urandom(15 * 1024 * 1024).replace(b"/", b"x") + b"\n%%EOF\n"


def test_a_portfolio_larger_than_an_rpc_message_downloads_with_the_gateway_s_memory_bounded(
        system: E2ESystem, people: People) -> None:  # noqa: F811
    pdfs = {f"part-{n}.pdf": large_pdf() for n in range(1, 6)}  # 75 MB; base64 of the zip: 100 MB
    _, files = submitted_draft(system, people, LARGE, [(c, "application/pdf", n) for n, c in pdfs.items()])
    school = people.school(LARGE)
    gateway = system.processes["gateway"].pid
    before, peak, size = rss_kb(gateway), 0, 0
    with tempfile.TemporaryFile() as saved:
        with school.get(f"{app_path(LARGE)}/portfolio/draft.zip", stream=True) as response:
            assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
            for chunk in response.iter_content(256 * 1024):
                saved.write(chunk)
                size += len(chunk)
                peak = max(peak, rss_kb(gateway))
        assert size > sum(map(len, pdfs.values()))
        # a sanity bound, far above the few MB a streamed zip holds, far below the zip whole (75 MB),
        # let alone the zip and its base64 from one RPC reply (175 MB)
        assert peak - before < 40 * 1024, (before, peak)
        with zipfile.ZipFile(saved) as archive:
            found = {n.rsplit("/", 1)[-1]: hashlib.sha256(archive.read(n)).hexdigest()
                     for n in archive.namelist()[1:]}
    assert found == {name: files[name]["sha256"] for name in pdfs}
    assert found == {name: hashlib.sha256(content).hexdigest() for name, content in pdfs.items()}
