"""The Pledges application learning awards from the applications service's public events,
on a real store (SQLite and PostgreSQL): each piece of news is consumed once in effect
(the consumed position is saved with the events it produced), and a school is listed only
while it has chosen to share and holds a current award."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
import xml.etree.ElementTree as ET

import pytest
from eventsourcing.persistence import Tracking

from services.pledges.application import Pledges
from services.pledges.domain import AwardRecord
from services.pledges.feed import ATOM, Publisher
from shared.authority import Authority
from shared.clock import FixedClock
from shared.consumer import consume
from shared.envelope import IntegrationEvent
from shared.errors import Invalid, NotFound
from tests.integration import ON_POSTGRES

pytestmark = ON_POSTGRES  # see tests/integration/__init__.py

NOW = dt.datetime(2027, 9, 6, 10, 0, tzinfo=dt.UTC)
CONTACT = {"name": "Ann Coordinator", "email": "ann@example.org"}
COORDINATOR = "account:coordinator"
_positions = itertools.count(1)  # positions in the applications log, unique for the whole run


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def pledges(store, coventry: Authority, clock: FixedClock) -> Pledges:
    app = Pledges(env=store.env("pledges"), rules=coventry.pledge, clock=clock,
                  publisher=Publisher.of(coventry, "https://sanctuary.example.org"))
    yield app
    app.close()


def register(app: Pledges, urn: str, name: str) -> None:
    app.register_school("account:lead", urn, name, "primary", "CV1 2AB",
                        {**CONTACT, "email": f"ann@{urn}.example.org"})


def news(kind: str, urn: str, on: dt.date = dt.date(2027, 7, 10), years: int = 3,
         application: str | None = None, position: int | None = None) -> IntegrationEvent:
    """One event as the applications service's relay publishes it."""
    outcome = {"Awarded": "awarded", "DecisionRecorded": "not_awarded"}.get(kind)
    payload = {"application": application or str(uuid.uuid4()), "urn": urn, "school_year": "2026-27"}
    if outcome:
        payload.update(outcome=outcome, on=on.isoformat(), evidence_due=None,
                       expires_on=on.replace(year=on.year + years).isoformat() if outcome == "awarded"
                       else None)
    return IntegrationEvent(
        id=str(uuid.uuid4()), type=kind, schema_version=1, origin="applications",
        position=position or next(_positions), occurred_at="2027-07-10T09:00:00+00:00",
        authority="coventry", actor="account:lead", payload=payload)


def deliver(app: Pledges, event: IntegrationEvent) -> bool:
    return consume(app, event.to_dict(), app.learn_award_news)


def stored(app: Pledges) -> int:
    return app.recorder.max_notification_id() or 0


def names(app: Pledges) -> list[str]:
    return [s["name"] for s in app.awarded_schools()]


def test_an_award_is_learnt_once_however_often_it_is_delivered(pledges: Pledges) -> None:
    register(pledges, "103712", "Hill Primary")
    awarded = news("Awarded", "103712")
    assert deliver(pledges, awarded)
    after = stored(pledges)
    assert not deliver(pledges, awarded)  # a redelivery: acknowledged, nothing stored
    assert not deliver(pledges, awarded)
    assert stored(pledges) == after
    record = pledges.repository.get(AwardRecord.create_id("103712"))
    assert list(record.awards) == [awarded.payload["application"]]
    assert pledges.sharing("103712")["award"] == {"awarded_on": dt.date(2027, 7, 10),
                                                  "expires_on": dt.date(2030, 7, 10)}


def test_the_same_award_republished_at_a_new_position_changes_nothing(pledges: Pledges) -> None:
    """``sanctuary replay`` republishes with the same positions; a rebuilt log with new
    positions still names the same application, and old news of it is ignored."""
    register(pledges, "103712", "Hill Primary")
    application = str(uuid.uuid4())
    later = next(_positions) + 50
    assert deliver(pledges, news("Awarded", "103712", application=application, position=later))
    before = stored(pledges)
    older = news("Awarded", "103712", application=application)
    assert older.position < later
    assert deliver(pledges, older)  # consumed: its position is tracked ...
    assert pledges.has_consumed(Tracking("applications", older.position))
    assert stored(pledges) == before  # ... but it changed nothing


def test_other_news_is_tracked_but_changes_nothing(pledges: Pledges) -> None:
    register(pledges, "103712", "Hill Primary")
    before = stored(pledges)
    assert deliver(pledges, news("DecisionRecorded", "103712"))
    assert stored(pledges) == before
    assert pledges.sharing("103712")["award"] is None


def test_a_school_is_listed_only_while_it_chose_to_and_holds_a_current_award(
        pledges: Pledges, clock: FixedClock) -> None:
    register(pledges, "100001", "birch School")
    register(pledges, "100002", "Alder School")
    register(pledges, "100003", "Cedar School")
    assert pledges.awarded_schools() == []  # nothing public by default

    deliver(pledges, news("Awarded", "100001"))
    deliver(pledges, news("Awarded", "100002"))
    assert pledges.awarded_schools() == []  # awarded, but no school chose to be listed

    view = pledges.share_award(COORDINATOR, "100001", town="Earlsdon", link="https://birch.example.org/")
    assert view["listed"] is True and view["public"] == {
        "name": "birch School", "awarded_on": dt.date(2027, 7, 10), "town": "Earlsdon",
        "link": "https://birch.example.org/"}
    pledges.share_award(COORDINATOR, "100002", statement="Everyone is welcome here.")
    no_award = pledges.share_award(COORDINATOR, "100003", town="Tile Hill")  # opted in, never awarded
    assert no_award["sharing"] is True and no_award["listed"] is False and no_award["public"] is None
    assert pledges.awarded_schools() == [
        {"name": "Alder School", "awarded_on": dt.date(2027, 7, 10),
         "statement": "Everyone is welcome here."},
        {"name": "birch School", "awarded_on": dt.date(2027, 7, 10), "town": "Earlsdon",
         "link": "https://birch.example.org/"},
    ]  # by name, whatever the case

    pledges.stop_sharing(COORDINATOR, "100002")
    assert names(pledges) == ["birch School"]
    pledges.stop_sharing(COORDINATOR, "100002")  # again: no error, nothing more stored

    clock.at = dt.datetime(2030, 7, 9, 22, 0, tzinfo=dt.UTC)  # 23:00 on 9 July, UK time
    assert names(pledges) == ["birch School"]
    clock.at = dt.datetime(2030, 7, 10, 9, 0, tzinfo=dt.UTC)  # the award has expired
    assert names(pledges) == []
    assert pledges.sharing("100001")["sharing"] is True  # the choice stands, for a renewal
    deliver(pledges, news("Awarded", "100001", on=dt.date(2030, 7, 10)))
    assert pledges.awarded_schools() == [{"name": "birch School", "awarded_on": dt.date(2030, 7, 10),
                                          "town": "Earlsdon", "link": "https://birch.example.org/"}]


def test_the_feed_follows_the_list(pledges: Pledges) -> None:
    register(pledges, "103712", "Hill Primary")
    register(pledges, "100001", "Alder School")
    for urn in ("103712", "100001"):
        deliver(pledges, news("Awarded", urn))
    pledges.share_award(COORDINATOR, "103712", statement="Proud & <glad>")
    feed = ET.fromstring(pledges.awarded_feed())
    entries = feed.findall(f"{{{ATOM}}}entry")
    assert [e.findtext(f"{{{ATOM}}}title") for e in entries] == ["Hill Primary"]
    assert entries[0].findtext(f"{{{ATOM}}}id") == \
        "tag:coventry.sch.uk,2027-07-10:schools-of-sanctuary/103712"
    assert entries[0].findtext(f"{{{ATOM}}}updated") == "2027-09-06T10:00:00Z"  # when it chose to share
    assert entries[0].findtext(f"{{{ATOM}}}summary") == "Proud & <glad>"
    body = pledges.awarded_feed()
    assert b"Ann" not in body and b"ann@" not in body and b"CV1" not in body  # nothing personal


def test_choices_are_history_with_who_and_when(pledges: Pledges, clock: FixedClock) -> None:
    register(pledges, "103712", "Hill Primary")
    pledges.share_award(COORDINATOR, "103712", town="Coventry")
    pledges.share_award(COORDINATOR, "103712", town="Coventry")  # the same again: nothing recorded
    clock.advance(minutes=5)
    pledges.stop_sharing("account:lead", "103712")
    history = pledges.history("103712")
    assert [(h["event"], h["actor"]) for h in history[1:]] == [
        ("AwardShared", COORDINATOR), ("AwardSharingStopped", "account:lead")]
    assert history[1]["details"]["town"] == "Coventry"
    assert history[2]["details"]["at"] == NOW + dt.timedelta(minutes=5)


def test_refused_choices_store_nothing(pledges: Pledges) -> None:
    register(pledges, "103712", "Hill Primary")
    pledges.share_award(COORDINATOR, "103712", town="Coventry")
    before = stored(pledges)
    for bad in ({"link": "http://hill.example.org"}, {"statement": "x" * 501}):
        with pytest.raises(Invalid) as refused:
            pledges.share_award(COORDINATOR, "103712", **bad)
        assert list(refused.value.fields) == list(bad)
    with pytest.raises(NotFound):
        pledges.share_award(COORDINATOR, "999999", town="Nowhere")
    assert stored(pledges) == before
    assert pledges.sharing("103712")["choice"] == {"town": "Coventry"}


def test_what_one_instance_learns_and_chooses_the_other_lists(store, coventry: Authority,
                                                              clock: FixedClock) -> None:
    one = Pledges(env=store.env("pledges"), rules=coventry.pledge, clock=clock)
    two = Pledges(env=store.env("pledges"), rules=coventry.pledge, clock=clock)
    try:
        register(one, "103712", "Hill Primary")
        assert two.awarded_schools() == []
        awarded = news("Awarded", "103712")
        assert deliver(one, awarded)
        assert not deliver(two, awarded)  # the other instance got the redelivery
        one.share_award(COORDINATOR, "103712")
        assert names(two) == ["Hill Primary"]
        two.stop_sharing(COORDINATOR, "103712")
        assert one.awarded_schools() == []
    finally:
        one.close()
        two.close()
