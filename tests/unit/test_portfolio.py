"""The evidence portfolio's rules, in memory: what files are taken (by content), photos
cleaned of their metadata (a JPEG with GPS in, none out, still upright), a submission
freezing its files, the retention rule's day, and the zip's contents page."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile

import pytest
from PIL import Image

from services.applications.accreditation import AwardApplication, Deadline
from services.applications.photos import clean_photo
from services.applications.portfolio import (
    Upload,
    as_shown,
    by_criterion,
    check_uploads,
    contents_page,
    zip_entries,
)
from shared.authority import PortfolioRules
from shared.errors import Conflict, Invalid
from shared.files import DOCX, HEIC, JPEG, PDF, PNG, TEXT, pdf_has_script, sniff, zip_stream

RULES = PortfolioRules()


def _no_deadline() -> Deadline:
    return Deadline("final", None)


PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
GPS_IFD, ORIENTATION, MAKE = 0x8825, 0x0112, 0x010F


def photo(fmt: str = "JPEG", size: tuple[int, int] = (40, 20), gps: bool = True,
          orientation: int = 6) -> bytes:
    """A photo as a phone takes it: wider than tall, with an orientation, GPS and a camera make."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue: shows the turn
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "PhoneMaker"
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 24.0, 30.0), 3: "W", 4: (1.0, 30.0, 0.0)})
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def upload(content: bytes, content_type: str, filename: str) -> Upload:
    return Upload(filename, content_type, content)


# -- photos ------------------------------------------------------------------------------------


def test_a_jpeg_with_gps_in_has_no_gps_nor_exif_out_and_stays_upright() -> None:
    original = photo()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test photo has GPS
    assert b"PhoneMaker" in original
    cleaned = clean_photo(original, JPEG, "display.jpg")
    out = Image.open(io.BytesIO(cleaned.content))
    assert not out.getexif()  # no EXIF at all: no GPS, no camera, no orientation tag
    assert "exif" not in out.info and b"PhoneMaker" not in cleaned.content and b"Exif" not in cleaned.content
    assert out.size == (20, 40)  # turned as the orientation said: the pixels are upright now
    assert (cleaned.content_type, cleaned.filename) == (JPEG, "display.jpg")


def test_a_png_with_exif_is_written_again_without_it() -> None:
    cleaned = clean_photo(photo("PNG", orientation=1), PNG, "poster.png")
    out = Image.open(io.BytesIO(cleaned.content))
    assert not out.getexif() and b"PhoneMaker" not in cleaned.content
    assert out.size == (40, 20) and cleaned.content_type == PNG


def test_an_image_that_does_not_decode_is_refused_naming_the_file() -> None:
    broken = photo()[:200]  # a JPEG's start, cut short
    with pytest.raises(Invalid) as refused:
        check_uploads([upload(broken, JPEG, "broken.jpg")], RULES, 0)
    assert "broken.jpg" in refused.value.message
    assert refused.value.fields["files"][0].startswith("broken.jpg:")


def test_a_heic_photo_is_kept_as_a_jpeg_without_metadata() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    image = Image.new("RGB", (32, 16), (10, 200, 10))
    out = io.BytesIO()
    exif = Image.Exif()
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 24.0, 30.0)})
    image.save(out, "HEIF", exif=exif.tobytes())
    assert sniff(out.getvalue()) == "heic"
    [taken] = check_uploads([upload(out.getvalue(), HEIC, "IMG_0001.HEIC")], RULES, 0)
    assert (taken.facts.content_type, taken.facts.filename) == (JPEG, "IMG_0001.jpg")
    assert not Image.open(io.BytesIO(taken.content)).getexif()


# -- what is taken --------------------------------------------------------------------------------


def test_a_photo_and_a_pdf_are_taken_with_their_stored_hashes() -> None:
    taken = check_uploads([upload(photo(), JPEG, "display.jpg"), upload(PDF_BYTES, PDF, "policy.pdf")],
                          RULES, 0)
    assert [t.facts.filename for t in taken] == ["display.jpg", "policy.pdf"]
    assert all(t.facts.sha256 == hashlib.sha256(t.content).hexdigest() for t in taken)
    assert taken[0].content != photo()  # the cleaned photo is what is stored
    assert taken[1].content == PDF_BYTES


@pytest.mark.parametrize(("content", "content_type", "filename", "reason"), [
    (b"PK\x03\x04" + bytes(40), "application/zip", "photos.zip", "does not keep files of type"),
    (b"PK\x03\x04" + bytes(40), DOCX, "photos.docx", "ZIP archive"),
    (b"\x1f\x8b\x08\x00" + bytes(40), PDF, "photos.pdf", "an archive"),
    (b"MZ\x90\x00" + bytes(60), PDF, "setup.pdf", "a program"),
    (b"\x7fELF" + bytes(60), TEXT, "notes.txt", "a program"),
    (PDF_BYTES.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (x) >>"),
     PDF, "policy.pdf", "JavaScript"),
    (PDF_BYTES, JPEG, "policy.jpg", "not a JPEG image"),
    (b"\x00\x00\x00\x18ftypmp42" + bytes(40), "video/mp4", "assembly.mp4", "does not keep"),
    (b"\x00\x00\x00\x18ftypmp42" + bytes(40), HEIC, "assembly.heic", "a video"),
])
def test_files_that_are_not_what_they_say_are_refused_naming_the_file(
        content: bytes, content_type: str, filename: str, reason: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_uploads([upload(PDF_BYTES, PDF, "fine.pdf"), upload(content, content_type, filename)], RULES, 0)
    assert refused.value.status == 422
    assert refused.value.message.startswith(f"{filename}:")
    assert reason in refused.value.message + " ".join(refused.value.fields["files"])


def test_a_pdf_naming_javascript_through_an_escaped_name_is_still_seen() -> None:
    assert pdf_has_script(b"%PDF-1.4 << /J#53 (app.alert(1)) >>")
    assert pdf_has_script(b"%PDF-1.4 << /S /JavaScript >>")
    assert not pdf_has_script(PDF_BYTES)
    assert not pdf_has_script(b"%PDF-1.4 << /JSON_like_name 1 >>")


def test_a_file_over_the_authoritys_limit_is_a_422_naming_it() -> None:
    small = PortfolioRules(max_file_mb=1, max_application_mb=2)
    big = PDF_BYTES + b" " * (1024 * 1024)
    with pytest.raises(Invalid) as refused:
        check_uploads([upload(big, PDF, "scan.pdf")], small, 0)
    assert refused.value.status == 422 and refused.value.message.startswith("scan.pdf:")
    assert "takes files up to 1 MB" in refused.value.message


def test_files_past_what_the_application_may_hold_are_refused() -> None:
    small = PortfolioRules(max_file_mb=1, max_application_mb=2)
    with pytest.raises(Invalid) as refused:
        check_uploads([upload(PDF_BYTES + b" " * 1000, PDF, "more.pdf")], small, 2 * 1024 * 1024 - 500)
    assert "more.pdf" in refused.value.message and "at most 2 MB" in refused.value.message


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(Invalid):
        check_uploads([], RULES, 0)


# -- freezing ------------------------------------------------------------------------------------


def ref(name: str, size: int = 10) -> dict:
    return {"sha256": hashlib.sha256(name.encode()).hexdigest(), "filename": name,
            "content_type": PDF, "size": size}


def application() -> AwardApplication:
    return AwardApplication(urn="103712", school_name="Hill Primary", school_year="2026-27",
                            criteria_version="2024", criteria=["learn-1", "embed-3"], has_draft=False,
                            renewal_of=None, carried_actions=[], actor="c")


def test_a_submission_freezes_its_files_and_later_changes_do_not_touch_it() -> None:
    a = application()
    a.add_evidence("e1", "learn-1", "Policy", "", None, "c", files=[ref("policy.pdf"), ref("policy.pdf")])
    a.add_evidence("e2", "embed-3", "Display", "", None, "c")
    a.submit("final", dt.date(2027, 3, 1), _no_deadline(), "c")
    a.decide("further_evidence", "More", dt.date(2027, 6, 1), dt.date(2027, 4, 1), "x", [], "lead")
    a.add_files("e2", [ref("display.jpg")], "c")
    a.remove_file("e1", ref("policy.pdf")["sha256"], "c")
    assert a.submitted_files(1) == {"e1": [ref("policy.pdf")]}  # the same file chosen twice: once
    assert a.evidence["e1"]["files"] == [] and a.evidence["e2"]["files"] == [ref("display.jpg")]
    assert set(a.held_files()) == {ref("policy.pdf")["sha256"], ref("display.jpg")["sha256"]}
    a.submit("final", dt.date(2027, 5, 1), _no_deadline(), "c")
    assert a.submitted_files(2) == {"e2": [ref("display.jpg")]}


def test_files_are_not_added_to_withdrawn_evidence_nor_removed_twice() -> None:
    a = application()
    a.add_evidence("e1", "learn-1", "Policy", "", None, "c", files=[ref("policy.pdf")])
    a.remove_file("e1", ref("policy.pdf")["sha256"], "c")
    with pytest.raises(Conflict):
        a.remove_file("e1", ref("policy.pdf")["sha256"], "c")
    a.withdraw_evidence("e1", "c")
    with pytest.raises(Conflict):
        a.add_files("e1", [ref("more.pdf")], "c")


def test_the_live_portfolio_counts_each_file_once() -> None:
    a = application()
    a.add_evidence("e1", "learn-1", "Policy", "", None, "c", files=[ref("a.pdf", 100)])
    a.add_evidence("e2", "embed-3", "Again", "", None, "c", files=[ref("a.pdf", 100), ref("b.pdf", 5)])
    assert a.portfolio_bytes() == 105


# -- retention -------------------------------------------------------------------------------------


def test_an_awarded_portfolio_is_kept_until_the_award_expires_plus_the_years_set() -> None:
    a = application()
    a.add_evidence("e1", "learn-1", "Policy", "", None, "c")
    assert a.kept_until(1, 1) is None  # open: kept
    a.submit("final", dt.date(2027, 3, 1), _no_deadline(), "c")
    a.decide("awarded", "Well done", None, dt.date(2027, 7, 1), "x", [], "lead")
    assert a.award["expires_on"] == dt.date(2030, 7, 1)
    assert a.kept_until(1, 5) == dt.date(2031, 7, 1)
    assert a.kept_until(0, 5) == dt.date(2030, 7, 1)


def test_a_portfolio_not_awarded_is_kept_from_the_decision() -> None:
    a = application()
    a.add_evidence("e1", "learn-1", "Policy", "", None, "c")
    a.submit("final", dt.date(2027, 3, 1), _no_deadline(), "c")
    a.decide("not_awarded", "Not yet", None, dt.date(2027, 7, 1), "x", [], "lead")
    assert a.kept_until(5, 2) == dt.date(2029, 7, 1)
    a.delete_portfolio(dt.date(2029, 7, 2), ["abc"], "system:retention")
    assert a.portfolio_deleted == {"on": dt.date(2029, 7, 2), "files": 1}
    with pytest.raises(Conflict):
        a.delete_portfolio(dt.date(2029, 7, 3), [], "system:retention")


def test_a_withdrawn_portfolio_is_kept_from_the_day_it_was_withdrawn_by_the_service_s_clock() -> None:
    a = application()
    a.withdraw("The head teacher left", "c", on=dt.date(2031, 1, 5))  # a rehearsal's day, years ahead
    assert a.withdrawal["on"] == dt.date(2031, 1, 5)
    assert a.kept_until(5, 2) == dt.date(2033, 1, 5)


# -- the panel's zip ----------------------------------------------------------------------------------


def test_the_zip_has_a_contents_page_and_a_folder_per_criterion() -> None:
    evidence = [{"id": "e1", "criterion": "learn-1", "title": "Policy", "detail": "Our policy", "link": None},
                {"id": "e2", "criterion": "embed-3", "title": "Display", "detail": "",
                 "link": "https://example.org/video"},
                {"id": "e3", "criterion": "embed-3", "title": "Second display", "detail": "", "link": None}]
    files = {"e1": [ref("policy.pdf")], "e2": [ref("photo.jpg")],
             "e3": [ref("photo.jpg") | {"sha256": "f" * 64}]}  # another photo, of the same name
    groups = by_criterion(evidence, files, {"learn-1": "learn-1 Learning", "embed-3": "embed-3 Embedding"})
    entries = zip_entries(groups)
    assert [path for path, _ in entries] == ["01 learn-1 Learning/policy.pdf",
                                             "02 embed-3 Embedding/photo.jpg",
                                             "02 embed-3 Embedding/photo (2).jpg"]
    submission = {"stage": "final", "on": "2027-03-01", "version": 1}
    contents = contents_page("Hill Primary", "103712", "2026-27", submission, groups, entries)
    data = b"".join(zip_stream([("CONTENTS.txt", [contents.encode()]),
                                *((path, [b"x"]) for path, _ in entries)]))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist()[0] == "CONTENTS.txt"
        page = archive.read("CONTENTS.txt").decode()
    assert "Link: https://example.org/video" in page and "02 embed-3 Embedding/photo (2).jpg" in page
    assert page.index("learn-1") < page.index("embed-3")


def test_a_file_erased_with_a_person_is_not_in_the_zip_and_its_contents_page_says_so() -> None:
    evidence = [{"id": "e1", "criterion": "learn-1", "title": "Display", "detail": "", "link": None}]
    kept, gone = ref("kept.jpg"), ref("amira.jpg") | {"sha256": "e" * 64}
    files = {"e1": as_shown([kept, gone], ["e" * 64])}
    assert files["e1"][1] == {"sha256": "e" * 64, "erased": True}  # not even its name
    groups = by_criterion(evidence, files, {"learn-1": "learn-1 Learning"})
    entries = zip_entries(groups)
    assert [path for path, _ in entries] == ["01 learn-1 Learning/kept.jpg"]
    page = contents_page("Hill Primary", "103712", "2026-27", {"stage": "final", "on": "2027-03-01",
                                                                 "version": 1}, groups, entries)
    assert "A file removed at the person's request." in page and "amira" not in page
