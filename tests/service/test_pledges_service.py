"""The pledges RPC adapter, with nameko's worker_factory around a real application."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from nameko.testing.services import worker_factory

from services.pledges.api import PledgesApi
from services.pledges.application import Pledges
from services.pledges.service import PledgesService
from shared.access import Principal
from shared.errors import Conflict, Forbidden, Invalid, Unauthorized

LEAD = Principal("a1", "Lena Lead", frozenset({("lead", None)})).to_dict()
COORDINATOR = Principal("c1", "Cora", frozenset({("coordinator", "103712")})).to_dict()
OTHER_COORDINATOR = Principal("c2", "Olly", frozenset({("coordinator", "100001")})).to_dict()

SCHOOL = {"urn": "103712", "name": "  Hill Primary ", "phase": "primary", "postcode": "cv12ab",
          "coordinator": {"name": "Ann", "email": "ann@example.org"}}


@pytest.fixture
def service(tmp_path, coventry):
    app = Pledges(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SINGLE_ROW_TRACKING": "n",
                       "SQLITE_DBNAME": str(tmp_path / "pledges.sqlite")}, rules=coventry.pledge)
    yield worker_factory(PledgesService, application=app)
    app.close()


def test_input_is_normalised_and_the_answer_is_plain_json(service) -> None:
    view = service.register_school(LEAD, SCHOOL)
    assert view["name"] == "Hill Primary" and view["postcode"] == "CV1 2AB"
    assert json.loads(json.dumps(view)) == view  # crosses RPC as plain JSON


def test_bad_input_names_every_field_and_stores_nothing(service) -> None:
    bad = {**SCHOOL, "urn": "12345", "phase": "college", "surprise": True,
           "coordinator": {"name": "", "email": "nope"}}
    with pytest.raises(Invalid) as refused:
        service.register_school(LEAD, bad)
    assert set(refused.value.fields) == {"urn", "phase", "surprise", "coordinator.name",
                                         "coordinator.email"}
    assert service.application.recorder.max_notification_id() in (None, 0)


def test_dates_arrive_as_iso_text(service) -> None:
    service.register_school(LEAD, SCHOOL)
    service.express_interest(LEAD, "103712", {"on": "2026-10-01"})
    with pytest.raises(Invalid) as refused:
        service.record_commitment(LEAD, "103712", {"body": "slt", "given_by": "Ms Head",
                                                     "role": "Head", "on": "1 October"})
    assert "on" in refused.value.fields
    view = service.school(LEAD, "103712")
    assert view["interest_on"] == "2026-10-01"


def test_domain_refusals_cross_as_themselves(service) -> None:
    service.register_school(LEAD, SCHOOL)
    with pytest.raises(Conflict) as refused:
        service.register_school(LEAD, SCHOOL)
    assert refused.value.field == "urn"


def test_history_is_plain_json(service) -> None:
    service.register_school(LEAD, SCHOOL)
    history = service.history(LEAD, "103712")["history"]
    assert json.loads(json.dumps(history)) == history
    assert history[0]["event"] == "Registered" and history[0]["actor"] == "account:a1"


def test_the_service_checks_access_again(service) -> None:
    """The gateway checks first; the owning service refuses on its own too."""
    service.register_school(LEAD, SCHOOL)
    with pytest.raises(Unauthorized):
        service.school(None, "103712")
    with pytest.raises(Forbidden):
        service.school(OTHER_COORDINATOR, "103712")
    with pytest.raises(Forbidden):
        service.sign_pledge(OTHER_COORDINATOR, "103712", {"signed_by": "X", "role": "Head"})
    assert service.school(COORDINATOR, "103712")["urn"] == "103712"
    assert service.schools(OTHER_COORDINATOR, {})["schools"] == []
    assert [s["urn"] for s in service.schools(COORDINATOR, {})["schools"]] == ["103712"]


def test_personal_data_is_not_stored_in_plain_text(service) -> None:
    service.register_school(LEAD, SCHOOL)
    stored = b"".join(n.state for n in service.application.recorder.select_notifications(1, 10))
    assert b"ann@example.org" not in stored and b"Ann" not in stored
    assert b"Hill Primary" in stored  # a school's name is not personal data


# -- every declared operation refuses each role it does not allow ---------------------------

A, B = "103712", "100001"
ROLES = {
    "anonymous": None, "lead": LEAD, "coordinator_a": COORDINATOR, "coordinator_b": OTHER_COORDINATOR,
    "panel_member": Principal("p1", "Pat", frozenset({("panel_member", None)})).to_dict(),
    "operator": Principal("o1", "Oz", frozenset({("operator", None)})).to_dict(),
}
STAFF_OF_A = {"lead", "coordinator_a"}
EVERYONE = set(ROLES)
# who may call each operation, written out here so that a changed declaration fails a test;
# the arguments after the principal (valid ones, so that only the rule can refuse)
WHO_MAY = {
    "register_school": (STAFF_OF_A, (SCHOOL,)),
    "express_interest": (STAFF_OF_A, (A, {})),
    "record_commitment": (STAFF_OF_A, (A, {"body": "slt", "given_by": "Dee", "role": "Deputy"})),
    "sign_pledge": (STAFF_OF_A, (A, {"signed_by": "Hal", "role": "Head"})),
    "import_pledge": ({"lead"}, (A, {"signed_by": "Hal", "role": "Head", "signed_on": "2025-01-15"})),
    "renew_pledge": (STAFF_OF_A, (A, {"renewed_by": "Hal", "role": "Head"})),
    "withdraw_pledge": (STAFF_OF_A, (A, {"reason": "Closing"})),
    "set_newsletter": (STAFF_OF_A, (A, {"subscribed": True})),
    "change_coordinator": (STAFF_OF_A, (A, {"name": "Ann", "email": "ann@example.org"})),
    "school": (STAFF_OF_A, (A,)),
    "schools": ({"lead", "coordinator_a", "coordinator_b"}, ({},)),
    "history": (STAFF_OF_A, (A,)),
    "share_award": (STAFF_OF_A, (A, {"town": "Coventry"})),
    "stop_sharing": (STAFF_OF_A, (A,)),
    "sharing": (STAFF_OF_A, (A,)),
    "awarded_schools": (EVERYONE, ()),
    "awarded_feed": (EVERYONE, ()),
    "personal_data": ({"lead"}, (["subject"],)),
    "ask_to_join": (EVERYONE, ()),
    "join_requests": ({"lead"}, ({},)),
    "join_request": ({"lead"}, ("0" * 32,)),
    "accept_join_request": ({"lead"}, ("0" * 32,)),
    "decline_join_request": ({"lead"}, ("0" * 32, {"reason": "Not this year"})),
}
# called by the system itself (the notifications service), with no principal
SYSTEM = {"join_request_notice", "coordinator_contact"}


def test_the_table_names_every_operation() -> None:
    assert set(WHO_MAY) | SYSTEM == {operation.name for operation in PledgesApi.operations()}
    assert {op.name for op in PledgesApi.operations() if op.allow is None} == SYSTEM


def test_a_school_asks_to_join_with_no_account_and_only_the_lead_sees_it(service) -> None:
    ask = {"urn": "103712", "school_name": "Hill Primary", "phase": "primary", "postcode": "cv12ab",
           "name": "Ann", "role": "Deputy head", "email": "ann@example.org"}
    with pytest.raises(Invalid) as refused:
        service.ask_to_join(None, {**ask, "email": "nope", "urn": "1"})
    assert set(refused.value.fields) == {"email", "urn"}
    assert service.ask_to_join(None, ask) == {"received_on": service.application.today().isoformat()}
    [request] = service.join_requests(LEAD, {"status": "waiting"})["requests"]
    assert request["postcode"] == "CV1 2AB" and json.loads(json.dumps(request)) == request
    assert service.join_request_notice(request["id"])["email"] == "ann@example.org"
    stored = b"".join(n.state for n in service.application.recorder.select_notifications(1, 10))
    assert b"ann@example.org" not in stored and b"Deputy head" not in stored


@pytest.mark.parametrize("name", WHO_MAY)
def test_each_operation_refuses_each_role_it_does_not_allow(service, name: str) -> None:
    allowed, arguments = WHO_MAY[name]
    for role in sorted(set(ROLES) - allowed):
        with pytest.raises(Unauthorized if role == "anonymous" else Forbidden):
            getattr(service, name)(ROLES[role], *arguments)
    assert service.application.recorder.max_notification_id() in (None, 0)


@pytest.mark.parametrize("role", sorted(STAFF_OF_A))
def test_the_school_s_staff_may_register_it(service, role: str) -> None:
    assert service.register_school(ROLES[role], SCHOOL)["urn"] == A


def test_a_public_operation_takes_no_one_s_name(service) -> None:
    assert service.awarded_schools(None) == {"schools": []}
    assert service.awarded_feed(None).startswith("<?xml")


def test_the_lead_imports_a_pledge_signed_before_and_a_future_day_is_refused_naming_it(service) -> None:
    service.register_school(LEAD, SCHOOL)
    tomorrow = service.application.today().toordinal() + 1
    with pytest.raises(Invalid) as refused:
        service.import_pledge(LEAD, "103712", {"signed_by": "Hal", "role": "Head",
                                               "signed_on": dt.date.fromordinal(tomorrow).isoformat()})
    assert set(refused.value.fields) == {"signed_on"}
    with pytest.raises(Invalid) as refused:
        service.import_pledge(LEAD, "103712", {"signed_by": "Hal", "role": "Head"})
    assert set(refused.value.fields) == {"signed_on"}  # the day is what an import is for
    view = service.import_pledge(LEAD, "103712", {"signed_by": "Hal", "role": "Head",
                                                  "signed_on": "2025-01-15"})
    assert view["pledge"]["signed_on"] == "2025-01-15" and view["pledge"]["imported"] is True
    assert view["pledge"]["lapses_on"] == "2028-01-15"
