"""Schema evolution on a real store (SQLite and PostgreSQL): an event stored by an earlier
version of the code reads back, through a service application (our transcodings: dates,
personal values), in the shape the code has now, with the new field filled by an upcaster;
the stored bytes never change, so the seal still verifies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import clear_topic_cache, construct_topic, register_topic

from services.applications.accreditation import AwardApplication, Deadline
from services.applications.application import Applications
from services.applications.panels import Appraisal
from services.applications.trail import composition_text
from shared.authority import Authority
from shared.clock import FixedClock
from shared.personal import Personal, PersonalDataApplication, subject_for_name
from shared.subject_access import records_about
from tests.conftest import Store

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
        old.save(issued)
        old.seal.extend()
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
        assert new.seal.extend() == 2
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
        old.seal.extend()
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


# -- the applications service: events stored before issue 17 ------------------------------------------

URN = "103712"
LEAD = "account:lead"


def stored_the_old_way(app: Applications, events: list, plain: dict[str, dict]) -> list:
    """``events`` as the code before issue 17 stored them: no class_version, no new fields, and
    ``plain[event name]`` (a field -> its value in clear) where the code now keeps personal values."""
    old = []
    for domain_event in events:
        stored = app.mapper.to_stored_event(domain_event)
        state = json.loads(stored.state)
        name = stored.topic.rsplit(".", 1)[-1]
        state.pop("class_version", None)
        state.pop("composition", None)
        state.pop("beyond_panel_meeting", None)
        state.update(plain.get(name, {}))
        old.append(dataclasses.replace(stored, state=json.dumps(state, separators=(",", ":")).encode()))
    return old


@pytest.fixture
def applications(store: Store, coventry: Authority) -> Iterator[Applications]:
    app = Applications(env=store.env("applications"), authority=coventry,
                       clock=FixedClock(dt.datetime(2027, 6, 15, 15, tzinfo=dt.UTC)))
    yield app
    app.close()


def test_an_outcome_agreed_before_the_rule_was_checked_reads_as_not_checked(
        applications: Applications) -> None:
    appraisal = Appraisal(panel="panel", application="application", urn=URN, stage="final",
                          criteria=["learn-1"], members=["amy", "ben"], submission=2, actor=LEAD)
    appraisal.declare("amy", False, "", "account:amy")
    appraisal.consolidate({"learn-1": {"outcome": "met", "comment": "Evidenced."}}, "award", ["amy"], 1, 0,
                          [], LEAD)
    old = stored_the_old_way(applications, appraisal.collect_events(), {})
    assert "composition" not in old[-1].state.decode() and "class_version" not in old[-1].state.decode()
    applications.recorder.insert_events(old)
    applications.seal.extend()

    read = applications.repository.get(appraisal.id)
    assert read.outcome == {"criteria": {"learn-1": {"outcome": "met", "comment": "Evidenced."}},
                            "overall": "award", "members": ["amy"], "composition": None, "by": LEAD}
    [*_, agreed] = applications.events.get(appraisal.id)
    assert type(agreed) is Appraisal.OutcomeAgreed and agreed.composition is None
    assert composition_text(agreed.composition).startswith("Panel composition: not checked when this "
                                                           "outcome was agreed")
    assert applications.recorder.select_events(appraisal.id) == old  # bytes unchanged
    assert applications.seal.verify().ok


def test_names_and_free_text_stored_in_clear_read_as_personal_values(applications: Applications) -> None:
    carried = [{"id": "old", "criterion": "share-8", "action": "Visit CRMC", "owner": "Ms Head",
                "target_date": dt.date(2027, 6, 1), "status": "done"}]
    a = AwardApplication(urn=URN, school_name="Hill Primary", school_year="2026-27",
                         criteria_version="sos-2026", criteria=["learn-1"], has_draft=False, renewal_of=None,
                         carried_actions=carried, actor=LEAD)
    a.plan_action("x1", "learn-1", "Train governors", "Mr Art", None, "planned", LEAD)
    a.grant_extension("final", dt.date(2027, 6, 4), "The coordinator is ill", LEAD)
    a.add_evidence("e1", "learn-1", "Training log", "", None, LEAD)
    a.submit("final", dt.date(2027, 6, 1), Deadline("final", None), LEAD)
    a.schedule_visit(dt.date(2027, 6, 15), LEAD)
    a.record_visit(dt.date(2027, 6, 15), ["Mo Member", "Head teacher"], "Pupils led the tour.", LEAD)
    a.withdraw("The head teacher left", LEAD)
    events = a.collect_events()
    now = [applications.mapper.to_stored_event(e).state.decode() for e in events]
    assert not any(clear in state for state in now for clear in (
        "Mr Art", "The coordinator is ill", "Mo Member", "Pupils led the tour", "The head teacher left"))
    old = stored_the_old_way(applications, events, {
        "ActionPlanned": {"owner": "Mr Art"},
        "ExtensionGranted": {"reason": "The coordinator is ill"},
        "VisitRecorded": {"attendees": ["Mo Member", "Head teacher"], "notes": "Pupils led the tour."},
        "Withdrawn": {"reason": "The head teacher left"},
    })
    assert '"owner":"Mr Art"' in old[1].state.decode()  # in clear, as before
    applications.recorder.insert_events(old)

    read = applications.repository.get(a.id)
    for value, said in ((read.actions["x1"]["owner"], "Mr Art"), (read.actions["old"]["owner"], "Ms Head"),
                        (read.visit["attendees"][0], "Mo Member")):
        assert value == Personal(subject_for_name(URN, said), said)
    free_text = subject_for_name(URN, "free text")
    for value, said in ((read.extensions["final"]["reason"], "The coordinator is ill"),
                        (read.visit["notes"], "Pupils led the tour."),
                        (read.withdrawal["reason"], "The head teacher left")):
        assert value == Personal(free_text, said)
    assert read.extensions["final"]["beyond_panel_meeting"] is False
    view = applications.view(read)
    assert view["visit"]["attendees"] == ["Mo Member", "Head teacher"]
    assert view["actions"][0]["owner"] == "Ms Head"
    # a subject access finds what was stored in clear under the person's subject
    [found] = records_about(applications, {subject_for_name(URN, "Mr Art")})
    assert (found["event"], found["fields"]) == ("ActionPlanned", {"owner": "Mr Art"})
