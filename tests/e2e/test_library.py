"""The library over real HTTP, on the whole running system (conftest's module-scoped
``system``): the lead offers a link and a PDF tagged share-6 for the draft stage; a
coordinator finds them by criterion and stage and downloads the file; nobody signed in
gets a public file but not another; files of the wrong type or too large are refused
with a message naming the field; schools record links with partner organisations,
and only their own; the lead sees every link; the library's gauges move."""

from __future__ import annotations

import io
import zipfile

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from services.library.files import DOCX
from tests.e2e.conftest import Api, E2ESystem

pytestmark = pytest.mark.e2e
SHARES_SYSTEM = True  # its URNs and addresses are its own, and it takes no cycle-wide step

A, B = "940101", "940102"  # no other e2e test uses 9401xx
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17)


def upload(api: Api, content: bytes, content_type: str | None, filename: str) -> requests.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return api.call("POST", "/library/files", params={"filename": filename}, data=content,
                    headers=headers)


def offer_pdf(lead: Api, title: str, public: bool, content: bytes = PDF) -> dict:
    facts = lead.ok(upload(lead, content, "application/pdf", "guidance.pdf"), 201)
    return lead.ok(lead.post("/library/resources", {
        "title": title, "kind": "file", "description": "How to evidence the criteria",
        "file": {"sha256": facts["sha256"], "filename": f"{title}.pdf"},
        "criteria": ["share-6"], "stages": ["draft"], "public": public}), 201)


def library_samples(system: E2ESystem) -> dict[tuple[str, tuple], float]:
    text = requests.get(f"http://{system.ops_address('library')}/metrics", timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_the_lead_offers_resources_and_a_school_finds_and_downloads_them(system: E2ESystem) -> None:
    lead, school, nobody = Api(system), Api(system, system.coordinator(A)), Api(system, None)
    assert lead.health()["library"]["reachable"]

    facts = lead.ok(upload(lead, PDF, "application/pdf", "Application guidance.pdf"), 201)
    assert facts["content_type"] == "application/pdf" and facts["size"] == len(PDF)
    link = lead.ok(lead.post("/library/resources", {
        "title": "Schools of Sanctuary resource pack", "kind": "link",
        "url": "https://example.org/resource-pack", "criteria": ["share-6", "learn-1"],
        "stages": ["draft", "action-plan"]}), 201)
    guidance = lead.ok(lead.post("/library/resources", {
        "title": "Application guidance", "kind": "file",
        "file": {"sha256": facts["sha256"], "filename": "Application guidance.pdf"},
        "criteria": ["share-6"], "stages": ["draft"]}), 201)
    other = lead.ok(lead.post("/library/resources", {
        "title": "Refugee Week ideas", "kind": "link", "url": "https://example.org/refugee-week",
        "criteria": ["embed-4"], "stages": ["action-plan"]}), 201)
    assert guidance["download"] == f"/library/resources/{guidance['id']}/file"

    found = school.ok(school.get("/library/resources", params={"criterion": "share-6", "stage": "draft"}))
    assert [r["id"] for r in found["resources"]] == [guidance["id"], link["id"]]  # by title
    assert other["id"] not in {r["id"] for r in found["resources"]}
    everything = school.ok(school.get("/library/resources"))["resources"]
    assert {r["id"] for r in everything} >= {link["id"], guidance["id"], other["id"]}

    download = school.get(guidance["download"])
    assert download.status_code == 200, download.text
    assert download.content == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == 'attachment; filename="Application guidance.pdf"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]

    refused = nobody.get(guidance["download"])
    assert refused.status_code == 401, refused.text
    assert refused.json()["message"] == "Sign in first: this is for anyone signed in."
    assert nobody.get("/library/resources").status_code == 401

    public = offer_pdf(lead, "Refugee Week poster", public=True, content=PDF + b"% poster\n")
    shared = nobody.get(public["download"])
    assert shared.status_code == 200, shared.text
    assert shared.content == PDF + b"% poster\n"

    lead.ok(lead.post(f"/library/resources/{guidance['id']}/retirement", {"reason": "Replaced"}))
    assert school.get(guidance["download"]).status_code == 404
    listed = school.ok(school.get("/library/resources", params={"criterion": "share-6"}))["resources"]
    assert guidance["id"] not in {r["id"] for r in listed}
    assert school.get("/library/resources", params={"include_retired": "true"}).status_code == 403


def test_files_of_the_wrong_type_or_too_large_are_refused_naming_the_field(system: E2ESystem) -> None:
    lead = Api(system)

    spoofed = upload(lead, PNG, "application/pdf", "guidance.pdf")
    assert spoofed.status_code == 422, spoofed.text
    body = spoofed.json()
    assert body["message"] == "The file's content is a PNG image, not a PDF document as declared."
    assert "application/pdf" in body["fields"]["file"][0]

    big = PDF + bytes(6 * 1024 * 1024 - len(PDF))
    too_large = upload(lead, big, "application/pdf", "big.pdf")
    assert too_large.status_code == 413, too_large.text
    assert too_large.json() == {"error": "TooLarge",
                                "message": "The file is 6 MB; the library takes files up to 5 MB.",
                                "fields": {"file": ["The file is 6 MB; the library takes files up to 5 MB."]}}

    misnamed = upload(lead, PNG, "image/png", "poster.pdf")
    assert misnamed.status_code == 422 and "filename" in misnamed.json()["fields"], misnamed.text
    unkept = upload(lead, b"<svg/>", "image/svg+xml", "logo.svg")
    assert unkept.status_code == 422 and "content_type" in unkept.json()["fields"], unkept.text
    empty = upload(lead, b"", "application/pdf", "empty.pdf")
    assert empty.status_code == 422 and "empty" in empty.json()["fields"]["file"][0], empty.text
    unnamed = lead.call("POST", "/library/files", data=PDF, headers={"Content-Type": "application/pdf"})
    assert unnamed.status_code == 422 and "filename" in unnamed.json()["fields"], unnamed.text

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<Types><Override PartName="/word/document.xml" ContentType='
                         '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                         "</Types>")
        archive.writestr("word/document.xml", "<document/>")
    assert lead.ok(upload(lead, buffer.getvalue(), DOCX, "audit tool.docx"), 201)["content_type"] == DOCX

    nothing = lead.post("/library/resources", {"title": "Guidance", "kind": "file",
                                               "file": {"sha256": "0" * 64, "filename": "g.pdf"}})
    assert nothing.status_code == 422 and "file.sha256" in nothing.json()["fields"], nothing.text
    unknown = lead.post("/library/resources", {"title": "Pack", "kind": "link", "url": "https://example.org",
                                               "criteria": ["share-9"]})
    assert unknown.status_code == 422 and "criteria" in unknown.json()["fields"], unknown.text

    coordinator = Api(system, system.coordinator(A))
    refused = upload(coordinator, PDF, "application/pdf", "guidance.pdf")
    assert refused.status_code == 403, refused.text


def test_schools_record_links_with_partners_and_only_their_own(system: E2ESystem) -> None:
    lead = Api(system)
    school_a, school_b = Api(system, system.coordinator(A)), Api(system, system.coordinator(B))
    crmc = lead.ok(lead.post("/library/partners", {
        "name": "Coventry Refugee and Migrant Centre", "kind": "sanctuary_organisation",
        "area": "Coventry", "offers": "Assemblies, visits and a speaker for Refugee Week"}), 201)
    church = lead.ok(lead.post("/library/partners", {"name": "St Mary's Church", "kind": "faith_group"}), 201)
    personal = lead.post("/library/partners", {"name": "Jane Smith", "kind": "other",
                                               "offers": "jane.smith@example.org, 07700 900123"})
    assert personal.status_code == 422 and "offers" in personal.json()["fields"], personal.text
    assert lead.post("/library/partners", {"name": "Jane", "kind": "other", "email": "j@example.org"}) \
        .status_code == 422
    directory = school_a.ok(school_a.get("/library/partners"))["partners"]
    assert {p["name"] for p in directory} >= {crmc["name"], church["name"]}

    recorded = school_a.ok(school_a.post(f"/schools/{A}/partner-links", {
        "partner_id": crmc["id"], "activities": "Assemblies each term and a joint Refugee Week event",
        "since": "2026-09-01", "criteria": ["share-7", "share-6"]}), 201)
    assert recorded["criteria"] == ["share-6", "share-7"]
    assert recorded["partner"] == {"name": crmc["name"], "kind": "sanctuary_organisation", "listed": True}
    not_share = school_a.post(f"/schools/{A}/partner-links", {
        "partner_id": church["id"], "activities": "Choir", "criteria": ["learn-1"]})
    assert not_share.status_code == 422 and "criteria" in not_share.json()["fields"], not_share.text
    twice = school_a.post(f"/schools/{A}/partner-links", {"partner_id": crmc["id"], "activities": "again"})
    assert twice.status_code == 409, twice.text

    for response in (
        school_b.post(f"/schools/{A}/partner-links", {"partner_id": church["id"], "activities": "Choir"}),
        school_b.get(f"/schools/{A}/partner-links"),
        school_b.call("POST", f"/schools/{A}/partner-links/{crmc['id']}/end", json={}),
        school_b.get("/library/partner-links"),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["message"].startswith("You may not do this: it is for ")

    school_b.ok(school_b.post(f"/schools/{B}/partner-links", {
        "partner_id": church["id"], "activities": "Our choir sings at the church's welcome café"}), 201)
    ours = school_a.ok(school_a.get(f"/schools/{A}/partner-links"))["links"]
    assert [(link["urn"], link["partner_id"]) for link in ours] == [(A, crmc["id"])]

    everyone = lead.ok(lead.get("/library/partner-links"))["links"]
    assert {(link["urn"], link["partner_id"]) for link in everyone} >= {(A, crmc["id"]), (B, church["id"])}
    by_criterion = lead.ok(lead.get("/library/partner-links", params={"criterion": "share-7"}))["links"]
    assert [(link["urn"], link["partner_id"]) for link in by_criterion] == [(A, crmc["id"])]

    ended = school_a.ok(school_a.call("POST", f"/schools/{A}/partner-links/{crmc['id']}/end", json={}))
    assert ended["active"] is False and ended["ended_on"]


def test_the_library_gauges_count_what_it_holds(system: E2ESystem) -> None:
    lead = Api(system)
    before = library_samples(system)
    offer_pdf(lead, "Example application", public=False, content=PDF + b"% example\n")
    lead.ok(lead.post("/library/partners", {"name": "Central Library", "kind": "library"}), 201)
    after = library_samples(system)
    file_kind = ("sanctuary_library_resources", (("kind", "file"),))
    assert after[file_kind] == before.get(file_kind, 0) + 1
    partners = ("sanctuary_library_partners", ())
    assert after[partners] == before.get(partners, 0) + 1
    assert ("sanctuary_library_partner_links", (("status", "active"),)) in after
