"""The pledges RPC adapter, with nameko's worker_factory around a real application."""

from __future__ import annotations

import json

import pytest
from nameko.testing.services import worker_factory

from services.pledges.application import Pledges
from services.pledges.service import PledgesService
from shared.errors import Conflict, Invalid

SCHOOL = {"urn": "103712", "name": "  Hill Primary ", "phase": "primary", "postcode": "cv12ab",
          "coordinator": {"name": "Ann", "email": "ann@example.org"}}


@pytest.fixture
def service(tmp_path, coventry):
    app = Pledges(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SINGLE_ROW_TRACKING": "n",
                       "SQLITE_DBNAME": str(tmp_path / "pledges.sqlite")}, rules=coventry.pledge)
    yield worker_factory(PledgesService, application=app)
    app.close()


def test_input_is_normalised_and_the_answer_is_plain_json(service) -> None:
    view = service.register_school("lead", SCHOOL)
    assert view["name"] == "Hill Primary" and view["postcode"] == "CV1 2AB"
    assert json.loads(json.dumps(view)) == view  # crosses RPC as plain JSON


def test_bad_input_names_every_field_and_stores_nothing(service) -> None:
    bad = {**SCHOOL, "urn": "12345", "phase": "college", "surprise": True,
           "coordinator": {"name": "", "email": "nope"}}
    with pytest.raises(Invalid) as refused:
        service.register_school("lead", bad)
    assert set(refused.value.fields) == {"urn", "phase", "surprise", "coordinator.name",
                                         "coordinator.email"}
    assert service.application.recorder.max_notification_id() in (None, 0)


def test_dates_arrive_as_iso_text(service) -> None:
    service.register_school("lead", SCHOOL)
    service.express_interest("lead", "103712", {"on": "2026-10-01"})
    with pytest.raises(Invalid) as refused:
        service.record_commitment("lead", "103712", {"body": "slt", "given_by": "Ms Head",
                                                     "role": "Head", "on": "1 October"})
    assert "on" in refused.value.fields
    view = service.school("103712")
    assert view["interest_on"] == "2026-10-01"


def test_domain_refusals_cross_as_themselves(service) -> None:
    service.register_school("lead", SCHOOL)
    with pytest.raises(Conflict) as refused:
        service.register_school("lead", SCHOOL)
    assert refused.value.field == "urn"


def test_history_is_plain_json(service) -> None:
    service.register_school("lead", SCHOOL)
    history = service.history("103712")["history"]
    assert json.loads(json.dumps(history)) == history
    assert history[0]["event"] == "Registered" and history[0]["actor"] == "lead"
