"""The integration-event envelope and the pledges contract."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from marshmallow import ValidationError

from services.pledges.contract import PLEDGES
from services.pledges.domain import School
from shared.envelope import parse_envelope

TODAY = dt.date(2026, 11, 23)


def signed_school() -> School:
    s = School(urn="103712", name="Hill Primary", phase="primary", postcode="CV1 2AB",
               coordinator={"name": "Ann", "email": "ann@example.org"}, actor="lead")
    s.express_interest(TODAY, TODAY, "lead")
    s.record_commitment("slt", "Ms Head", "Head", TODAY, TODAY, "lead")
    s.record_commitment("governors", "Mr Chair", "Chair", TODAY, TODAY, "lead")
    s.sign_pledge("Ms Head", "Head teacher", TODAY, TODAY, ("slt", "governors"), 3, "coordinator")
    return s


def test_every_pledge_event_has_a_public_form_that_round_trips() -> None:
    for position, domain_event in enumerate(signed_school().collect_events(), start=1):
        event = PLEDGES.envelope(domain_event, position, "coventry")
        assert event is not None
        assert event.origin == "pledges" and event.position == position
        assert event.message_id == f"pledges:{position}"
        assert event.payload["urn"] == "103712"
        assert parse_envelope(event.to_dict()) == event


def test_the_signature_payload_carries_what_consumers_need() -> None:
    signed = signed_school().collect_events()[-1]
    event = PLEDGES.envelope(signed, 5, "coventry")
    assert event.type == "PledgeSigned" and event.schema_version == 3
    assert event.actor == "coordinator" and event.authority == "coventry"
    assert event.payload == {"urn": "103712", "role": "Head teacher",
                             "signed_on": "2026-11-23", "lapses_on": "2029-11-23", "imported": False}


def test_a_renewal_tells_the_day_the_renewed_pledge_lapses() -> None:
    school = signed_school()
    later = dt.date(2028, 2, 29)
    school.renew_pledge("Ms Head", "Head teacher", later, later, 3, "coordinator")
    event = PLEDGES.envelope(school.collect_events()[-1], 6, "coventry")
    assert (event.type, event.schema_version) == ("PledgeRenewed", 3)
    assert event.payload["renewed_on"] == "2028-02-29" and event.payload["lapses_on"] == "2031-02-28"


def test_a_signature_stored_before_the_lapse_day_was_recorded_has_no_lapse_day() -> None:
    """Version 1 of the stored event, upcast (no lapse day): published without it, and its
    consumers apply the rule of that time."""
    signed = dataclasses.replace(signed_school().collect_events()[-1], lapses_on=None, imported=None)
    event = PLEDGES.envelope(signed, 5, "coventry")
    assert (event.type, event.schema_version) == ("PledgeSigned", 3)
    assert event.payload == {"urn": "103712", "role": "Head teacher", "signed_on": "2026-11-23"}


def test_no_pledge_event_carries_a_name_an_address_or_free_text_about_people() -> None:
    """Schools' news without people's own words: an erasure leaves nothing readable in a queue."""
    school = signed_school()
    later = dt.date(2028, 2, 29)
    school.renew_pledge("Ms Renewer", "Head teacher", later, later, 3, "coordinator")
    school.change_coordinator({"name": "Bo Newcoordinator", "email": "bo@example.org"}, "lead")
    school.withdraw_pledge("Ms Head said the governors changed their minds", later, later, "lead")
    events = [PLEDGES.envelope(e, n, "coventry") for n, e in enumerate(school.collect_events(), start=1)]
    assert {e.type for e in events} >= {"SchoolRegistered", "CommitmentRecorded", "PledgeSigned",
                                        "PledgeRenewed", "CoordinatorChanged", "PledgeWithdrawn"}
    bodies = json.dumps([e.to_dict() for e in events])
    for personal in ("Ann", "ann@example.org", "Ms Head", "Mr Chair", "Ms Renewer", "Bo Newcoordinator",
                     "bo@example.org", "governors changed"):
        assert personal not in bodies, personal


def test_the_id_is_stable_for_one_stored_event_and_differs_between_events() -> None:
    events = signed_school().collect_events()
    first = PLEDGES.envelope(events[0], 1, "coventry")
    again = PLEDGES.envelope(events[0], 1, "coventry")
    other = PLEDGES.envelope(events[1], 2, "coventry")
    assert first.id == again.id != other.id


@pytest.mark.parametrize("change", [
    {"position": 0}, {"type": ""}, {"occurred_at": "yesterday"}, {"envelope_version": 3},
    {"surprise": 1}, {"payload": "not an object"},
])
def test_a_malformed_envelope_is_refused(change: dict) -> None:
    body = PLEDGES.envelope(signed_school().collect_events()[0], 1, "coventry").to_dict()
    body.update(change)
    with pytest.raises(ValidationError):
        parse_envelope(body)


def test_an_event_stored_in_a_request_names_it_in_its_envelope() -> None:
    """The service's mapper puts the request's ids on the stored event (shared/store.py)."""
    event = signed_school().collect_events()[0]
    traced = dataclasses.replace(event)
    object.__setattr__(traced, "correlation_id", "req-7")
    object.__setattr__(traced, "causation_id", "evt-3")
    published = PLEDGES.envelope(traced, 1, "coventry")
    assert (published.correlation_id, published.causation_id) == ("req-7", "evt-3")
    assert published.envelope_version == 2
    assert parse_envelope(published.to_dict()) == published
    assert PLEDGES.envelope(event, 1, "coventry").correlation_id is None  # stored outside a request


def test_an_envelope_of_version_1_without_the_ids_is_still_read() -> None:
    """Published before the upgrade, still waiting on the broker or in an outbox."""
    body = PLEDGES.envelope(signed_school().collect_events()[0], 1, "coventry").to_dict()
    for key in ("correlation_id", "causation_id"):
        del body[key]
    body["envelope_version"] = 1
    read = parse_envelope(body)
    assert read.envelope_version == 1 and read.correlation_id is None and read.causation_id is None
