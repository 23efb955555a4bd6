"""Sharing the news of an award, in memory: the School aggregate's opt-in and withdrawal,
the awards the pledges service learns, who is listed and what of them, and the Atom feed."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from services.pledges.domain import STATEMENT_MAX, AwardRecord, School, public_listing
from services.pledges.feed import ATOM, Publisher, atom_feed, entry_id
from shared.errors import Invalid

TODAY = dt.date(2027, 9, 6)
AT = dt.datetime(2027, 9, 6, 10, 30, tzinfo=dt.UTC)
AWARDED = dt.date(2027, 7, 10)
EXPIRES = dt.date(2030, 7, 10)
NS = {"a": ATOM}


def school(urn: str = "103712", name: str = "Hill Primary") -> School:
    return School(urn=urn, name=name, phase="primary", postcode="CV1 2AB",
                  coordinator={"name": "Ann Coordinator", "email": "ann@example.org"}, actor="lead")


def awarded(urn: str = "103712", on: dt.date = AWARDED, expires: dt.date = EXPIRES,
            application: str = "app-1", position: int = 10) -> AwardRecord:
    record = AwardRecord(urn=urn)
    assert record.learn_award(application, "2026-27", on, expires, position, "account:lead")
    return record


def share(s: School, town: str | None = None, statement: str | None = None, link: str | None = None,
          at: dt.datetime = AT) -> bool:
    return s.share_award(town, statement, link, at, "account:coordinator")


# -- nothing public by default; the school's own choice ----------------------------------


def test_a_school_shares_nothing_until_it_chooses_even_with_an_award() -> None:
    s = school()
    assert s.sharing is None and s.shared() is None
    assert public_listing(s, awarded(), TODAY) is None


def test_a_school_listed_shows_its_name_the_award_date_and_only_what_it_chose() -> None:
    s = school()
    assert share(s)
    assert public_listing(s, awarded(), TODAY) == {"name": "Hill Primary", "awarded_on": AWARDED}
    assert share(s, town="Earlsdon, Coventry", link="https://hill.example.org/news")
    assert public_listing(s, awarded(), TODAY) == {
        "name": "Hill Primary", "awarded_on": AWARDED, "town": "Earlsdon, Coventry",
        "link": "https://hill.example.org/news"}
    # the whole choice is replaced: the town dropped, a statement added
    assert share(s, statement="We welcome everyone.")
    assert s.shared() == {"statement": "We welcome everyone."}
    assert public_listing(s, awarded(), TODAY) == {
        "name": "Hill Primary", "awarded_on": AWARDED, "statement": "We welcome everyone."}


def test_nothing_personal_or_private_reaches_the_listing() -> None:
    s = school()
    share(s, town="Coventry", statement="Proud", link="https://hill.example.org/")
    listing = public_listing(s, awarded(), TODAY)
    assert set(listing) == {"name", "awarded_on", "town", "statement", "link"}
    text = repr(listing)
    for private in ("Ann", "ann@example.org", "CV1 2AB", "103712", "primary"):
        assert private not in text


def test_stopping_takes_the_school_off_at_once_and_twice_is_no_error() -> None:
    s = school()
    share(s, town="Coventry")
    assert s.stop_sharing(AT + dt.timedelta(hours=1), "account:coordinator")
    assert s.sharing is None and public_listing(s, awarded(), TODAY) is None
    assert not s.stop_sharing(AT + dt.timedelta(hours=2), "account:coordinator")  # nothing recorded
    events = s.collect_events()
    assert [type(e).__name__ for e in events] == ["Registered", "AwardShared", "AwardSharingStopped"]


def test_choosing_the_same_again_records_nothing() -> None:
    s = school()
    assert share(s, town="Coventry", statement="Hello")
    assert not share(s, town=" Coventry ", statement="Hello", at=AT + dt.timedelta(days=1))
    assert s.sharing["chosen_at"] == AT  # the first choice stands
    assert share(s, town="Coventry", statement="Hello again")


def test_every_change_records_who_and_when() -> None:
    s = school()
    share(s, town="Coventry", at=AT)
    s.stop_sharing(AT + dt.timedelta(minutes=5), "account:lead")
    shared, stopped = s.collect_events()[1:]
    assert (shared.actor, shared.at, shared.town, shared.statement, shared.link) == (
        "account:coordinator", AT, "Coventry", None, None)
    assert (stopped.actor, stopped.at) == ("account:lead", AT + dt.timedelta(minutes=5))


def test_blank_extras_are_not_shown() -> None:
    s = school()
    share(s, town="  ", statement="", link=None)
    assert s.shared() == {}


# -- the rules on what may be published ------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"link": "http://hill.example.org/news"}, "link"),
    ({"link": "javascript:alert(1)"}, "link"),
    ({"link": "https://localhost/news"}, "link"),
    ({"link": "https://user:secret@hill.example.org/"}, "link"),
    ({"link": 'https://hill.example.org/"><script>'}, "link"),
    ({"link": "https://hill.example.org/" + "x" * 500}, "link"),
    ({"statement": "x" * (STATEMENT_MAX + 1)}, "statement"),
    ({"statement": "bell\x07"}, "statement"),
    ({"town": "x" * 101}, "town"),
    ({"town": "Two\nlines"}, "town"),
])
def test_what_cannot_be_published_is_refused_naming_the_field_and_nothing_changes(
        kwargs: dict, field: str) -> None:
    s = school()
    share(s, town="Coventry")
    before = dict(s.sharing)
    with pytest.raises(Invalid) as refused:
        share(s, **kwargs, at=AT + dt.timedelta(days=1))
    assert list(refused.value.fields) == [field]
    assert s.sharing == before
    assert [type(e).__name__ for e in s.collect_events()] == ["Registered", "AwardShared"]


def test_a_statement_may_run_over_lines_and_hold_markup_as_plain_text() -> None:
    s = school()
    text = "Line one.\nLine <b>two</b> & more."
    share(s, statement=text)
    assert s.shared() == {"statement": text}


# -- awards, as learnt from the applications service ---------------------------------------


def test_only_a_current_award_lists_a_school_that_opted_in() -> None:
    s = school()
    share(s)
    assert public_listing(s, None, TODAY) is None  # opted in, no award: not listed
    record = awarded()
    assert public_listing(s, record, AWARDED - dt.timedelta(days=1)) is None  # not yet awarded
    assert public_listing(s, record, AWARDED) is not None
    assert public_listing(s, record, EXPIRES - dt.timedelta(days=1)) is not None
    assert public_listing(s, record, EXPIRES) is None  # expired: off the list, no event needed


def test_a_renewal_carries_the_listing_on_with_the_new_award_date() -> None:
    s = school()
    share(s)
    record = awarded()
    renewed_on = dt.date(2030, 6, 20)
    assert record.learn_award("app-2", "2029-30", renewed_on, dt.date(2033, 6, 20), 20, "account:lead")
    assert public_listing(s, record, dt.date(2030, 6, 1))["awarded_on"] == AWARDED
    assert public_listing(s, record, dt.date(2030, 7, 1))["awarded_on"] == renewed_on
    assert public_listing(s, record, dt.date(2033, 6, 19))["awarded_on"] == renewed_on
    assert public_listing(s, record, dt.date(2033, 6, 20)) is None


def test_news_of_an_award_already_known_changes_nothing() -> None:
    record = awarded(position=10)
    assert not record.learn_award("app-1", "2026-27", AWARDED, EXPIRES, 10, "account:lead")
    assert not record.learn_award("app-1", "2026-27", AWARDED, EXPIRES, 9, "account:lead")
    assert [type(e).__name__ for e in record.collect_events()] == ["Opened", "AwardLearnt"]
    assert record.current(TODAY) == {"application": "app-1", "school_year": "2026-27",
                                     "awarded_on": AWARDED, "expires_on": EXPIRES}


def test_the_award_record_is_one_per_school() -> None:
    assert AwardRecord(urn="103712").id == AwardRecord(urn="103712").id != AwardRecord(urn="103713").id
    assert AwardRecord(urn="103712").id != school("103712").id


# -- the Atom feed ---------------------------------------------------------------------------


PUBLISHER = Publisher("Coventry", "coventry.sch.uk", "https://sanctuary.example.org")


def feed_of(*entries: dict) -> ET.Element:
    return ET.fromstring(atom_feed(list(entries), PUBLISHER, AT))


def entry(urn: str, name: str, **extra: object) -> dict:
    return {"urn": urn, "name": name, "awarded_on": AWARDED, "chosen_at": AT, **extra}


def test_the_feed_is_atom_with_one_entry_per_school_and_award() -> None:
    feed = feed_of(entry("103712", "Hill Primary", town="Coventry",
                         statement="We welcome everyone.", link="https://hill.example.org/news"),
                   entry("100001", "Alder School"))
    assert feed.tag == f"{{{ATOM}}}feed"
    assert feed.findtext("a:id", namespaces=NS) == "tag:coventry.sch.uk,2026:schools-of-sanctuary/awarded"
    assert feed.findtext("a:updated", namespaces=NS) == "2027-09-06T10:30:00Z"  # its latest entry's
    assert feed.find("a:link[@rel='self']", NS).get("href") == \
        "https://sanctuary.example.org/awarded-schools.atom"
    hill, alder = feed.findall("a:entry", NS)
    assert hill.findtext("a:id", namespaces=NS) == \
        "tag:coventry.sch.uk,2027-07-10:schools-of-sanctuary/103712"
    assert hill.findtext("a:title", namespaces=NS) == "Hill Primary"
    assert hill.findtext("a:summary", namespaces=NS) == "We welcome everyone."
    assert "(Coventry)" in hill.findtext("a:content", namespaces=NS)
    assert hill.find("a:link", NS).attrib == {"rel": "alternate", "type": "text/html",
                                              "href": "https://hill.example.org/news"}
    assert hill.findtext("a:updated", namespaces=NS) == "2027-09-06T10:30:00Z"  # chose after the award
    # Alder chose nothing else: no summary, no link, content names it only
    assert alder.find("a:summary", NS) is None and alder.find("a:link", NS) is None
    assert alder.findtext("a:content", namespaces=NS) == \
        "Alder School holds the Schools of Sanctuary award, awarded on 10 July 2027."


def test_an_entry_is_updated_by_the_later_of_the_choice_and_the_award() -> None:
    early = dt.datetime(2027, 1, 5, 9, 0, tzinfo=dt.UTC)  # chose to share before the award came
    feed = feed_of(entry("103712", "Hill Primary", chosen_at=early))
    [e] = feed.findall("a:entry", NS)
    assert e.findtext("a:updated", namespaces=NS) == "2027-07-10T00:00:00Z"
    # the feed changes only when an entry does, not on every request
    assert feed.findtext("a:updated", namespaces=NS) == "2027-07-10T00:00:00Z"


def test_everything_in_the_feed_is_escaped_text() -> None:
    hostile = entry("103712", "Hill & <Dale> \"Primary\"", town="<script>alert(1)</script>",
                    statement="]]><evil/> & \x0b", link="https://hill.example.org/?a=1&b=2")
    body = atom_feed([hostile], PUBLISHER, AT)
    assert b"<script>" not in body and b"<evil/>" not in body and b"<Dale>" not in body
    [e] = ET.fromstring(body).findall("a:entry", NS)  # parses: well-formed
    assert e.findtext("a:title", namespaces=NS) == "Hill & <Dale> \"Primary\""
    assert e.findtext("a:summary", namespaces=NS) == "]]><evil/> & "  # what XML cannot carry is dropped
    assert e.find("a:link", NS).get("href") == "https://hill.example.org/?a=1&b=2"
    assert {x.get("type") for x in e.iter() if x.tag.endswith(("title", "summary", "content"))} == {"text"}


def test_an_empty_feed_is_still_a_valid_feed() -> None:
    feed = feed_of()
    assert feed.findall("a:entry", NS) == []
    assert feed.findtext("a:updated", namespaces=NS) == "2027-09-06T10:30:00Z"  # now: nothing else to go by
    assert feed.findtext("a:title", namespaces=NS) and feed.find("a:author/a:name", NS) is not None


def test_entry_ids_are_stable_per_school_and_award() -> None:
    assert entry_id(PUBLISHER, "103712", AWARDED) == entry_id(PUBLISHER, "103712", AWARDED)
    assert entry_id(PUBLISHER, "103712", AWARDED) != entry_id(PUBLISHER, "103712", dt.date(2030, 6, 20))
    assert entry_id(PUBLISHER, "103712", AWARDED) != entry_id(PUBLISHER, "100001", AWARDED)


def test_the_publisher_tags_with_a_domain_the_authority_owns(coventry) -> None:
    publisher = Publisher.of(coventry, "https://sanctuary.coventry.example/")
    assert publisher.name == "Coventry"
    assert publisher.tag_authority == "coventry.sch.uk"  # from its contact address (no website given)
    assert publisher.public_url == "https://sanctuary.coventry.example"
