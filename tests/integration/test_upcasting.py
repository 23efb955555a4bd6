"""Schema evolution on a real store (SQLite and PostgreSQL): an event stored by an earlier
version of the code reads back, through a service application (our transcodings: dates,
personal values), in the shape the code has now, with the new field filled by an upcaster;
the stored bytes never change, so the seal still verifies."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import clear_topic_cache, construct_topic, register_topic

from shared.personal import Personal, PersonalDataApplication, subject_for_name
from tests.components import Store

pytestmark = pytest.mark.integration

HOLDER = "Ann Holder"
ISSUED_ON = dt.date(2024, 2, 29)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# -- the code as it was first deployed -------------------------------------------------------------


class Certificate(Aggregate):
    """Version 1: a certificate issued to someone on a day."""

    class Issued(Aggregate.Created):
        holder: Personal
        on: dt.date
        actor: str

    @event(Issued)
    def __init__(self, holder: Personal, on: dt.date, actor: str) -> None:
        self.holder = holder
        self.on = on


CertificateV1 = Certificate
del Certificate  # (eventsourcing refuses to define a class over a name still in use)


# -- the code now: the same topics, a new field, and an upcaster for the events stored before ------


class Certificate(Aggregate):  # the same class, a later version of the code
    """Version 2: a certificate is valid until a day, three years on unless said otherwise."""

    class Issued(Aggregate.Created):
        holder: Personal
        on: dt.date
        actor: str
        valid_until: dt.date

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            # the transcoder has run: ``on`` is a date here, not text
            state["valid_until"] = add_years(state["on"], 3)

    @event(Issued)
    def __init__(self, holder: Personal, on: dt.date, actor: str, valid_until: dt.date) -> None:
        self.holder = holder
        self.on = on
        self.valid_until = valid_until

    @event("Extended")
    def extend(self, valid_until: dt.date, actor: str) -> None:
        self.valid_until = valid_until


CertificateV2 = Certificate


class Certificates(PersonalDataApplication):
    """A service application like ours: dates as ISO text, personal values encrypted."""

    name = "certificates"


def running(code: type[Aggregate]) -> None:
    """This version of the code is the one running: the topics resolve to its classes (as in a
    process started with it; eventsourcing caches what each topic resolved to)."""
    clear_topic_cache()
    register_topic(f"{__name__}:Certificate", code)
    for name in ("Issued", "Extended"):
        if hasattr(code, name):
            register_topic(f"{__name__}:Certificate.{name}", getattr(code, name))


@pytest.fixture
def deploy() -> Iterator:
    yield running
    clear_topic_cache()


@pytest.fixture
def app_env(store: Store) -> dict:
    return store.env("certificates")


def holder() -> Personal:
    return Personal(subject_for_name("certificates", HOLDER), HOLDER, label="a certificate holder")


def test_a_v1_event_reads_back_as_v2_with_the_new_field_filled(app_env: dict, deploy) -> None:
    topic = construct_topic(CertificateV1.Issued)
    assert topic == construct_topic(CertificateV2.Issued) == f"{__name__}:Certificate.Issued"

    # the first version of the service stores a certificate and seals its log
    deploy(CertificateV1)
    old = Certificates(env=app_env)
    try:
        issued = CertificateV1(holder=holder(), on=ISSUED_ON, actor="account:lead")
        old.save(issued)  # sealed as it is written
        kept = old.seal.digest()
        [stored] = old.recorder.select_events(issued.id)
    finally:
        old.close()
    state = json.loads(stored.state)
    assert stored.topic == topic
    assert "class_version" not in state and "valid_until" not in state  # the v1 shape
    assert state["on"] == {"_type_": "date_iso", "_data_": "2024-02-29"}
    assert state["holder"]["_type_"] == "personal" and HOLDER not in stored.state.decode()

    # the new version is deployed; the service starts again on the same store
    deploy(CertificateV2)
    new = Certificates(env=app_env)
    try:
        [notification] = new.recorder.select_notifications(start=1, limit=10)
        domain_event = new.mapper.to_domain_event(notification)
        assert type(domain_event) is CertificateV2.Issued
        assert domain_event.valid_until == dt.date(2027, 2, 28)  # filled by the upcaster
        assert domain_event.on == ISSUED_ON and isinstance(domain_event.on, dt.date)
        assert isinstance(domain_event.holder, Personal) and domain_event.holder.value == HOLDER
        assert domain_event.actor == "account:lead"

        certificate = new.repository.get(issued.id)
        assert type(certificate) is CertificateV2
        assert (certificate.holder.value, certificate.on, certificate.valid_until) == (
            HOLDER, ISSUED_ON, dt.date(2027, 2, 28))

        # reading differently changed nothing stored: the bytes, and so the seal, are as they were
        assert new.recorder.select_events(issued.id) == [stored]
        verdict = new.seal.verify(digest=kept)
        assert (verdict.ok, verdict.checked) == (True, 1), verdict.problems

        # the new code appends in the new shape beside the old event
        certificate.extend(dt.date(2028, 2, 29), "account:lead")
        fresh = CertificateV2(holder=holder(), on=dt.date(2026, 9, 1), actor="account:lead",
                              valid_until=dt.date(2029, 9, 1))
        new.save(certificate, fresh)
        [stored_fresh] = new.recorder.select_events(fresh.id)
        assert json.loads(stored_fresh.state)["class_version"] == 2
        assert json.loads(stored_fresh.state)["valid_until"] == {"_type_": "date_iso",
                                                                 "_data_": "2029-09-01"}
        assert new.repository.get(issued.id).valid_until == dt.date(2028, 2, 29)
        assert new.repository.get(fresh.id).valid_until == dt.date(2029, 9, 1)
        assert new.seal.head()[0] == 3  # the two new events were sealed as they were written
        assert new.seal.verify().ok
        assert new.seal.verify(digest=kept).ok  # a digest published earlier holds as the log grows
        assert new.seal.verify(digest=new.seal.digest()).ok
        assert new.recorder.select_events(issued.id)[0] == stored
    finally:
        new.close()


def test_an_erased_holder_still_upcasts(app_env: dict, deploy) -> None:
    """Crypto-shredding and upcasting together: the old event still loads, its personal value
    reads as erased, and the upcaster fills the new field from the (unencrypted) date."""
    deploy(CertificateV1)
    old = Certificates(env=app_env)
    try:
        issued = CertificateV1(holder=holder(), on=ISSUED_ON, actor="account:lead")
        old.save(issued)
    finally:
        old.close()
    deploy(CertificateV2)
    new = Certificates(env=app_env)
    try:
        assert new.erase_subject(subject_for_name("certificates", HOLDER)) is True
        certificate = new.repository.get(issued.id)
        assert certificate.holder.erased and str(certificate.holder) == "[erased]"
        assert certificate.valid_until == dt.date(2027, 2, 28)
        assert new.seal.verify().ok  # erasing deletes a key, never an event
    finally:
        new.close()
