"""The Library application on a real store: the same tests on SQLite and PostgreSQL,
with files kept under a temporary data folder."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path

import pytest

from services.library.application import Library
from services.library.contract import LIBRARY
from services.library.files import FileStore
from shared.authority import Authority, LibraryLink
from shared.clock import FixedClock
from shared.errors import Conflict, Invalid, NotFound
from shared.personal import ERASED, subject_for_name
from shared.projection import AggregateProjection
from tests.integration import ON_POSTGRES

pytestmark = ON_POSTGRES  # see tests/integration/__init__.py

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
URN, OTHER = "103712", "103713"


@pytest.fixture
def files(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files" / "library")


def open_library(store, authority: Authority, files: FileStore) -> Library:
    return Library(env=store.env("library"), authority=authority, files=files, clock=FixedClock(NOW))


@pytest.fixture
def library(store, coventry: Authority, files: FileStore) -> Library:
    app = open_library(store, coventry, files)
    yield app
    app.close()


def add_pdf(library: Library, **changes: object) -> dict:
    facts = library.store_file(PDF, "application/pdf", "guidance.pdf")
    values = {"title": "Application guidance", "kind": "file",
              "file": {"sha256": facts["sha256"], "filename": "Application guidance.pdf"},
              "criteria": ["share-6"], "stages": ["draft"], **changes}
    return library.add_resource("lead", **values)


def add_crmc(library: Library) -> dict:
    return library.add_partner("lead", "Coventry Refugee and Migrant Centre", "sanctuary_organisation",
                               "Coventry", None, "Assemblies, visits")


def test_a_file_is_stored_by_its_hash_and_offered_as_a_resource(library: Library, files: FileStore) -> None:
    view = add_pdf(library)
    digest = hashlib.sha256(PDF).hexdigest()
    assert view["file"] == {"filename": "Application guidance.pdf", "content_type": "application/pdf",
                            "size": len(PDF), "sha256": digest}
    assert view["download"] == f"/library/resources/{view['id']}/file"
    assert (files.root / digest).read_bytes() == PDF
    file, content = library.file_of(view["id"], lead=False)
    assert content == PDF and file["filename"] == "Application guidance.pdf"


def test_schools_see_what_helps_with_the_criterion_or_stage_in_front_of_them(library: Library) -> None:
    pdf = add_pdf(library)
    pack = library.add_resource("lead", "Resource pack", "link", url="https://example.org/pack",
                                criteria=["learn-1", "share-6"], stages=["audit", "final"])
    ideas = library.add_resource("lead", "Refugee Week ideas", "link", url="https://example.org/rw",
                                 criteria=["embed-4"])
    ids = lambda views: [v["id"] for v in views]  # noqa: E731
    assert ids(library.resources()) == [pdf["id"], ideas["id"], pack["id"]]  # by title
    assert ids(library.resources(criterion="share-6")) == [pdf["id"], pack["id"]]
    assert ids(library.resources(stage="draft")) == [pdf["id"]]
    assert ids(library.resources(criterion="share-6", stage="final")) == [pack["id"]]
    assert library.resources(criterion="share-8") == []


def test_a_retired_resource_leaves_the_listing_and_only_the_lead_still_sees_it(library: Library) -> None:
    view = add_pdf(library)
    library.retire_resource("lead", view["id"], "Replaced")
    assert library.resources() == []
    assert [v["id"] for v in library.resources(include_retired=True)] == [view["id"]]
    with pytest.raises(NotFound):
        library.resource(view["id"], lead=False)
    with pytest.raises(NotFound):
        library.file_of(view["id"], lead=False)
    assert library.resource(view["id"], lead=True)["retired"]["reason"] == "Replaced"
    with pytest.raises(Conflict):
        library.retire_resource("lead", view["id"])


def test_a_resource_naming_a_file_never_uploaded_stores_nothing(library: Library) -> None:
    before = library.recorder.max_notification_id()
    with pytest.raises(Invalid) as refused:
        library.add_resource("lead", "Guidance", "file", file={"sha256": "0" * 64, "filename": "g.pdf"})
    assert refused.value.field == "file.sha256"
    with pytest.raises(Invalid) as refused:
        library.add_resource("lead", "Pack", "link", url="https://example.org", criteria=["share-9"])
    assert refused.value.field == "criteria"
    assert library.recorder.max_notification_id() == before


def test_editing_a_resource_and_unknown_ids(library: Library) -> None:
    view = add_pdf(library)
    edited = library.edit_resource("lead", view["id"], "Guidance (2027)", "link",
                                   url="https://example.org/guidance", stages=["final"], public=True)
    assert (edited["kind"], edited["file"], edited["stages"]) == ("link", None, ["final"])
    assert edited["version"] == 2
    with pytest.raises(NotFound):
        library.file_of(view["id"], lead=True)  # a link now
    for unknown in ("0" * 32, "not-an-id"):
        with pytest.raises(NotFound):
            library.resource(unknown, lead=True)
    partner = add_crmc(library)
    with pytest.raises(NotFound):
        library.resource(partner["id"], lead=True)  # an id of another kind of thing


def test_the_directory_refuses_a_second_organisation_of_the_same_name(library: Library) -> None:
    crmc = add_crmc(library)
    with pytest.raises(Conflict) as refused:
        library.add_partner("lead", "coventry refugee and  migrant centre", "other")
    assert refused.value.field == "name"
    church = library.add_partner("lead", "St Mary's", "faith_group")
    with pytest.raises(Conflict):
        library.edit_partner("lead", church["id"], crmc["name"], "faith_group")
    assert [p["name"] for p in library.partners()] == ["Coventry Refugee and Migrant Centre", "St Mary's"]
    assert [p["name"] for p in library.partners(kind="faith_group")] == ["St Mary's"]
    library.retire_partner("lead", church["id"], "Closed")
    assert [p["name"] for p in library.partners()] == [crmc["name"]]
    assert len(library.partners(include_retired=True)) == 2


def test_a_school_records_a_link_updates_ends_and_takes_it_up_again(library: Library) -> None:
    crmc = add_crmc(library)
    view = library.record_link("coordinator", URN, crmc["id"], "Assemblies each term",
                               since=dt.date(2026, 9, 1), criteria=["share-7", "share-6"])
    assert view["partner"] == {"name": crmc["name"], "kind": "sanctuary_organisation", "listed": True}
    assert view["criteria"] == ["share-6", "share-7"]
    assert (view["since"], view["active"]) == (dt.date(2026, 9, 1), True)
    with pytest.raises(Conflict):
        library.record_link("coordinator", URN, crmc["id"], "again")
    with pytest.raises(Invalid) as refused:
        library.update_link("coordinator", URN, crmc["id"], "More", criteria=["embed-3"])
    assert refused.value.field == "criteria"
    library.update_link("coordinator", URN, crmc["id"], "Assemblies and a joint Refugee Week event",
                        criteria=["share-6"])
    ended = library.end_link("coordinator", URN, crmc["id"])
    assert ended["ended_on"] == TODAY and not ended["active"]
    again = library.record_link("coordinator", URN, crmc["id"], "Back again")
    assert again["active"] and again["since"] == TODAY and again["version"] == 4


def test_links_are_listed_per_school_and_for_the_lead_by_partner_and_criterion(library: Library) -> None:
    crmc, church = add_crmc(library), library.add_partner("lead", "St Mary's", "faith_group")
    library.record_link("coordinator", URN, crmc["id"], "Assemblies", criteria=["share-6"])
    library.record_link("coordinator", URN, church["id"], "Choir", criteria=["share-8"])
    library.record_link("lead", OTHER, crmc["id"], "Visits")
    assert [(v["urn"], v["partner"]["name"]) for v in library.links(urn=URN)] == [
        (URN, crmc["name"]), (URN, "St Mary's")]
    assert [v["urn"] for v in library.links(partner_id=crmc["id"])] == [URN, OTHER]
    assert [v["partner_id"] for v in library.links(criterion="share-8")] == [church["id"]]
    library.retire_partner("lead", church["id"])
    assert library.links(urn=URN)[1]["partner"]["listed"] is False  # kept, as history and evidence
    with pytest.raises(Conflict):
        library.record_link("coordinator", OTHER, church["id"], "Choir")
    with pytest.raises(NotFound) as refused:
        library.record_link("coordinator", URN, "0" * 32, "Nobody")
    assert refused.value.field == "partner_id"
    with pytest.raises(NotFound):
        library.end_link("coordinator", OTHER, church["id"])


def test_what_a_school_writes_about_a_link_can_be_erased(library: Library) -> None:
    crmc = add_crmc(library)
    library.record_link("coordinator", URN, crmc["id"], "Mrs Example from CRMC visits")
    library.erase_subject(subject_for_name(URN, "free text"))
    [view] = library.links(urn=URN)
    assert view["activities"] == ERASED
    assert view["partner"]["name"] == crmc["name"]  # organisations are not personal data


def test_the_read_model_follows_the_log_across_instances(store, coventry: Authority, files: FileStore,
                                                         library: Library) -> None:
    view = add_pdf(library)
    other = open_library(store, coventry, files)
    try:
        assert [v["id"] for v in other.resources(criterion="share-6")] == [view["id"]]
        other.retire_resource("lead", view["id"])
        assert library.resources() == []  # the first instance sees the second's write
    finally:
        other.close()
    rebuilt = AggregateProjection(library)
    rebuilt.catch_up()
    assert len(rebuilt.aggregates) == 1


def test_counts_for_the_gauges(library: Library) -> None:
    add_pdf(library)
    library.add_resource("lead", "Pack", "link", url="https://example.org/pack")
    retired = library.add_resource("lead", "Old", "link", url="https://example.org/old")
    library.retire_resource("lead", retired["id"])
    crmc = add_crmc(library)
    library.record_link("coordinator", URN, crmc["id"], "Assemblies")
    library.record_link("coordinator", OTHER, crmc["id"], "Visits")
    library.end_link("coordinator", OTHER, crmc["id"])
    assert library.counts() == {"resources": {"file": 1, "link": 1}, "partners": 1,
                                "links": {"active": 1, "ended": 1}}


def test_configured_resources_are_listed_once_and_the_leads_edits_are_kept(
        store, coventry: Authority, files: FileStore) -> None:
    configured = dataclasses.replace(coventry, resources=(
        LibraryLink("Resource pack", "https://example.org/pack", "Ideas", ("share-6",), ("action-plan",)),))
    first = open_library(store, configured, files)
    try:
        assert first.seed() == 1
        [view] = first.resources(stage="action-plan")
        assert view["title"] == "Resource pack"
        first.edit_resource("lead", view["id"], "Resource pack (2026)", "link", url="https://example.org/pack")
    finally:
        first.close()
    again = open_library(store, configured, files)
    try:
        assert again.seed() == 0
        assert [v["title"] for v in again.resources()] == ["Resource pack (2026)"]
    finally:
        again.close()


def test_public_events_are_small_and_carry_no_file(library: Library) -> None:
    view = add_pdf(library)
    crmc = add_crmc(library)
    library.record_link("coordinator", URN, crmc["id"], "Assemblies", criteria=["share-6"])
    published = []
    for notification in library.recorder.select_notifications(start=1, limit=100):
        event = library.mapper.to_domain_event(notification)
        envelope = LIBRARY.envelope(event, notification.id, "coventry")
        if envelope is not None:
            published.append((envelope.type, envelope.payload))
    assert [t for t, _ in published] == ["ResourceAdded", "PartnerListed", "PartnerLinkRecorded"]
    assert published[0][1] == {"resource_id": view["id"], "title": "Application guidance", "kind": "file",
                               "criteria": ["share-6"], "stages": ["draft"], "public": False}
    assert published[2][1] == {"urn": URN, "partner_id": crmc["id"], "since": TODAY.isoformat(),
                               "criteria": ["share-6"]}  # the activities are free text: kept here
