"""Appraisal panels by email, with a real store, the mail sink and a real accounts
application: members told when their panel convenes (or they join it after), when an
application is assigned to them and if they are taken off; reminded before the panel meets
while their part is unfinished; the lead told of each conflict declared and when every clear
member has judged. Members are named on the bus by account id only: their names and
addresses come from the accounts service when the email is sent.

News is fed as the applications service publishes it (payloads as services/applications/
contract.py makes them, pinned in tests/unit/test_panel_contract.py), through the real
consumer, in the orders RabbitMQ may deliver it (one queue per kind of news).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from services.notifications.sending import Unreachable
from shared.authority import Authority
from tests.components import Store
from tests.integration import ON_POSTGRES, mail_fixtures
from tests.integration.mail_fixtures import SinkProcess
from tests.integration.people import AccountsInProcess
from tests.integration.test_notifications import DUE, HILL, HILL_APP, OAK, OAK_APP, WHY, World, html, text

pytestmark = [pytest.mark.integration, ON_POSTGRES]  # see tests/integration/__init__.py
mail_sink = mail_fixtures.mail_sink  # the fixture, for pytest to find

PANEL = "7d1c9a52-0000-4000-8000-00000000d4a1"
HILL_APPRAISAL = "7d1c9a52-0000-4000-8000-0000000000a1"
OAK_APPRAISAL = "7d1c9a52-0000-4000-8000-0000000000a2"
MEETS = "2027-04-20"  # Coventry's draft panel, a Tuesday
CRITERIA = ["learn-1", "learn-2", "learn-3", "embed-1", "embed-2", "embed-3", "share-1", "share-2"]
PEOPLE = {"pat": ("Pat Panel", "pat@panel.example.org"), "quinn": ("Quinn Panel", "quinn@panel.example.org"),
          "ravi": ("Ravi Panel", "ravi@panel.example.org"), "sol": ("Sol Panel", "sol@panel.example.org")}
LEAD_EMAIL = "lena.lead@coventry.example.org"


class Panelled(World):
    """The world, with people in the accounts service and the panel's news to feed."""

    def __init__(self, store: Store, authority: Authority, sink: SinkProcess) -> None:
        super().__init__(store, authority, sink)
        self.people = AccountsInProcess(store)
        self.ids = {key: self.people.add(email, name, "panel_member")
                    for key, (name, email) in PEOPLE.items()}
        self.people.add(LEAD_EMAIL, "Lena Lead", "lead")

    def email(self, key: str) -> str:
        return PEOPLE[key][1]

    def panel(self, kind: str, **payload: object) -> dict:
        return self.feed("applications", kind, {"panel": PANEL, **payload})

    def formed(self) -> dict:
        return self.panel("PanelFormed", school_year="2026-27", stage="draft", meets_on=MEETS)

    def added(self, key: str, lived: bool = False) -> dict:
        return self.panel("PanelMemberAdded", account=self.ids[key], lived_experience=lived)

    def assigned(self, appraisal: str, app_id: str, urn: str, members: list[str]) -> dict:
        return self.feed("applications", "ApplicationAssigned", {
            "appraisal": appraisal, "panel": PANEL, "application": app_id, "urn": urn, "stage": "draft",
            "submission": 2, "members": [self.ids[k] for k in members], "criteria": CRITERIA})

    def declares(self, appraisal: str, key: str, conflicted: bool) -> dict:
        return self.feed("applications", "InterestsDeclared",
                         {"appraisal": appraisal, "member": self.ids[key], "conflicted": conflicted})

    def judges(self, appraisal: str, key: str, criteria: list[str] = CRITERIA) -> None:
        for criterion in criteria:
            self.feed("applications", "CriterionJudged",
                      {"appraisal": appraisal, "member": self.ids[key], "criterion": criterion})

    def close(self) -> None:
        super().close()
        self.people.stop()


@pytest.fixture
def world(store: Store, coventry: Authority, mail_sink: SinkProcess) -> Iterator[Panelled]:
    w = Panelled(store, coventry, mail_sink)
    w.register(HILL, "Hill Primary", "Ann Coordinator", "ann@hill.example.org")
    w.register(OAK, "Oak Academy", "Olu Coordinator", "olu@oak.example.org")
    w.start_application(HILL_APP, HILL, "Hill Primary", DUE)
    w.start_application(OAK_APP, OAK, "Oak Academy", DUE)
    w.send()
    w.new_mail()
    yield w
    w.close()


def convened(w: Panelled, members: tuple[str, ...] = ("pat", "quinn", "ravi")) -> None:
    w.formed()
    for key in members:
        w.added(key, lived=key == "pat")
    w.panel("PanelConvened")
    w.send()
    w.new_mail()


def test_members_are_told_once_when_their_panel_convenes_and_when_they_join_it_later(
        world: Panelled, coventry: Authority) -> None:
    world.formed()
    for key in ("pat", "quinn", "ravi"):
        world.added(key)
    assert world.send()["sent"] == 0  # not convened yet: nothing to tell
    body = world.panel("PanelConvened")
    assert world.send()["sent"] == 3
    mail = {m["To"]: m for m in world.new_mail()}
    assert set(mail) == {world.email(k) for k in ("pat", "quinn", "ravi")}
    pat = mail[world.email("pat")]
    assert pat["Subject"] == "You are on the draft appraisal panel for 2026-27"
    plain = text(pat)
    assert plain.startswith("Dear Pat Panel,\n\n")
    assert "which meets on Tuesday 20 April 2027" in plain
    assert "Your appraisals: http://127.0.0.1:8080/panel\n" in plain
    assert f"{WHY} you are a member of the draft appraisal panel for 2026-27." in plain
    assert "You cannot unsubscribe from this email: it is about your part in an appraisal panel." in plain
    assert "Dear Pat Panel," in html(pat) and pat["Reply-To"] == coventry.contact_email

    assert world.hear(body) is False  # redelivered
    world.panel("PanelConvened")  # the same news again, at a new position (a republish)
    assert world.send()["sent"] == 0
    world.added("sol")  # after convening: told at once
    assert world.send()["sent"] == 1
    [sol] = world.new_mail()
    assert (sol["To"], text(sol).split("\n")[0]) == (world.email("sol"), "Dear Sol Panel,")


def test_news_heard_before_the_panel_was_formed_waits_for_its_date(world: Panelled) -> None:
    world.added("pat")
    world.panel("PanelConvened")
    world.assigned(HILL_APPRAISAL, HILL_APP, HILL, ["pat"])
    assert world.send()["sent"] == 0  # no date to give yet
    world.formed()
    assert world.send()["sent"] == 2
    subjects = sorted(m["Subject"] for m in world.new_mail())
    assert subjects == ["Hill Primary's draft application is ready for you to appraise",
                        "You are on the draft appraisal panel for 2026-27"]


def test_each_member_is_told_of_an_assignment_with_a_link_to_the_appraisal(world: Panelled) -> None:
    convened(world)
    body = world.assigned(HILL_APPRAISAL, HILL_APP, HILL, ["pat", "quinn", "ravi"])
    assert world.send()["sent"] == 3
    mail = {m["To"]: m for m in world.new_mail()}
    assert set(mail) == {world.email(k) for k in ("pat", "quinn", "ravi")}
    for message in mail.values():
        assert message["Subject"] == "Hill Primary's draft application is ready for you to appraise"
        plain = text(message)
        assert "assigned to your panel, which meets on Tuesday 20 April 2027" in plain
        assert f"Start the appraisal: http://127.0.0.1:8080/panel/{HILL}/2026-27/draft\n" in plain
        assert "declare whether you have any tie to the school" in plain
    assert world.hear(body) is False
    assert world.send()["sent"] == 0


def test_the_lead_is_told_of_a_conflict_and_when_every_clear_member_has_judged(world: Panelled) -> None:
    convened(world)
    world.assigned(HILL_APPRAISAL, HILL_APP, HILL, ["pat", "quinn", "ravi"])
    world.send()
    world.new_mail()

    world.declares(HILL_APPRAISAL, "ravi", conflicted=True)
    assert world.send()["sent"] == 1
    [conflict] = world.new_mail()
    assert (conflict["To"], conflict["Subject"]) == (
        LEAD_EMAIL, "A panel member declared a conflict of interest with Hill Primary")
    plain = text(conflict)
    assert plain.startswith("Dear Lena Lead,\n\n")  # the lead by name, not the team
    assert "The panel: http://127.0.0.1:8080/lead/panels/2026-27/draft\n" in plain
    assert f"{WHY} you are the local lead for Schools of Sanctuary." in plain

    world.declares(HILL_APPRAISAL, "pat", conflicted=False)
    world.declares(HILL_APPRAISAL, "quinn", conflicted=False)
    world.judges(HILL_APPRAISAL, "pat")
    world.judges(HILL_APPRAISAL, "quinn", CRITERIA[:-1])
    assert world.send()["sent"] == 0  # Quinn has one criterion left
    world.judges(HILL_APPRAISAL, "quinn", CRITERIA[-1:])
    assert world.send()["sent"] == 1
    [done] = world.new_mail()
    assert (done["To"], done["Subject"]) == (
        LEAD_EMAIL, "Hill Primary's draft application: judging is complete")
    assert "Every member of the draft panel clear of any conflict (2) has judged" in text(done)
    assert f"The appraisal: http://127.0.0.1:8080/lead/applications/{HILL}/2026-27/appraisals/draft\n" \
        in text(done)
    world.judges(HILL_APPRAISAL, "quinn", CRITERIA[-1:])  # judged again (a change of mind)
    assert world.send()["sent"] == 0


def test_judging_heard_before_the_assignment_still_completes_once(world: Panelled) -> None:
    """The judgements' queue ran ahead of the assignments' queue."""
    convened(world, ("pat",))
    world.declares(HILL_APPRAISAL, "pat", conflicted=False)
    world.judges(HILL_APPRAISAL, "pat")
    assert world.send()["sent"] == 0
    world.assigned(HILL_APPRAISAL, HILL_APP, HILL, ["pat"])
    world.send()
    assert sorted((m["To"], m["Subject"]) for m in world.new_mail()) == [
        (LEAD_EMAIL, "Hill Primary's draft application: judging is complete"),
        (world.email("pat"), "Hill Primary's draft application is ready for you to appraise")]


def test_a_member_taken_off_is_told_only_if_they_were_told_they_were_on(world: Panelled) -> None:
    world.formed()
    world.added("sol")
    world.panel("PanelMemberRemoved", account=world.ids["sol"])  # before convening: never told
    convened(world)
    world.panel("PanelMemberRemoved", account=world.ids["ravi"])
    assert world.send()["sent"] == 1
    [gone] = world.new_mail()
    assert (gone["To"], gone["Subject"]) == (
        world.email("ravi"), "You are no longer on the draft appraisal panel for 2026-27")
    assert "You have nothing more to do for it." in text(gone)
    world.added("ravi")  # back again: told again, as a new membership
    assert world.send()["sent"] == 1
    assert [m["Subject"] for m in world.new_mail()] == ["You are on the draft appraisal panel for 2026-27"]


def test_members_with_unfinished_work_are_reminded_7_and_2_days_before_the_panel(world: Panelled) -> None:
    convened(world)
    world.assigned(HILL_APPRAISAL, HILL_APP, HILL, ["pat", "quinn", "ravi"])
    world.assigned(OAK_APPRAISAL, OAK_APP, OAK, ["pat", "quinn", "ravi"])
    world.declares(HILL_APPRAISAL, "pat", conflicted=False)
    world.judges(HILL_APPRAISAL, "pat")
    world.declares(OAK_APPRAISAL, "pat", conflicted=True)  # Pat is done
    world.declares(HILL_APPRAISAL, "quinn", conflicted=False)
    world.judges(HILL_APPRAISAL, "quinn", CRITERIA[:3])
    world.send()
    world.new_mail()

    arrived = {}
    for offset in range(0, 21):
        on = dt.date(2027, 4, 1) + dt.timedelta(days=offset)
        world.day(on)
        world.app.remind()
        assert world.app.remind() == 0
        world.send()
        fresh = sorted((m["To"], m["Subject"]) for m in world.new_mail() if m["To"] != LEAD_EMAIL)
        if fresh:
            arrived[on] = fresh
        if on == dt.date(2027, 4, 15):  # Ravi finishes between the two reminders
            for appraisal in (HILL_APPRAISAL, OAK_APPRAISAL):
                world.declares(appraisal, "ravi", conflicted=True)
    week, days = (f"The draft panel meets in {n} days: appraisals to finish" for n in (7, 2))
    assert arrived == {
        dt.date(2027, 4, 13): [(world.email("quinn"), week), (world.email("ravi"), week)],
        dt.date(2027, 4, 18): [(world.email("quinn"), days)],
    }
    [last] = [m for m in world.mail() if m["Subject"] == days]
    plain = text(last)
    assert plain.startswith("Dear Quinn Panel,")
    assert (f"- Hill Primary: 5 of 8 criteria still to judge. http://127.0.0.1:8080/panel/{HILL}/2026-27/"
            "draft") in plain
    assert "- Oak Academy: declare any conflict of interest, then judge each criterion." in plain


def test_a_closed_account_is_not_written_to_and_an_unreachable_accounts_service_is_retried(
        world: Panelled) -> None:
    world.formed()
    world.added("pat")
    world.added("quinn")
    world.people.close(world.ids["quinn"])
    world.panel("PanelConvened")
    people = world.people

    world.people = Down()
    assert world.send() == {"sent": 0, "failed": 0, "retrying": 2}
    world.people = people
    world.clock.advance(minutes=1)
    assert world.send() == {"sent": 1, "failed": 1, "retrying": 0}
    assert [m["To"] for m in world.new_mail()] == [world.email("pat")]
    [failed] = world.app.delivery_log(status="failed")
    assert failed["to"] == f"account:{world.ids['quinn']}"
    assert "closed or unknown" in failed["attempts"][-1]["error"]
    assert [a["error"][:40] for a in failed["attempts"]][0].startswith("cannot learn whom to write to")


class Down:
    """The accounts service, not answering."""

    def contacts(self, accounts: list[str] | None, role: str | None) -> list[dict]:
        raise Unreachable("the accounts service did not answer in 10 s")


def test_mail_for_the_lead_goes_to_each_lead_by_name(world: Panelled) -> None:
    world.people.add("sam.second@coventry.example.org", "Sam Second", "lead")
    world.feed("pledges", "PledgeSigned",
               {"urn": HILL, "signed_by": "Ms Head", "role": "Head teacher", "signed_on": "2026-09-10"})
    world.send()
    [lead] = [m for m in world.new_mail() if m["Subject"] == "Hill Primary has signed the pledge"]
    assert sorted(a.strip() for a in lead["To"].split(",")) == [LEAD_EMAIL, "sam.second@coventry.example.org"]
    assert text(lead).startswith("Dear Lena Lead and Sam Second,\n\n")


def test_a_member_who_joins_an_open_appraisal_is_told_and_counted_among_the_judges(
        world: Panelled) -> None:
    convened(world, ("pat",))
    world.assigned(HILL_APPRAISAL, HILL_APP, HILL, ["pat"])
    world.declares(HILL_APPRAISAL, "pat", conflicted=False)
    world.send()
    world.new_mail()
    world.feed("applications", "AppraisalMemberJoined",
               {"appraisal": HILL_APPRAISAL, "member": world.ids["sol"]})
    world.added("sol")  # the panel's own news of them, on its own queue
    world.judges(HILL_APPRAISAL, "pat")
    world.send()
    assert sorted((m["To"], m["Subject"]) for m in world.new_mail()) == [
        (world.email("sol"), "Hill Primary's draft application is ready for you to appraise"),
        (world.email("sol"), "You are on the draft appraisal panel for 2026-27")]  # Sol has not judged
    world.declares(HILL_APPRAISAL, "sol", conflicted=False)
    world.judges(HILL_APPRAISAL, "sol")
    world.send()
    assert [(m["To"], m["Subject"]) for m in world.new_mail()] == [
        (LEAD_EMAIL, "Hill Primary's draft application: judging is complete")]


def test_a_member_taken_off_before_finishing_is_no_longer_waited_for(world: Panelled) -> None:
    convened(world)
    world.assigned(HILL_APPRAISAL, HILL_APP, HILL, ["pat", "quinn", "ravi"])
    for key in ("pat", "quinn", "ravi"):
        world.declares(HILL_APPRAISAL, key, conflicted=False)
    world.judges(HILL_APPRAISAL, "pat")
    world.judges(HILL_APPRAISAL, "quinn")
    world.judges(HILL_APPRAISAL, "ravi", CRITERIA[:3])
    world.send()
    world.new_mail()
    world.panel("PanelMemberRemoved", account=world.ids["ravi"])
    assert world.send()["sent"] == 1  # Ravi is told; the appraisal still waits for Ravi's news
    world.new_mail()
    world.feed("applications", "AppraisalMemberLeft",
               {"appraisal": HILL_APPRAISAL, "member": world.ids["ravi"]})
    world.send()
    [done] = world.new_mail()
    assert (done["To"], done["Subject"]) == (
        LEAD_EMAIL, "Hill Primary's draft application: judging is complete")
    assert "Every member of the draft panel clear of any conflict (2) has judged" in text(done)
