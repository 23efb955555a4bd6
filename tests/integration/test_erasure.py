"""Erasure and subject access in the pledges service, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from services.pledges.application import Pledges
from shared.envelope import IntegrationEvent
from shared.errors import Conflict
from shared.personal import subject_for_email, subject_for_name
from shared.subject_access import forget, records_about, subjects_of

ANN = {"name": "Ann Coordinator", "email": "Ann@Example.org"}


@pytest.fixture
def pledges(store, coventry):
    app = Pledges(env=store.env("pledges"), rules=coventry.pledge)
    app.register_school("account:lead", "103712", "Hill Primary", "primary", "CV1 2AB", ANN)
    app.express_interest("account:lead", "103712")
    app.record_commitment("account:lead", "103712", "slt", "Ms Head", "Head teacher")
    app.record_commitment("account:lead", "103712", "governors", "Mr Chair", "Chair")
    app.sign_pledge("account:lead", "103712", "Ms Head", "Head teacher")
    yield app
    app.close()


def erasure(*subjects: str) -> IntegrationEvent:
    return IntegrationEvent(id="00000000-0000-4000-8000-000000000001", type="PersonalDataErased",
                            schema_version=1, origin="accounts", position=1,
                            occurred_at="2026-11-23T10:00:00+00:00", authority="coventry",
                            actor="account:lead", payload={"subjects": list(subjects)})


def test_subject_access_finds_every_record_of_a_person(pledges: Pledges) -> None:
    records = records_about(pledges, set(subjects_of({"email": "ann@example.org "})))
    assert [r["event"] for r in records] == ["Registered"]
    assert records[0]["fields"]["coordinator"]["email"] == "Ann@Example.org"
    head = records_about(pledges, set(subjects_of({"name": "ms  head", "urn": "103712"})))
    assert [r["event"] for r in head] == ["CommitmentRecorded", "PledgeSigned"]


def test_erasure_keeps_history_whole_but_unreadable_for_that_person(pledges: Pledges) -> None:
    before = pledges.recorder.max_notification_id()
    forget(pledges, erasure(subject_for_email("ann@example.org")))
    view = pledges.school("103712")
    assert view["coordinator"] == {"name": "[erased]", "email": "[erased]"}
    assert view["pledge"]["signed_by"] == "Ms Head"  # someone else's data is intact
    history = pledges.history("103712")
    assert len(history) == 5 and history[0]["details"]["coordinator"] == "[erased]"
    assert pledges.recorder.max_notification_id() == before  # nothing rewritten
    records = records_about(pledges, {subject_for_email("ann@example.org")})
    assert records[0]["fields"]["coordinator"] == "[erased]"


def test_the_directory_forgets_too(pledges: Pledges) -> None:
    assert pledges.schools()[0]["coordinator"]["name"] == "Ann Coordinator"
    forget(pledges, erasure(subject_for_name("103712", "Ms Head")))
    forget(pledges, erasure(subject_for_email("ann@example.org")))
    school = pledges.schools()[0]
    assert school["coordinator"]["name"] == "[erased]"
    assert school["pledge"]["signed_by"] == "[erased]"


def test_an_erased_person_is_not_recorded_again(pledges: Pledges) -> None:
    forget(pledges, erasure(subject_for_email("ann@example.org")))
    forget(pledges, erasure(subject_for_email("ann@example.org")))  # a redelivery is harmless
    with pytest.raises(Conflict):
        pledges.register_school("account:lead", "100001", "Other", "primary", "CV1 2AB", ANN)
