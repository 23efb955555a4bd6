"""Schools asking to join, on a real store (SQLite and PostgreSQL): the pledges service
keeps the request private and registers the school when the lead accepts; the
notifications service tells the person, asking the pledges service for the address
(none travels on the bus). And the accounts rules the people pages rely on: an
invitation email that says who invited whom for what, the lived-experience flag,
never closing your own account, never leaving no lead."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from pathlib import Path

import pytest

from services.accounts.application import Accounts
from services.notifications.application import Notifications
from services.notifications.policies import react
from services.pledges.application import Pledges
from services.pledges.contract import PLEDGES
from shared.access import Principal
from shared.authority import Authority, load_authority
from shared.clock import FixedClock
from shared.consumer import consume
from shared.envelope import IntegrationEvent
from shared.errors import Conflict, Invalid, NotFound
from shared.mail import MailError
from shared.personal import subject_for_email
from tests.integration import ON_POSTGRES

pytestmark = [pytest.mark.integration, ON_POSTGRES]  # see tests/integration/__init__.py

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
ANN = "ann@hill.example.org"
ASK = {"urn": "103712", "school_name": "Hill Primary", "phase": "primary", "postcode": "CV1 2AB",
       "name": "Ann Asker", "role": "Deputy head", "email": ANN}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def pledges(store, coventry: Authority, clock: FixedClock) -> Pledges:
    app = Pledges(env=store.env("pledges"), rules=coventry.pledge, clock=clock)
    yield app
    app.close()


def ask(app: Pledges, **changes: object) -> str:
    app.ask_to_join(**{**ASK, **changes})
    return app.join_requests()[-1]["id"]


def test_a_request_is_kept_for_the_lead_and_accepting_registers_the_school(pledges: Pledges) -> None:
    assert pledges.ask_to_join(**ASK) == {"received_on": NOW.date()}
    [request] = pledges.join_requests("waiting")
    assert request["contact"] == {"name": "Ann Asker", "email": ANN, "role": "Deputy head"}
    assert (request["head_teacher"], request["registered"]) == (None, False)
    assert pledges.schools() == []  # nothing registered, nothing public, until accepted

    accepted = pledges.accept_join_request("account:lead", request["id"])
    assert (accepted["status"], accepted["decided_on"]) == ("accepted", NOW.date())
    assert accepted["registered"] is True
    school = pledges.school("103712")
    assert (school["name"], school["postcode"]) == ("Hill Primary", "CV1 2AB")
    assert school["coordinator"] == {"name": "Ann Asker", "email": ANN, "role": "Deputy head"}
    with pytest.raises(Conflict):
        pledges.accept_join_request("account:lead", request["id"])


def test_a_request_for_a_registered_school_is_refused_and_changes_nothing(pledges: Pledges) -> None:
    first, second = ask(pledges), ask(pledges, email="bo@hill.example.org", name="Bo")
    pledges.accept_join_request("account:lead", first)
    position = pledges.recorder.max_notification_id()
    with pytest.raises(Conflict, match="registered already"):
        pledges.accept_join_request("account:lead", second)
    assert pledges.recorder.max_notification_id() == position
    assert pledges.join_request(second)["status"] == "waiting"
    assert pledges.school("103712")["coordinator"]["email"] == ANN


def test_declining_keeps_the_reason_for_the_person(pledges: Pledges) -> None:
    request = ask(pledges)
    with pytest.raises(Invalid):
        pledges.decline_join_request("account:lead", request, "   ")
    declined = pledges.decline_join_request("account:lead", request, "Hill is outside Coventry")
    assert (declined["status"], declined["reason"]) == ("declined", "Hill is outside Coventry")
    assert pledges.join_request_notice(request) == {
        "name": "Ann Asker", "email": ANN, "school_name": "Hill Primary", "urn": "103712",
        "status": "declined", "reason": "Hill is outside Coventry"}
    with pytest.raises(NotFound):
        pledges.join_request(uuid.uuid4().hex)
    with pytest.raises(NotFound):
        pledges.join_request("not-an-id")


def test_the_person_s_details_are_erased_with_them_and_never_published(pledges: Pledges) -> None:
    request = ask(pledges)
    pledges.decline_join_request("account:lead", request, "Not this year, Ann")
    published = [PLEDGES.envelope(e, 1, "coventry") for e in pledges.events.get(uuid.UUID(hex=request))]
    assert [p.type for p in published] == ["JoinRequestReceived", "JoinRequestDeclined"]
    assert all(p.payload == {"request": request} for p in published)  # no name, address or reason
    pledges.erase_subject(subject_for_email(ANN))
    view = pledges.join_request(request)
    assert (view["contact"]["email"], view["reason"]) == ("[erased]", "[erased]")
    with pytest.raises(NotFound):
        pledges.join_request_notice(request)


def test_where_the_authority_needs_it_the_head_teacher_s_approval_is_recorded(store, clock) -> None:
    lancashire = load_authority(ROOT / "deploy" / "authorities" / "lancashire.toml")
    app = Pledges(env=store.env("pledges"), rules=lancashire.pledge, clock=clock)
    try:
        with pytest.raises(Invalid) as refused:
            app.ask_to_join(**ASK)
        assert set(refused.value.fields) == {"head_teacher", "head_approval"}
        assert app.join_requests() == []
        app.ask_to_join(**ASK, head_teacher="Hal Head", head_approval=True)
        assert app.join_requests()[0]["head_teacher"] == "Hal Head"
    finally:
        app.close()


# -- the person is told, at the address the pledges service gives -----------------------


class PledgesAsked:
    """The pledges service's client as the notifications service holds it."""

    def __init__(self, app: Pledges) -> None:
        self.app = app
        self.asked: list[str] = []

    def join_request_notice(self, request_id: str) -> dict:
        self.asked.append(request_id)
        return self.app.join_request_notice(request_id)


def test_the_person_is_told_either_way_and_the_lead_hears_of_each_request(
        store, coventry: Authority, pledges: Pledges, clock: FixedClock) -> None:
    notifications = Notifications(env=store.env("notifications"), authority=coventry,
                                  mail_from="S <no-reply@sanctuary.invalid>", mail_domain="sanctuary.invalid",
                                  clock=clock)
    asked = PledgesAsked(pledges)
    try:
        yes = ask(pledges)
        no = ask(pledges, urn="103713", school_name="Oak School", email="olu@oak.example.org", name="Olu")
        pledges.accept_join_request("account:lead", yes)
        pledges.decline_join_request("account:lead", no, "Oak is outside Coventry")
        for notification in pledges.recorder.select_notifications(start=1, limit=100):
            news = PLEDGES.envelope(pledges.mapper.to_domain_event(notification), notification.id, "coventry")
            if news is not None and news.type.startswith("JoinRequest"):
                consume(notifications, news.to_dict(), functools.partial(react, notifications, pledges=asked))
        sent = {(n["kind"], n["to"]): n["subject"] for n in notifications.delivery_log()}
        assert sent == {
            ("join-request-lead", coventry.contact_email): "A school has asked to join Schools of Sanctuary",
            ("join-request-accepted", ANN): "Hill Primary has joined Coventry Schools of Sanctuary",
            ("join-request-declined", "olu@oak.example.org"): "Your request for Oak School to join "
                                                               "Schools of Sanctuary"}
        assert sorted(asked.asked) == sorted([yes, no])
        with pytest.raises(RuntimeError):  # a reaction that must ask cannot go without
            react(notifications, IntegrationEvent(
                id=str(uuid.uuid4()), type="JoinRequestDeclined", schema_version=1, origin="pledges",
                position=999, occurred_at=NOW.isoformat(), authority="coventry", actor="x",
                payload={"request": no}))
    finally:
        notifications.close()


class ContactAsked:
    """The pledges service's client as the notifications service holds it, counting asks."""

    def __init__(self, app: Pledges) -> None:
        self.app = app
        self.asked: list[str] = []

    def coordinator_contact(self, urn: str) -> dict:
        self.asked.append(urn)
        return self.app.coordinator_contact(urn)


def test_the_coordinators_address_is_asked_of_the_pledges_service_not_told_by_the_bus(
        store, coventry: Authority, pledges: Pledges, clock: FixedClock) -> None:
    """SchoolRegistered and CoordinatorChanged (schema 2) carry no contact: the notifications
    service asks for it as it hears them, and after an erasure learns nobody."""
    notifications = Notifications(env=store.env("notifications"), authority=coventry,
                                  mail_from="S <no-reply@sanctuary.invalid>", mail_domain="sanctuary.invalid",
                                  clock=clock)
    asked = ContactAsked(pledges)
    try:
        pledges.register_school("account:lead", "103712", "Hill Primary", "primary", "CV1 2AB",
                                {"name": "Ann Coordinator", "email": ANN})
        pledges.change_coordinator("account:lead", "103712",
                                   {"name": "Bo New", "email": "bo@hill.example.org"})
        heard = []
        for notification in pledges.recorder.select_notifications(start=1, limit=100):
            news = PLEDGES.envelope(pledges.mapper.to_domain_event(notification), notification.id, "coventry")
            if news is not None:
                assert "example.org" not in str(news.payload) and news.schema_version == 2
                heard.append(news)
        registered, changed = heard
        consume(notifications, registered.to_dict(), functools.partial(react, notifications, pledges=asked))
        # asked now, so the registration email goes to whoever coordinates the school now
        assert [n["to"] for n in notifications.delivery_log()] == ["bo@hill.example.org"]
        pledges.erase_subject(subject_for_email("bo@hill.example.org"))
        consume(notifications, changed.to_dict(), functools.partial(react, notifications, pledges=asked))
        assert asked.asked == ["103712", "103712"]
        assert notifications.coordinator("103712") == ("Bo New", "bo@hill.example.org")  # unchanged
        with pytest.raises(NotFound):
            pledges.coordinator_contact("103712")
    finally:
        notifications.close()


# -- accounts: the invitation, the flag, and the lead who must remain ----------------------


@pytest.fixture
def invitations() -> list:
    return []


@pytest.fixture
def accounts(store, clock, invitations):
    def send(to: str, name: str, inviter: str, grants: list[dict]) -> None:
        if to.startswith("bounce"):
            raise MailError("550 no such mailbox", 550, permanent=True)
        invitations.append((to, name, inviter, grants))
    app = Accounts(env=store.env("accounts"), secret_key="k" * 40, clock=clock, send_invitation=send)
    yield app
    app.close()


@pytest.fixture
def lead(accounts) -> Principal:
    view = accounts.invite(None, "lead@example.org", "Lena Lead", [{"role": "lead"}], actor="system:cli")
    return Principal(view["id"], "Lena Lead", frozenset({("lead", None)}))


def test_an_invitation_says_who_invited_them_for_what(accounts, lead, invitations) -> None:
    assert invitations == []  # the operator's command line sends nothing
    pat = accounts.invite(lead, "pat@example.org", "Pat Panel", [{"role": "panel_member"}],
                          lived_experience=True)
    assert (pat["invitation_sent"], pat["lived_experience"]) == (True, True)
    assert invitations == [("pat@example.org", "Pat Panel", "Lena Lead",
                            [{"role": "panel_member", "urn": None}])]
    bounced = accounts.invite(lead, "bounce@example.org", "Bo", [{"role": "operator"}])
    assert bounced["invitation_sent"] is False and accounts.account(lead, bounced["id"])["closed"] is False


def test_the_lived_experience_flag_is_for_panel_members_and_can_be_corrected(accounts, lead) -> None:
    with pytest.raises(Invalid):
        accounts.invite(lead, "cora@school.org", "Cora", [{"role": "coordinator", "urn": "103712"}],
                        lived_experience=True)
    cora = accounts.invite(lead, "cora@school.org", "Cora", [{"role": "coordinator", "urn": "103712"}])
    assert cora["lived_experience"] is None
    with pytest.raises(Conflict):
        accounts.record_lived_experience(lead, cora["id"], True)
    pat = accounts.invite(lead, "pat@example.org", "Pat", [{"role": "panel_member"}], lived_experience=False)
    assert accounts.record_lived_experience(lead, pat["id"], True)["lived_experience"] is True
    accounts.erase_person(lead, [subject_for_email("pat@example.org")], "asked")
    assert accounts.account(lead, pat["id"])["lived_experience"] is None  # erased with the person


def test_nobody_closes_their_own_account_or_leaves_no_lead(accounts, lead) -> None:
    with pytest.raises(Conflict, match="your own account"):
        accounts.close_account(lead, lead.account)
    with pytest.raises(Conflict, match="last lead"):
        accounts.revoke(lead, lead.account, "lead")
    other = accounts.invite(lead, "leo@example.org", "Leo", [{"role": "lead"}])
    as_other = Principal(other["id"], "Leo", frozenset({("lead", None)}))
    accounts.revoke(lead, lead.account, "lead")  # another lead remains: allowed
    with pytest.raises(Conflict, match="last lead"):
        accounts.close_account(lead, other["id"])  # the caller's own role is gone already
    assert accounts.account(as_other, other["id"])["closed"] is False
    accounts.grant(as_other, lead.account, "lead")
    assert accounts.close_account(as_other, lead.account)["closed"] is True
