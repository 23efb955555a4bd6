"""Messages from the lead to a group, with a real store, the mail sink and a real accounts
application: each group reaches exactly whom the preview shows; each person gets one email
saying why; the same message sent twice goes once; each school keeps the messages it got.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.authority import Authority
from shared.errors import Conflict, Invalid
from tests.components import Store
from tests.integration import ON_POSTGRES, mail_fixtures
from tests.integration.mail_fixtures import SinkProcess
from tests.integration.people import AccountsInProcess
from tests.integration.test_notifications import ANN, HILL, OAK, OLU, WHY, World, text

pytestmark = [pytest.mark.integration, ON_POSTGRES]  # see tests/integration/__init__.py
mail_sink = mail_fixtures.mail_sink  # the fixture, for pytest to find

PANEL = "7d1c9a52-0000-4000-8000-00000000d4a9"


@pytest.fixture
def world(store: Store, coventry: Authority, mail_sink: SinkProcess) -> Iterator[World]:
    w = World(store, coventry, mail_sink)
    w.people = AccountsInProcess(store)
    w.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    w.register(OAK, "Oak Academy", "Olu Coordinator", OLU)
    w.list_network_meetings()
    w.book("b-1", "network-meeting-1", "Tess Teacher", "tess@hill.example.org")
    w.book("b-2", "network-meeting-1", "Will Waiting", "will@oak.example.org", urn=OAK, waiting=True)
    w.send()
    w.new_mail()
    yield w
    w.close()
    w.people.stop()


def test_every_coordinator_gets_the_message_once_and_each_school_keeps_it(world: World) -> None:
    group = {"kind": "coordinators"}
    preview = world.app.audience(group)
    assert preview["label"] == "every school's coordinator"
    assert [(r["name"], r["email"], r["school"]) for r in preview["recipients"]] == [
        ("Ann Coordinator", ANN, "Hill Primary"), ("Olu Coordinator", OLU, "Oak Academy")]

    sent = world.app.send_message("account:lead", "m-0001-abcd", group, "Refugee Week", "Plans, please.")
    assert (sent["count"], sent["schools"]) == (2, [HILL, OAK])
    with pytest.raises(Conflict):  # the page's form sent twice
        world.app.send_message("account:lead", "m-0001-abcd", group, "Refugee Week", "Plans, please.")
    assert world.send()["sent"] == 2
    mail = {m["To"]: m for m in world.new_mail()}
    assert set(mail) == {ANN, OLU}
    body = text(mail[ANN])
    assert mail[ANN]["Subject"] == "Refugee Week"
    assert body.startswith("Dear Ann Coordinator,\n\nPlans, please.\n")
    assert f"{WHY} you are your school's Schools of Sanctuary coordinator." in body
    assert ("You cannot unsubscribe from this email: it is a message from your local lead to every "
            "school's coordinator.") in body
    assert [m["subject"] for m in world.app.messages(HILL)] == ["Refugee Week"]
    assert [e["status"] for e in world.app.delivery_log(kind="lead-message")] == ["sent", "sent"]


def test_the_schools_chosen_the_people_booked_and_a_panel(world: World) -> None:
    schools = {"kind": "schools", "urns": [OAK], "label": "schools late for a deadline (2026-27)"}
    world.app.send_message("account:lead", "m-0002-abcd", schools, "Your draft", "It is late.")
    session = {"kind": "session", "session": "network-meeting-1"}
    assert [r["name"] for r in world.app.audience(session)["recipients"]] == ["Tess Teacher"]  # not waiting
    world.app.send_message("account:lead", "m-0003-abcd", session, "Room change", "Room 5 now.")
    pat = world.people.add("pat@panel.example.org", "Pat Panel", "panel_member")
    world.feed("applications", "PanelFormed", {"panel": PANEL, "school_year": "2026-27", "stage": "draft",
                                               "meets_on": "2027-04-20"})
    world.feed("applications", "PanelMemberAdded", {"panel": PANEL, "account": pat, "lived_experience": True})
    panel = {"kind": "panel", "school_year": "2026-27", "stage": "draft"}
    assert [r["account"] for r in world.app.audience(panel)["recipients"]] == [pat]
    world.app.send_message("account:lead", "m-0004-abcd", panel, "Training", "Before we meet.")
    world.send()
    got = sorted((m["To"], m["Subject"]) for m in world.new_mail())
    assert got == [(OLU, "Your draft"), ("pat@panel.example.org", "Training"),
                   ("tess@hill.example.org", "Room change")]
    assert [m["subject"] for m in world.app.messages(OAK)] == ["Your draft"]
    assert [m["subject"] for m in world.app.messages(HILL)] == ["Room change"]  # Tess is Hill's


def test_a_group_with_nobody_in_it_is_refused_naming_the_group(world: World) -> None:
    with pytest.raises(Invalid) as refused:
        world.app.send_message("account:lead", "m-0005-abcd", {"kind": "schools", "urns": ["999999"]},
                               "Hello", "Anyone?")
    assert "group" in refused.value.fields
    assert world.app.messages() == []
