"""The evidence portfolio in a browser, JavaScript off: a coordinator adds evidence, uploads
a phone photo (with GPS) and a PDF to it in one go, is refused a program dressed as a PDF
(the error summary names the file), uploads a note and removes it again after a
confirmation; the draft is submitted. A panel member, once clear of conflict, sees the files
under their criterion, the photo as a thumbnail, the PDF opening in the browser and the
photo without its location, and downloads the whole portfolio from its zip link. The lead
sees each of those downloads on the application's page. Every page is checked for
accessibility and fits a 390 px phone."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from tests.e2e.browser.conftest import Visitor
from tests.e2e.conftest import E2ESystem, Person
from tests.e2e.test_journey import DRAFT_DEADLINE, People, ensure_panel, pledge
from tests.unit.test_portfolio import GPS_IFD, PDF_BYTES, photo

pytestmark = pytest.mark.e2e
PHONE_FITS = True

URN = "660001"  # no other e2e test uses 6600xx
YEAR = "2026-27"
APP = f"/schools/{URN}/applications/{YEAR}"
AUDIT = f"/school/{URN}/application/{YEAR}/audit/learn-1"
TITLE = "Display of pupils' work on welcome"
PHOTO_NAME = "a-rather-long-name-for-the-welcome-display-photo-taken-on-a-phone.jpg"


def chosen(name: str, kind: str, content: bytes) -> dict:
    return {"name": name, "mimeType": kind, "buffer": content}


@pytest.fixture(scope="module")
def people(system: E2ESystem) -> People:
    def member(handle: str, name: str) -> Person:
        return system.add_account(f"{handle}@portfolio-pages.e2e.example.org", name,
                                  [{"role": "panel_member"}])
    return People(system, member("mo", "Mo Member"), member("nia", "Nia Member"),
                  member("oz", "Oz Member"), member("pip", "Pip Outsider"))


def test_a_portfolio_uploaded_in_the_browser_is_what_the_panel_sees_and_downloads(
        system: E2ESystem, visit, people: People) -> None:
    pledge(people, URN)
    school = people.school(URN)
    school.ok(school.post(f"/schools/{URN}/applications", {"school_year": YEAR}), 201)

    # the coordinator adds evidence, then its files
    coordinator: Visitor = visit("phone").sign_in_as(system.coordinator(URN))
    coordinator.open(AUDIT)
    coordinator.click("Add evidence for Learn 1: Training and expertise")
    coordinator.fill("Title", TITLE)
    coordinator.click("Add evidence")
    assert "0 files." in coordinator.text()
    coordinator.click(f"Upload or remove files for {TITLE}")
    assert coordinator.heading() == f"Files for {TITLE}"
    coordinator.click("Upload files", label="files, none chosen")
    assert coordinator.error_summary() == ["Select one or more files to upload"]

    upload = coordinator.page.get_by_label("Choose files", exact=True)
    upload.set_input_files([chosen("policy.pdf", "application/pdf", PDF_BYTES),
                            chosen("run.pdf", "application/pdf", b"MZ" + bytes(60))])
    coordinator.click("Upload files", label="files, a program refused")
    [refusal] = coordinator.error_summary()
    assert refusal.startswith("run.pdf: ") and "program" in refusal, refusal
    [item] = school.ok(school.get(APP))["evidence"]
    assert item["files"] == []  # the batch was refused whole: not even the good PDF was kept

    upload.set_input_files([chosen(PHOTO_NAME, "image/jpeg", photo(size=(60, 30))),
                            chosen("policy.pdf", "application/pdf", PDF_BYTES)])
    coordinator.click("Upload files", label="files, two uploaded")
    assert "2 files are uploaded" in coordinator.text()
    upload.set_input_files([chosen("notes.txt", "text/plain", b"A note we did not mean to send.\n")])
    coordinator.click("Upload files")
    coordinator.click("Remove notes.txt")
    assert coordinator.heading() == "Are you sure you want to remove notes.txt?"
    coordinator.click("Yes, remove the file")
    assert "notes.txt is removed" in coordinator.text()
    assert "notes.txt" not in coordinator.page.locator("main dl").inner_text()
    [item] = school.ok(school.get(APP))["evidence"]
    assert sorted(f["filename"] for f in item["files"]) == [PHOTO_NAME, "policy.pdf"]

    # the draft goes in; the draft panel gets it
    lead = people.lead
    if system.today() > DRAFT_DEADLINE:
        lead.ok(lead.post(f"{APP}/extensions", {"stage": "draft", "until": system.today().isoformat(),
                                                "reason": "Late", "beyond_panel_meeting": True}))
    school.ok(school.post(f"{APP}/submissions", {"stage": "draft"}))
    ensure_panel(people, "draft")
    lead.ok(lead.post(f"/cycles/{YEAR}/panels/draft/assignments/{URN}"))

    # a panel member, clear of conflict, sees the files under their criterion
    member: Visitor = visit().sign_in_as(people.m1)
    member.open(f"/panel/{URN}/{YEAR}/draft")
    member.choose("No, I have no connection with the school")
    member.click("Send my declaration", label="appraisal with the portfolio")
    criterion = member.page.locator("main h4", has_text="Learn 1").locator("xpath=following-sibling::dl[1]")
    assert TITLE in criterion.inner_text()
    photo_link = criterion.get_by_role("link", name=PHOTO_NAME)
    pdf_link = criterion.get_by_role("link", name="policy.pdf")
    thumbnail = photo_link.locator("img")
    assert thumbnail.count() == 1 and pdf_link.locator("img").count() == 0  # a thumbnail for photos only

    shown = member.page.request.get(system.base_url + photo_link.get_attribute("href"))
    image = Image.open(io.BytesIO(shown.body()))
    assert not image.getexif().get_ifd(GPS_IFD) and image.size == (30, 60)  # no location; upright
    assert b"Exif" not in shown.body() and b"PhoneMaker" not in shown.body()
    paper = member.page.request.get(system.base_url + pdf_link.get_attribute("href"))
    assert paper.body() == PDF_BYTES and paper.headers["content-disposition"].startswith("inline")

    with member.page.expect_download() as downloading:
        member.page.get_by_role("link", name="Download the whole portfolio (zip)").click()
    with zipfile.ZipFile(downloading.value.path()) as archive:
        names = archive.namelist()
        in_zip = archive.read(next(n for n in names if n.endswith(PHOTO_NAME)))
    assert b"Exif" not in in_zip and b"PhoneMaker" not in in_zip  # no location, no camera, in the zip
    assert not Image.open(io.BytesIO(in_zip)).getexif()
    assert names[0] == "CONTENTS.txt"
    assert sorted(n.rsplit("/", 1)[-1] for n in names[1:]) == [PHOTO_NAME, "policy.pdf"]
    assert all(n.startswith("01 learn-1 Training and expertise/") for n in names[1:]), names

    # the lead sees who downloaded what
    lead_browser: Visitor = visit("phone").sign_in_as(system.lead)
    lead_browser.open(f"/lead/applications/{URN}/{YEAR}", label="application, with downloads")
    table = lead_browser.page.get_by_role("region", name="Downloads of the portfolio").inner_text()
    assert table.count("Mo Member (panel member)") == 4
    for what in (f"A thumbnail of {PHOTO_NAME}", PHOTO_NAME, "policy.pdf",
                 "The whole portfolio (zip, 2 files)"):
        assert what in table, table
    # the browser fetched the thumbnail as it showed the page; the rest were opened
    record = lead.ok(lead.get(f"{APP}/downloads"))["items"]
    assert [(r["kind"], r["by"]) for r in record] == [
        (kind, people.m1.actor) for kind in ("thumbnail", "file", "file", "zip")]

    # the lead marks the photo as showing a pupil, so that erasing her deletes it; a name is needed
    lead_browser.page.get_by_label("File").select_option(label=PHOTO_NAME)
    lead_browser.click("Record who it shows", label="no name given")
    assert len(lead_browser.error_summary()) == 1  # the name is asked for; nothing recorded
    lead_browser.page.get_by_label("File").select_option(label=PHOTO_NAME)
    lead_browser.fill("The person it shows", "Amira Khan")
    lead_browser.click("Record who it shows", label="the photo marked as showing her")
    assert "Recorded: the file is deleted if everyone it shows asks to be erased." in lead_browser.text()
