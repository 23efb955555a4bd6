"""The portfolio's files deleted when the rules say so, over real HTTP.

Erasure: the lead marks one photo as showing a pupil and another as showing her and a
friend; erasing the pupil (by name at the school) deletes the first, records it, and keeps
the second (her friend is still in it) and every unmarked file. The first photo is also in
another school's portfolio (a joint event): its bytes are deleted once, that application
records it too, its coordinator's page says it was removed at the person's request (no
broken link), and neither school can upload it again.

Retention, on a rehearsal's shifted clock (last: it moves the clock on): a school uploads a
photo and a PDF and withdraws its application on the rehearsal's day; another school's open
application holds the same PDF. Moved on past the rule (withdrawn: a year), the applications
service deletes the withdrawn portfolio's files as it starts, once, and records it: the
photo's bytes are gone from the data folder and its URL says why; the PDF, still another
application's, is kept and still read by that school; the lead's page says when."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.conftest import E2ESystem, rehearsal, wait_for
from tests.e2e.test_journey import People, pledge, refused
from tests.e2e.test_portfolio import upload
from tests.unit.test_portfolio import PDF_BYTES, photo

pytestmark = pytest.mark.e2e

URN, OTHER, ERASED, SHARING = "940301", "940302", "940303", "940304"  # no other e2e test uses 9403xx
YEAR = "2026-27"
START = "2027-03-01T09:00"
WITHDRAWN_ON = dt.date(2027, 3, 1)
KEPT_UNTIL = dt.date(2028, 3, 1)  # Coventry keeps a withdrawn portfolio a year
PAST_IT = "2028-03-02T09:00"


@pytest.fixture(scope="module")
def system(module_amqp_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    yield from rehearsal(module_amqp_uri, tmp_path_factory, START)


def app_path(urn: str) -> str:
    return f"/schools/{urn}/applications/{YEAR}"


def portfolio(people: People, urn: str, files: list[tuple[bytes, str, str]]) -> dict:
    """School ``urn`` pledged, applying, one evidence item holding ``files``; its file references."""
    pledge(people, urn)
    school = people.school(urn)
    school.ok(school.post(f"/schools/{urn}/applications", {"school_year": YEAR}), 201)
    view = school.ok(school.post(f"{app_path(urn)}/evidence", {"criterion": "learn-1", "title": "Display"}),
                     201)
    for content, kind, name in files:
        view = school.ok(upload(school, view["evidence"][0]["id"], content, kind, name, urn=urn), 201)
    return {f["filename"]: f for f in view["evidence"][0]["files"]}


@pytest.fixture(scope="module")
def people(system: E2ESystem) -> People:
    members = [system.add_account(f"{h}@retention.e2e.example.org", h, [{"role": "panel_member"}], None)
               for h in ("m1", "m2", "m3", "m4")]
    return People(system, *members)


def test_erasing_a_pupil_deletes_the_files_marked_as_showing_only_people_erased(system: E2ESystem,
                                                                                people: People) -> None:
    lead, path = people.lead, app_path(ERASED)
    files = portfolio(people, ERASED, [(photo(size=(50, 20)), "image/jpeg", "amira.jpg"),
                                       (photo(size=(52, 20)), "image/jpeg", "amira-and-ben.jpg"),
                                       (b"Minutes of the school council.\n", "text/plain", "minutes.txt")])
    sha = {name: ref["sha256"] for name, ref in files.items()}
    shared = portfolio(people, SHARING, [(photo(size=(50, 20)), "image/jpeg", "joint-event.jpg"),
                                         (PDF_BYTES, "application/pdf", "policy.pdf")])
    assert shared["joint-event.jpg"]["sha256"] == sha["amira.jpg"]  # the same photo, another school
    lead.ok(lead.post(f"{path}/files/{sha['amira.jpg']}/people", {"name": "Amira Khan"}))
    lead.ok(lead.post(f"{path}/files/{sha['amira-and-ben.jpg']}/people", {"name": "Amira  khan"}))  # the same
    lead.ok(lead.post(f"{path}/files/{sha['amira-and-ben.jpg']}/people", {"name": "Ben Lee"}))
    refused(lead.post(f"{path}/files/{'0' * 64}/people", {"name": "Amira Khan"}), 409)
    refused(people.school(ERASED).post(f"{path}/files/{sha['amira.jpg']}/people", {"name": "X"}), 403)
    store = system.settings.data_dir / "evidence"
    assert all((store / digest).is_file() for digest in sha.values())
    assert lead.get(f"{path}/files/{sha['amira.jpg']}").status_code == 200  # a download recorded, by name

    asked = {"name": "Amira Khan", "urn": ERASED, "reason": "Her parents asked"}
    lead.ok(lead.post("/people/erasure", asked), 202)

    def erased() -> list | None:
        return lead.ok(lead.get(path))["erased_files"] or None
    assert wait_for(erased, 60, "the applications service to delete Amira's photo") == [sha["amira.jpg"]]
    assert not (store / sha["amira.jpg"]).exists()
    assert (store / sha["amira-and-ben.jpg"]).is_file() and (store / sha["minutes.txt"]).is_file()
    error = refused(lead.get(f"{path}/files/{sha['amira.jpg']}"), 404)
    assert "erased" in error["message"]
    [item] = lead.ok(lead.get(path))["evidence"]
    assert sorted(f.get("filename", "") for f in item["files"]) == ["", "amira-and-ben.jpg", "minutes.txt"]
    assert {"sha256": sha["amira.jpg"], "erased": True} in item["files"]  # in its place, without its name
    [download] = lead.ok(lead.get(f"{path}/downloads"))["items"]
    assert download["files"] == [{"sha256": sha["amira.jpg"], "erased": True}]  # the record, nameless too
    lead_page = requests.get(f"{system.base_url}/lead/applications/{ERASED}/{YEAR}",
                             cookies={"sanctuary_session": system.lead.token}, timeout=20)
    assert lead_page.status_code == 200 and "amira.jpg" not in lead_page.text
    assert "a file removed at the person's request" in html.unescape(lead_page.text)

    # the other school's copy: the same bytes, gone; recorded there too; said so, not a broken link
    other, other_path = people.school(SHARING), app_path(SHARING)
    def recorded_there() -> list | None:
        return lead.ok(lead.get(other_path))["erased_files"] or None
    assert wait_for(recorded_there, 60, "the other school's application to record it") == [sha["amira.jpg"]]
    error = refused(other.get(f"{other_path}/files/{sha['amira.jpg']}"), 404)
    assert "erased" in error["message"]
    assert other.get(f"{other_path}/files/{shared['policy.pdf']['sha256']}").content == PDF_BYTES
    [item] = other.ok(other.get(other_path))["evidence"]
    coordinator = {"sanctuary_session": system.coordinator(SHARING).token}
    page = requests.get(f"{system.base_url}/school/{SHARING}/application/{YEAR}/evidence/learn-1/{item['id']}"
                        "/files", cookies=coordinator, timeout=20)
    assert page.status_code == 200 and "A file removed at the person's request" in html.unescape(page.text)
    assert sha["amira.jpg"] not in page.text and "joint-event.jpg" not in page.text  # no link, no name
    assert "policy.pdf" in page.text
    audit = requests.get(f"{system.base_url}/school/{SHARING}/application/{YEAR}/audit/learn-1",
                         cookies=coordinator, timeout=20)
    assert audit.status_code == 200 and "1 file." in audit.text  # the erased one is not counted

    # neither school can put it back
    for urn, evidence_id in ((ERASED, lead.ok(lead.get(path))["evidence"][0]["id"]), (SHARING, item["id"])):
        school = people.school(urn)
        again = refused(upload(school, evidence_id, photo(size=(50, 20)), "image/jpeg", "again.jpg", urn=urn),
                        422, "files")
        assert "request of a person it shows" in again["message"]
    assert not (store / sha["amira.jpg"]).exists()


def test_retention_deletes_a_withdrawn_portfolio_on_a_shifted_clock_and_records_it(system: E2ESystem,
                                                                                    people: People) -> None:
    lead, school = people.lead, people.school(URN)
    files = portfolio(people, URN, [(photo(), "image/jpeg", "display.jpg"),
                                    (PDF_BYTES, "application/pdf", "policy.pdf")])
    kept = portfolio(people, OTHER, [(PDF_BYTES, "application/pdf", "same-policy.pdf")])
    assert kept["same-policy.pdf"]["sha256"] == files["policy.pdf"]["sha256"]  # one file, two applications

    withdrawn = school.ok(school.post(f"{app_path(URN)}/withdrawal", {"reason": "A new head teacher"}))
    assert withdrawn["withdrawal"]["on"] == WITHDRAWN_ON.isoformat()  # the rehearsal's day
    store = system.settings.data_dir / "evidence"
    photo_file, pdf_file = (store / files[n]["sha256"] for n in ("display.jpg", "policy.pdf"))
    assert photo_file.is_file() and pdf_file.is_file()
    assert lead.ok(lead.get(app_path(URN)))["portfolio_deleted"] is None  # kept until KEPT_UNTIL

    system.move_clock(PAST_IT)  # the applications service applies the rule as it starts
    assert system.today() > KEPT_UNTIL

    def deleted() -> dict | None:
        return lead.ok(lead.get(app_path(URN)))["portfolio_deleted"]
    record = wait_for(deleted, 60, "the retention rule to delete the withdrawn portfolio")
    assert record == {"on": system.today().isoformat(), "files": 1}  # the photo; the PDF is OTHER's too
    assert not photo_file.exists() and pdf_file.is_file()
    error = refused(lead.get(f"{app_path(URN)}/files/{files['display.jpg']['sha256']}"), 404)
    assert "retention rule" in error["message"]
    other = people.school(OTHER)
    assert other.get(f"{app_path(OTHER)}/files/{kept['same-policy.pdf']['sha256']}").content == PDF_BYTES
    assert other.ok(other.get(app_path(OTHER)))["portfolio_deleted"] is None

    page = requests.get(f"{system.base_url}/lead/applications/{URN}/{YEAR}",
                        cookies={"sanctuary_session": system.lead.token}, timeout=20)
    assert page.status_code == 200
    when = system.today()
    assert f"deleted on {when:%A} {when.day} {when:%B %Y} under the retention rule (1 file)" in page.text
