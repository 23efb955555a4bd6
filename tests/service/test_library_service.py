"""The library RPC adapter, with nameko's worker_factory around a real application."""

from __future__ import annotations

import base64
import json

import pytest
from nameko.testing.services import worker_factory

from services.library.api import LibraryApi
from services.library.application import Library
from services.library.files import FileStore
from services.library.service import LibraryService
from shared.access import Principal
from shared.errors import Forbidden, Invalid, NotFound, Unauthorized

A = "103712"
NO_ID = "0" * 32
LEAD = Principal("a1", "Lena Lead", frozenset({("lead", None)})).to_dict()
COORDINATOR = Principal("c1", "Cora", frozenset({("coordinator", A)})).to_dict()
ROLES = {
    "anonymous": None, "lead": LEAD, "coordinator_a": COORDINATOR,
    "coordinator_b": Principal("c2", "Olly", frozenset({("coordinator", "100001")})).to_dict(),
    "panel_member": Principal("p1", "Pat", frozenset({("panel_member", None)})).to_dict(),
    "operator": Principal("o1", "Oz", frozenset({("operator", None)})).to_dict(),
}
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
LINK = {"title": "Welcome pack", "kind": "link", "url": "https://example.org/pack", "criteria": ["share-6"]}
PARTNER = {"name": "Coventry Refugee and Migrant Centre", "kind": "sanctuary_organisation"}


@pytest.fixture
def service(tmp_path, coventry):
    app = Library(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SINGLE_ROW_TRACKING": "n",
                       "SQLITE_DBNAME": str(tmp_path / "library.sqlite")}, authority=coventry,
                  files=FileStore(tmp_path / "library"))
    yield worker_factory(LibraryService, application=app)
    app.close()


def upload(service, public: bool) -> dict:
    facts = service.upload(LEAD, {"filename": "guidance.pdf", "content_type": "application/pdf",
                                  "content": base64.b64encode(PDF).decode("ascii")})
    return service.add_resource(LEAD, {"title": "Guidance", "kind": "file", "public": public,
                                       "file": {"sha256": facts["sha256"], "filename": "guidance.pdf"}})


def test_a_file_crosses_as_base64_both_ways(service) -> None:
    view = upload(service, public=False)
    found = service.download(COORDINATOR, view["id"])
    assert base64.b64decode(found["content"]) == PDF
    assert found["public"] is False and found["content_type"] == "application/pdf"
    assert json.loads(json.dumps(view)) == view  # crosses RPC as plain JSON


def test_an_upload_that_is_not_base64_names_the_file(service) -> None:
    with pytest.raises(Invalid) as refused:
        service.upload(LEAD, {"filename": "guidance.pdf", "content_type": "application/pdf",
                              "content": "not base64!"})
    assert set(refused.value.fields) == {"file"}


def test_a_private_file_is_for_someone_signed_in_a_public_one_for_anyone(service) -> None:
    private, public = upload(service, public=False), upload(service, public=True)
    with pytest.raises(Unauthorized):
        service.download(None, private["id"])
    assert base64.b64decode(service.download(None, public["id"])["content"]) == PDF


def test_only_the_lead_sees_what_was_retired(service) -> None:
    view = service.add_resource(LEAD, LINK)
    service.retire_resource(LEAD, view["id"], {"reason": "Replaced"})
    with pytest.raises(Forbidden) as refused:
        service.resources(COORDINATOR, {"include_retired": True})
    assert refused.value.field == "include_retired"
    with pytest.raises(NotFound):
        service.resource(COORDINATOR, view["id"])
    assert [r["id"] for r in service.resources(LEAD, {"include_retired": True})["resources"]] == [view["id"]]
    with pytest.raises(Forbidden):
        service.partners(COORDINATOR, {"include_retired": "true"})


def test_a_criterion_the_authority_does_not_have_is_named(service) -> None:
    for call in (lambda: service.resources(COORDINATOR, {"criterion": "share-99"}),
                 lambda: service.all_links(LEAD, {"criterion": "share-99"})):
        with pytest.raises(Invalid) as refused:
            call()
        assert set(refused.value.fields) == {"criterion"}


def test_a_school_s_links_are_its_own(service) -> None:
    partner = service.add_partner(LEAD, PARTNER)
    link = service.record_link(COORDINATOR, A, {"partner_id": partner["id"], "activities": "Assemblies"})
    assert link["partner"]["name"] == PARTNER["name"]
    assert service.school_links(COORDINATOR, A)["links"] == [link]
    assert service.all_links(LEAD, {})["links"] == [link]


# -- every declared operation refuses each role it does not allow ---------------------------

SIGNED_IN = set(ROLES) - {"anonymous"}
STAFF_OF_A = {"lead", "coordinator_a"}
# who may call each operation, written out here so that a changed declaration fails a test;
# the arguments after the principal (valid ones, so that only the rule can refuse)
WHO_MAY = {
    "upload": ({"lead"}, ({"filename": "a.txt", "content_type": "text/plain", "content": "aGk="},)),
    "add_resource": ({"lead"}, (LINK,)),
    "edit_resource": ({"lead"}, (NO_ID, LINK)),
    "retire_resource": ({"lead"}, (NO_ID, {})),
    "add_partner": ({"lead"}, (PARTNER,)),
    "edit_partner": ({"lead"}, (NO_ID, PARTNER)),
    "retire_partner": ({"lead"}, (NO_ID, {})),
    "all_links": ({"lead"}, ({},)),
    "resources": (SIGNED_IN, ({},)),
    "resource": (SIGNED_IN, (NO_ID,)),
    "download": (set(ROLES), (NO_ID,)),  # anyone may ask: a private file needs a signature (above)
    "partners": (SIGNED_IN, ({},)),
    "record_link": (STAFF_OF_A, (A, {"partner_id": NO_ID, "activities": "Assemblies"})),
    "update_link": (STAFF_OF_A, (A, NO_ID, {"activities": "Assemblies"})),
    "end_link": (STAFF_OF_A, (A, NO_ID, {})),
    "school_links": (STAFF_OF_A, (A,)),
    "personal_data": ({"lead"}, (["subject"],)),
}


def test_the_table_names_every_operation() -> None:
    assert set(WHO_MAY) == {operation.name for operation in LibraryApi.operations()}


@pytest.mark.parametrize("name", WHO_MAY)
def test_each_operation_refuses_each_role_it_does_not_allow(service, name: str) -> None:
    allowed, arguments = WHO_MAY[name]
    for role in sorted(set(ROLES) - allowed):
        with pytest.raises(Unauthorized if role == "anonymous" else Forbidden):
            getattr(service, name)(ROLES[role], *arguments)
    assert service.application.recorder.max_notification_id() in (None, 0)
