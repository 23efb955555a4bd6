"""Schema evolution on a real store (SQLite and PostgreSQL): an event stored by an earlier
version of the code reads back, through a service application (our transcodings: dates,
personal values), in the shape the code has now, with the new field filled by an upcaster;
the stored bytes never change, so the seal still verifies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import clear_topic_cache, construct_topic, register_topic

from services.applications.accreditation import AwardApplication, Deadline
from services.applications.application import Applications
from services.applications.contract import APPLICATIONS
from services.applications.panels import Appraisal
from services.applications.trail import composition_text
from services.events.application import Programme
from services.events.contract import EVENTS
from services.events.programme import CatchUp
from services.notifications.application import Notifications
from services.notifications.directory import Entry
from services.pledges.application import Pledges
from services.pledges.contract import PLEDGES
from services.pledges.domain import School
from shared.authority import Authority
from shared.clock import FixedClock
from shared.personal import Personal, PersonalDataApplication, subject_for_name
from shared.subject_access import records_about
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


# -- our services' own events, as the code before stored them ----------------------------------------------
#
# The days a submission is due and a pledge lapses are now recorded where they are set, and the
# notifications directory calls an extended day the day a submission is due. Events stored before
# read back through the upcasters, and are published in the shape their consumers first heard.


def stored_as_before(app: Any, aggregate: Aggregate, rewrite: Callable[[str, dict], None]) -> None:
    """Store ``aggregate``'s pending events as the earlier code did: with no class_version, each
    state rewritten to its old shape by ``rewrite(topic, state)``."""
    records = []
    for domain_event in aggregate.collect_events():
        record = app.mapper.to_stored_event(domain_event)
        state = json.loads(record.state)
        if state.pop("class_version", 1) > 1:
            rewrite(record.topic, state)
        records.append(dataclasses.replace(record, state=json.dumps(state).encode()))
    app.recorder.insert_events(records)


def events_in(app: Any) -> Any:
    return [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(start=1, limit=50)]


def test_a_pledge_signed_before_its_lapse_day_was_recorded(store: Store, coventry) -> None:
    school = School(urn="103712", name="Hill Primary", phase="primary", postcode="CV1 2AB",
                    coordinator={"name": "Ann", "email": "ann@example.org"}, actor="account:lead")
    school.express_interest(dt.date(2024, 2, 1), dt.date(2024, 2, 1), "account:lead")
    school.sign_pledge("Ms Head", "Head teacher", ISSUED_ON, ISSUED_ON, (), 3, "account:lead")
    app = Pledges(env=store.env("pledges"), rules=coventry.pledge)
    try:
        stored_as_before(app, school, lambda topic, state: [state.pop(k) for k in ("lapses_on", "imported")])
        [stored] = [r for r in app.recorder.select_events(school.id) if r.topic.endswith("PledgeSigned")]
        assert "lapses_on" not in json.loads(stored.state)
    finally:
        app.close()
    again = Pledges(env=store.env("pledges"), rules=coventry.pledge)
    try:
        signed = events_in(again)[-1]
        assert type(signed) is School.PledgeSigned and signed.lapses_on is None
        assert again.repository.get(school.id).lapses_on(3) == dt.date(2027, 2, 28)  # the rule of then
        news = PLEDGES.envelope(signed, 3, coventry.slug)
        assert news.schema_version == 3 and "lapses_on" not in news.payload  # 3: no signer's name
    finally:
        again.close()


def test_a_pledge_signed_before_imports_were_recorded(store: Store, coventry) -> None:
    """Version 2 (no ``imported``): reads back as not imported, and is told in schema 2."""
    school = School(urn="103712", name="Hill Primary", phase="primary", postcode="CV1 2AB",
                    coordinator={"name": "Ann", "email": "ann@example.org"}, actor="account:lead")
    school.express_interest(dt.date(2024, 2, 1), dt.date(2024, 2, 1), "account:lead")
    school.sign_pledge("Ms Head", "Head teacher", ISSUED_ON, ISSUED_ON, (), 3, "account:lead")
    app = Pledges(env=store.env("pledges"), rules=coventry.pledge)

    def as_v2(topic: str, state: dict) -> None:
        if topic.endswith("PledgeSigned"):
            state.pop("imported")
            state["class_version"] = 2

    try:
        stored_as_before(app, school, as_v2)
    finally:
        app.close()
    again = Pledges(env=store.env("pledges"), rules=coventry.pledge)
    try:
        signed = events_in(again)[-1]
        assert type(signed) is School.PledgeSigned and signed.imported is None
        assert again.school("103712")["pledge"]["imported"] is False
        news = PLEDGES.envelope(signed, 3, coventry.slug)
        assert news.schema_version == 3 and "imported" not in news.payload  # told as it was known
    finally:
        again.close()


def test_an_application_started_before_its_due_days_were_recorded(store: Store, coventry) -> None:
    application = AwardApplication(urn="103712", school_name="Hill Primary", school_year="2026-27",
                                   criteria_version="sos-2026", criteria=["learn-1"], has_draft=True,
                                   renewal_of=None, carried_actions=[], actor="account:coordinator",
                                   due={"draft": dt.date(2027, 3, 25), "final": dt.date(2027, 5, 28)})

    def earliest(topic: str, state: dict) -> None:  # before pledged_on and started_on, too
        for name in ("due", "pledged_on", "started_on"):
            state.pop(name)

    app = Applications(env=store.env("applications"), authority=coventry)
    try:
        stored_as_before(app, application, earliest)
    finally:
        app.close()
    again = Applications(env=store.env("applications"), authority=coventry)
    try:
        [started] = events_in(again)
        assert type(started) is AwardApplication.Started and started.due is None
        view = again.application("103712", "2026-27")
        assert (view["next_submission"], view["deadline"]) == ("draft", dt.date(2027, 3, 25))
        news = APPLICATIONS.envelope(started, 1, coventry.slug)
        assert news.schema_version == 1 and "due" not in news.payload
    finally:
        again.close()


def test_a_directory_entry_learnt_when_an_extension_was_its_own_fact(store: Store, coventry) -> None:
    """The directory's version 1 kept an extension as ``extension_<stage>``; it reads back as the
    day the submission is due, so a school extended before the change is still reminded of it."""
    entry = Entry(kind="application", key="app-1")
    entry.learn({"urn": "103712", "school_year": "2026-27", "school_name": "Hill Primary"}, "applications", 4)
    entry.learn({"due_final": "2027-06-04"}, "applications", 9)

    def named_as_before(topic: str, state: dict) -> None:
        state["facts"] = {{"due_final": "extension_final"}.get(k, k): v for k, v in state["facts"].items()}

    app = Notifications(env=store.env("notifications"), authority=coventry, mail_from="n@x.invalid",
                        mail_domain="x.invalid")
    try:
        stored_as_before(app, entry, named_as_before)
        assert b"extension_final" in app.recorder.select_events(entry.id)[-1].state
    finally:
        app.close()
    again = Notifications(env=store.env("notifications"), authority=coventry, mail_from="n@x.invalid",
                          mail_domain="x.invalid")
    try:
        known = again.entry("application", "app-1")
        assert known.facts == {"urn": "103712", "school_year": "2026-27", "school_name": "Hill Primary",
                               "due_final": "2027-06-04"}
        assert known.positions["due_final"] == ("applications", 9)
        # the start said no days (schema 1): the draft's is the cycle's; the final's, the extension
        assert again.due_days(known) == {"draft": dt.date(2027, 3, 25), "final": dt.date(2027, 6, 4)}
    finally:
        again.close()


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


def test_a_catch_up_requested_proposed_and_confirmed_before_requests_named_their_item(
        store: Store, coventry) -> None:
    """Version 1 named neither the school (after the request) nor the programme item: such a
    request reads back as one for the authority's support meetings, and is published as its
    consumers first heard it."""
    request = CatchUp(urn="103712", note="Our audit", code="catch-up-meeting", actor="account:coordinator")
    request.propose(dt.date(2027, 1, 12), dt.time(15, 30), dt.time(16, 30), "", dt.date(2027, 1, 5),
                    "account:lead")
    request.confirm(dt.date(2027, 1, 5), "account:coordinator")

    added = {"Requested": ("code",), "Proposed": ("urn", "code", "venue"),
             "Confirmed": ("urn", "code", "date", "start", "end", "venue")}

    def as_v1(topic: str, state: dict) -> None:
        for name in added[topic.rsplit(".", 1)[-1]]:
            state.pop(name)

    app = Programme(env=store.env("events"), authority=coventry)
    try:
        app.seed()
        stored_as_before(app, request, as_v1)
        stored = app.recorder.select_events(request.id)
        [requested, proposed, confirmed] = [json.loads(r.state) for r in stored]
        assert "code" not in requested and "urn" in requested
        assert set(proposed) >= {"date", "start", "end"} and not set(proposed) & {"urn", "code", "venue"}
        assert not set(confirmed) & {"urn", "code", "date"}
    finally:
        app.close()
    again = Programme(env=store.env("events"), authority=coventry)
    try:
        [view] = again.catch_ups("103712")
        assert (view["code"], view["status"], view["note"]) == ("catch-up-meeting", "confirmed", "Our audit")
        assert view["title"].startswith("Schools catch up meeting")
        assert view["proposal"] == {"date": dt.date(2027, 1, 12), "start": dt.time(15, 30),
                                    "end": dt.time(16, 30), "venue": None, "sequence": 0}
        news = [EVENTS.envelope(e, 1, coventry.slug) for e in events_in(again)
                if isinstance(e, (CatchUp.Requested, CatchUp.Proposed, CatchUp.Confirmed))]
        assert [(n.type, n.schema_version) for n in news] == [
            ("CatchUpRequested", 1), ("CatchUpProposed", 1), ("CatchUpConfirmed", 1)]
        assert news[0].payload == {"request": str(request.id), "urn": "103712"}
        assert news[1].payload == {"request": str(request.id), "date": "2027-01-12", "start": "15:30:00",
                                   "end": "16:30:00"}
        assert news[2].payload == {"request": str(request.id)}
    finally:
        again.close()


def test_an_event_described_before_who_runs_it_could_change(store: Store, coventry) -> None:
    app = Programme(env=store.env("events"), authority=coventry)
    try:
        app.seed()
        event = app.repository.get(app.index.all()[0].id)
        event.describe("Renamed", "", "Staff", None, "account:lead", dt.datetime.now(dt.UTC),
                       dt.timedelta(hours=48), runs_by="Someone else")
        stored_as_before(app, event, lambda topic, state: state.pop("runs_by"))
        runs_by = app.authority.cpd_item(event.code).runs_by
    finally:
        app.close()
    again = Programme(env=store.env("events"), authority=coventry)
    try:
        assert (again.event(event.code)["title"], again.event(event.code)["runs_by"]) == ("Renamed", runs_by)
    finally:
        again.close()


def test_evidence_and_submissions_stored_before_the_portfolio_had_files(store: Store, coventry) -> None:
    """Evidence was a title, a description and a link; a submission froze only which items."""
    application = AwardApplication(urn="103712", school_name="Hill Primary", school_year="2026-27",
                                   criteria_version="sos-2026", criteria=["learn-1"], has_draft=False,
                                   renewal_of=None, carried_actions=[], actor="account:coordinator")
    application.add_evidence("e1", "learn-1", "Policy", "Our policy", "https://example.org/p", "account:c")
    application.submit("final", dt.date(2027, 3, 1), Deadline("final", None), "account:c")

    def without_files(topic: str, state: dict) -> None:
        if topic.endswith(("EvidenceAdded", "Submitted")):
            state.pop("files")

    app = Applications(env=store.env("applications"), authority=coventry)
    try:
        stored_as_before(app, application, without_files)
        stored = [json.loads(r.state) for r in app.recorder.select_events(application.id)]
        assert not any("files" in state for state in stored)
    finally:
        app.close()
    again = Applications(env=store.env("applications"), authority=coventry)
    try:
        added, submitted = [e for e in events_in(again)
                            if type(e) in (AwardApplication.EvidenceAdded, AwardApplication.Submitted)]
        assert added.files == [] and submitted.files == {}
        view = again.application("103712", "2026-27")
        assert view["evidence"][0]["files"] == [] and view["submissions"][0]["files"] == {}
        assert again.repository.get(application.id).held_files() == {}
    finally:
        again.close()


def test_a_withdrawal_stored_without_its_day_counts_retention_from_its_event_s_time(
        applications: Applications) -> None:
    a = AwardApplication(urn=URN, school_name="Hill Primary", school_year="2026-27",
                         criteria_version="sos-2026", criteria=["learn-1"], has_draft=False, renewal_of=None,
                         carried_actions=[], actor=LEAD)
    a.withdraw("The head teacher left", LEAD, on=dt.date(2031, 1, 5))
    old = []
    for stored in map(applications.mapper.to_stored_event, a.collect_events()):
        state = json.loads(stored.state)
        if stored.topic.endswith(".Withdrawn"):  # as version 2 stored it: no day
            del state["on"]
            state["class_version"] = 2
        old.append(dataclasses.replace(stored, state=json.dumps(state, separators=(",", ":")).encode()))
    assert b'"on"' not in old[-1].state
    applications.recorder.insert_events(old)

    read = applications.repository.get(a.id)
    assert read.withdrawal["on"] is None
    assert read.kept_until(1, 1) == read.modified_on.date().replace(year=read.modified_on.year + 1)
