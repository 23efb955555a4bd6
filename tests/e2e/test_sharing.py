"""Sharing the news, safely, over real HTTP: a school driven to an award through the real
services (the applications service records it; the pledges service learns it over the
bus), then the public list and its Atom feed show the school only once its own staff
choose, show exactly what they chose, and drop it when they stop. A school that opted
in without an award is not listed; another school's coordinator may not choose for it;
bad input is refused naming the field and changes nothing. No personal data ever
appears on the public routes."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from services.applications.accreditation import add_years
from tests.e2e.conftest import Api, E2ESystem, Person, rehearsal, wait_for
from tests.e2e.test_journey import (
    SPRING,
    YEAR,
    People,
    agree_clear,
    app_path,
    ensure_panel,
    pledge,
    refused,
    to_draft_assigned,
    today,
    visited_and_decided,
)

pytestmark = pytest.mark.e2e

URN = "630001"  # awarded; no other e2e test uses 6300xx
OTHER = "630002"  # pledged, never awarded
SHARING = f"/schools/{URN}/sharing"
ATOM = "{http://www.w3.org/2005/Atom}"
CHOICE = {"town": "Earlsdon, Coventry", "statement": "Everyone is welcome here.\nCome and see.",
          "link": "https://school-630001.example.org/news/sanctuary"}
# what the journey's helpers record about people at the school: never public
PERSONAL = ("Ann Coordinator", "ann@", "Cara Head", "Dee Deputy", "Ed Chair", "CV1 5FB",
            "coordinator.630001", "Coordinator of")


@pytest.fixture(scope="module")
def system(module_amqp_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    """On a rehearsal clock from 1 March 2027: submissions in time, then on to the visit's day."""
    yield from rehearsal(module_amqp_uri, tmp_path_factory, SPRING)


@pytest.fixture(scope="module")
def people(system: E2ESystem) -> People:
    def member(handle: str, name: str) -> Person:
        return system.add_account(f"{handle}@sharing.e2e.example.org", name, [{"role": "panel_member"}])
    return People(system, member("val", "Val Member"), member("wes", "Wes Member"),
                  member("xia", "Xia Member"), member("yan", "Yan Outsider"))


@pytest.fixture(scope="module")
def awarded(people: People) -> dict:
    """A short journey to an award: pledge, draft, draft panel, feedback, final, final
    panel, decision. Returns the award as the applications service recorded it."""
    lead, school, path = people.lead, people.school(URN), app_path(URN)
    to_draft_assigned(people, URN)
    agree_clear(people, URN, "draft", "award")
    lead.ok(lead.post(f"{path}/feedback/draft", {"summary": "A strong start"}))
    school.ok(school.post(f"{path}/submissions", {"stage": "final"}))
    ensure_panel(people, "final")
    lead.ok(lead.post(f"/cycles/{YEAR}/panels/final/assignments/{URN}"))
    agree_clear(people, URN, "final", "award")
    view = visited_and_decided(people, URN)
    assert view["stage"] == "awarded"
    assert view["award"] == {"awarded_on": today(people.system).isoformat(),
                             "expires_on": add_years(today(people.system), 3).isoformat()}

    def learnt() -> dict | None:  # the pledges service hears of it over the bus
        return school.ok(school.get(SHARING))["award"]
    assert wait_for(learnt, 30, "the pledges service to learn the award") == view["award"]
    return view["award"]


@pytest.fixture(scope="module")
def other(people: People) -> Api:
    """A second school, pledged and never awarded; its coordinator."""
    pledge(people, OTHER)
    return people.school(OTHER)


def public(system: E2ESystem) -> tuple[list[dict], ET.Element, str]:
    """The public list and the feed, as anyone reads them (no credential)."""
    anyone = Api(system, None)
    listed = anyone.ok(anyone.get("/awarded-schools"))["schools"]
    response = anyone.get("/awarded-schools.atom")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    return listed, ET.fromstring(response.content), response.text


def entries(feed: ET.Element) -> list[ET.Element]:
    return feed.findall(f"{ATOM}entry")


def assert_nothing_personal(*texts: str) -> None:
    for text in texts:
        for private in PERSONAL:
            assert private not in text, f"{private!r} is public"


def seen(system: E2ESystem) -> tuple[dict, list[dict], list[bytes]]:
    """The school's choice as its staff see it, the public list, and the feed's entries."""
    lead = Api(system)
    listed, feed, _ = public(system)
    return lead.ok(lead.get(SHARING)), listed, [ET.tostring(e) for e in entries(feed)]


@contextmanager
def nothing_changed(system: E2ESystem) -> Iterator[None]:
    """The pledges log does not move; the school's choice, the list and the feed read the same."""
    lead = Api(system)
    position = lead.pledges_position()
    before = seen(system)
    yield
    assert lead.pledges_position() == position, "a refused request stored an event"
    assert seen(system) == before


def test_an_awarded_school_is_public_only_by_its_own_choice(people: People, awarded: dict) -> None:
    system, school = people.system, people.school(URN)
    name = f"School {URN}"

    # awarded, but nothing public by default
    view = school.ok(school.get(SHARING))
    assert view == {"urn": URN, "sharing": False, "choice": None, "chosen_at": None,
                    "award": awarded, "listed": False, "public": None}
    listed, feed, text = public(system)
    assert listed == [] and entries(feed) == [] and name not in text

    # the school chooses: its name, town, statement and link
    view = school.ok(school.call("PUT", SHARING, json=CHOICE))
    shown = {"name": name, "awarded_on": awarded["awarded_on"], **CHOICE}
    assert (view["sharing"], view["listed"], view["choice"], view["public"]) == (True, True, CHOICE, shown)
    listed, feed, text = public(system)
    assert listed == [shown]
    [entry] = entries(feed)
    assert entry.findtext(f"{ATOM}title") == name
    assert entry.findtext(f"{ATOM}id").startswith("tag:") and entry.findtext(f"{ATOM}id").endswith(
        f":schools-of-sanctuary/{URN}")
    assert entry.findtext(f"{ATOM}summary") == CHOICE["statement"]
    assert CHOICE["town"] in entry.findtext(f"{ATOM}content")
    assert entry.find(f"{ATOM}link").get("href") == CHOICE["link"]
    chosen_at = dt.datetime.fromisoformat(view["chosen_at"]).astimezone(dt.UTC)
    assert entry.findtext(f"{ATOM}updated") == chosen_at.strftime("%Y-%m-%dT%H:%M:%SZ")  # after the award
    assert_nothing_personal(text, str(listed))

    # a narrower choice: exactly the fields chosen, nothing else
    view = school.ok(school.call("PUT", SHARING, json={"town": "Earlsdon, Coventry"}))
    assert view["public"] == {"name": name, "awarded_on": awarded["awarded_on"], "town": "Earlsdon, Coventry"}
    listed, feed, text = public(system)
    assert listed == [view["public"]]
    [entry] = entries(feed)
    assert entry.find(f"{ATOM}summary") is None and entry.find(f"{ATOM}link") is None
    assert CHOICE["statement"] not in text and CHOICE["link"] not in text
    view = school.ok(school.call("PUT", SHARING, json={}))  # the name alone
    assert public(system)[0] == [{"name": name, "awarded_on": awarded["awarded_on"]}]

    # withdrawal: gone from both at once; a second withdrawal is no error
    response = school.call("DELETE", SHARING)
    assert response.status_code == 204 and not response.content
    listed, feed, text = public(system)
    assert listed == [] and entries(feed) == [] and name not in text
    view = school.ok(school.get(SHARING))
    assert (view["sharing"], view["listed"], view["public"], view["award"]) == (False, False, None, awarded)
    assert school.call("DELETE", SHARING).status_code == 204

    events = [h["event"] for h in people.lead.history(URN)]
    assert events[-4:] == ["AwardShared", "AwardShared", "AwardShared", "AwardSharingStopped"]


def test_a_school_that_opted_in_without_an_award_is_not_listed(people: People, awarded: dict,
                                                                other: Api) -> None:
    school = people.school(URN)
    school.ok(school.call("PUT", SHARING, json={"town": "Earlsdon"}))  # the awarded school, for contrast
    try:
        view = other.ok(other.call("PUT", f"/schools/{OTHER}/sharing", json=CHOICE))
        assert (view["sharing"], view["award"], view["listed"], view["public"]) == (True, None, False, None)
        listed, feed, text = public(people.system)
        assert [s["name"] for s in listed] == [f"School {URN}"]
        assert [e.findtext(f"{ATOM}title") for e in entries(feed)] == [f"School {URN}"]
        assert f"School {OTHER}" not in text and CHOICE["statement"] not in text
    finally:
        assert other.call("DELETE", f"/schools/{OTHER}/sharing").status_code == 204
        assert school.call("DELETE", SHARING).status_code == 204


def test_only_the_schools_own_staff_may_choose(people: People, awarded: dict, other: Api) -> None:
    system = people.system
    with nothing_changed(system):
        refused(other.call("PUT", SHARING, json={"town": "Somewhere"}), 403, says="coordinators")
        refused(other.call("DELETE", SHARING), 403)
        refused(other.get(SHARING), 403)
        refused(people.api(people.m1).call("PUT", SHARING, json={}), 403)  # a panel member
        anyone = Api(system, None)
        assert anyone.call("PUT", SHARING, json={}).status_code == 401
        assert anyone.call("DELETE", SHARING).status_code == 401
        assert anyone.get(SHARING).status_code == 401
    # the lead is staff of every school (the SCHOOL_STAFF rule)
    lead = people.lead
    assert lead.ok(lead.call("PUT", SHARING, json={}))["listed"] is True
    assert lead.call("DELETE", SHARING).status_code == 204


@pytest.mark.parametrize(("body", "field"), [
    ({**CHOICE, "link": "http://school-630001.example.org/news"}, "link"),
    ({**CHOICE, "statement": "x" * 501}, "statement"),
    ({**CHOICE, "postcode": "CV1 5FB"}, "postcode"),
    ({"name": "Another name"}, "name"),
    ({"town": "Two\nlines"}, "town"),
    ({"coordinator": {"name": "Ann Coordinator", "email": "ann@630001.example.org"}}, "coordinator"),
])
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(people: People, awarded: dict,
                                                                    body: dict, field: str) -> None:
    school = people.school(URN)
    school.ok(school.call("PUT", SHARING, json={"town": "Earlsdon"}))
    try:
        with nothing_changed(people.system):
            refused(school.call("PUT", SHARING, json=body), 422, field)
        assert public(people.system)[0] == [{"name": f"School {URN}", "awarded_on": awarded["awarded_on"],
                                             "town": "Earlsdon"}]
    finally:
        assert school.call("DELETE", SHARING).status_code == 204


def test_the_routes_are_documented_with_who_may_use_them(people: People) -> None:
    paths = people.lead.ok(people.lead.get("/openapi.json"))["paths"]
    for method in ("get", "put", "delete"):
        assert paths["/schools/{urn}/sharing"][method]["security"] == [{"bearer": []}]
    assert "422" in paths["/schools/{urn}/sharing"]["put"]["responses"]
    assert paths["/awarded-schools"]["get"]["security"] == []
    assert paths["/awarded-schools.atom"]["get"]["security"] == []
