"""The local lead's people and schools in a browser, and a school asking to join.

The lead invites a panel member (with the lived-experience flag) and a coordinator,
each emailed who invited them, for what and how to sign in; changes a role; closes
an account after confirming, and cannot close their own. The lead registers a
school and its coordinator in one form (and, when the invitation fails, sees the
school registered and can try the invitation alone). A school asks to join on the
public page; the lead declines one request and accepts another; each person is told
by email, and the new coordinator signs in by the emailed link. Every refused form
changes nothing (the services' positions stay put), and no page is wider than a
390 px phone.
"""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
from playwright.sync_api import Browser

from sanctuary.mail_sink import read_folder
from tests.e2e.browser.conftest import WIDTHS, Visitor
from tests.e2e.browser.test_signing_in import emailed_link
from tests.e2e.conftest import Api, E2ESystem, wait_for
from tests.e2e.test_access import sign_in_mail

pytestmark = pytest.mark.e2e

INVITED = "You are invited to Coventry Schools of Sanctuary"
LEAD_TOLD = "A school has asked to join Schools of Sanctuary"
SCHOOL_URN, FAILED_URN, JOIN_URN, DECLINED_URN = "670001", "670002", "670003", "670004"
PEOPLE_URN = "670009"  # the school of the coordinators invited on the people pages
PAGES_SEEN: set[str] = set()  # every path of this module's pages, checked at phone width at the end


def position(system: E2ESystem, service: str) -> int:
    return Api(system).health()[service]["position"]


def mail_to(system: E2ESystem, email: str, subject: str, timeout: float = 20.0) -> EmailMessage:
    """The one message to ``email`` with ``subject``, once it has arrived in the sink."""
    def arrived() -> list[EmailMessage]:
        return [m for m in read_folder(system.mail_dir) if m["To"] == email and m["Subject"] == subject]
    found = wait_for(arrived, timeout, f"{subject!r} to {email}")
    assert len(found) == 1, [m["Subject"] for m in found]
    return found[0]


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def account_named(system: E2ESystem, name: str) -> dict:
    accounts = Api(system).ok(Api(system).get("/accounts"))["accounts"]
    return next(a for a in accounts if a["name"] == name)


def seen(visitor: Visitor) -> None:
    PAGES_SEEN.add(visitor.page.url.removeprefix(visitor.system.base_url))


# -- people ---------------------------------------------------------------------------------


def test_the_lead_invites_a_panel_member_and_a_coordinator(system: E2ESystem, visit) -> None:
    lead: Visitor = visit().sign_in_as(system.lead)
    lead.open("/lead")
    lead.click("People")
    assert lead.heading() == "People" and "Lee Lead (e2e) (you)" in lead.text()
    seen(lead)
    lead.click("Invite someone")
    seen(lead)
    before = position(system, "accounts")
    lead.click("Send the invitation", label="invitation refused, nothing entered")
    assert lead.error_summary() == ["Enter their full name", "Enter their email address", "Select a role"]
    lead.fill("Full name", "Pat Panel")
    lead.fill("Email address", "pat.panel@people.e2e.example.org")
    lead.choose("Panel member")
    lead.click("Send the invitation", label="invitation refused, no lived experience answer")
    assert lead.error_summary() == ["Say whether they have lived experience of seeking sanctuary"]
    assert lead.page.get_by_label("Full name").input_value() == "Pat Panel"
    assert position(system, "accounts") == before  # refused: nothing stored

    lead.choose("Yes")
    lead.click("Send the invitation")
    assert lead.heading() == "Pat Panel"
    assert "Pat Panel is invited. We have emailed them how to sign in." in lead.text()
    seen(lead)
    pat = account_named(system, "Pat Panel")
    assert (pat["grants"], pat["lived_experience"]) == ([{"role": "panel_member", "urn": None}], True)
    text = text_of(mail_to(system, "pat.panel@people.e2e.example.org", INVITED))
    assert "Lee Lead (e2e) has invited you to Coventry Schools of Sanctuary as a member of the " \
           "appraisal panel" in text
    assert "/sign-in and enter this email address" in text and "link=" not in text  # no secret in it

    lead.open("/lead/people/invite")
    lead.fill("Full name", "Cora Coordinator")
    lead.fill("Email address", "cora@people.e2e.example.org")
    lead.choose("Coordinator of a school")
    lead.fill("School URN (for a coordinator)", "67001")
    lead.click("Send the invitation", label="invitation refused, short URN")
    assert lead.error_summary() == ["A URN is exactly 6 digits"]
    lead.fill("School URN (for a coordinator)", PEOPLE_URN)
    lead.click("Send the invitation")
    assert "Cora Coordinator is invited." in lead.text()
    text = text_of(mail_to(system, "cora@people.e2e.example.org", INVITED))
    assert f"as Schools of Sanctuary coordinator for the school with URN {PEOPLE_URN}" in text

    lead.click("People")
    assert "Panel member, with lived experience of seeking sanctuary" in lead.text()
    assert f"Coordinator of URN {PEOPLE_URN}" in lead.text()


def test_the_lead_changes_a_role_and_corrects_the_flag(system: E2ESystem, visit) -> None:
    person = system.add_account("rory@people.e2e.example.org", "Rory Roles",
                                [{"role": "coordinator", "urn": PEOPLE_URN}], token_label=None)
    lead: Visitor = visit().sign_in_as(system.lead)
    lead.open(f"/lead/people/{person.id}")
    before = position(system, "accounts")
    lead.choose("Coordinator of a school")
    lead.click("Give the role", label="role refused, no URN")
    assert lead.error_summary() == ["Enter the school's 6-digit URN"]
    lead.choose("Coordinator of a school")
    lead.fill("School URN (for a coordinator)", PEOPLE_URN)
    lead.click("Give the role", label="role refused, held already")
    assert lead.error_summary() == ["The account already has that role."]
    assert position(system, "accounts") == before

    lead.choose("Panel member")
    lead.click("Give the role")
    assert "Role given: Panel member." in lead.text()
    lead.click(f"Remove the role Coordinator of URN {PEOPLE_URN}")
    assert f"Role removed: Coordinator of URN {PEOPLE_URN}." in lead.text()
    lead.choose("No")
    lead.click("Save")
    assert "Lived experience recorded." in lead.text()
    view = Api(system).ok(Api(system).get(f"/accounts/{person.id}"))
    assert (view["grants"], view["lived_experience"]) == ([{"role": "panel_member", "urn": None}], False)


def test_the_lead_closes_an_account_after_confirming_but_never_their_own(system: E2ESystem, visit) -> None:
    olly = system.add_account("olly@people.e2e.example.org", "Olly Operator", [{"role": "operator"}],
                              token_label=None)
    lead: Visitor = visit("phone").sign_in_as(system.lead)
    lead.open(f"/lead/people/{olly.id}")
    lead.click("Close this account")
    assert lead.heading() == "Are you sure you want to close Olly Operator's account?"
    seen(lead)
    lead.click("No, keep it")
    assert Api(system).ok(Api(system).get(f"/accounts/{olly.id}"))["closed"] is False
    lead.click("Close this account")
    lead.click("Yes, close the account")
    assert lead.heading() == "People"
    assert "Olly Operator's account is closed. They can no longer sign in." in lead.text()
    assert Api(system).ok(Api(system).get(f"/accounts/{olly.id}"))["closed"] is True

    me = system.lead.id
    lead.open(f"/lead/people/{me}", label="your own account")
    assert "You cannot close your own account. Another lead can." in lead.text()
    assert lead.page.get_by_role("button", name="Close this account").count() == 0
    before = position(system, "accounts")
    lead.open(f"/lead/people/{me}/closure", label="closing your own account")  # typed in
    lead.click("Yes, close the account", label="closing your own account refused")
    assert lead.error_summary() == ["You cannot close your own account: ask another lead."]
    assert position(system, "accounts") == before
    assert Api(system).ok(Api(system).get("/me"))["closed"] is False


# -- schools ----------------------------------------------------------------------------------


def fill_school(lead: Visitor, urn: str, name: str, coordinator: str, email: str) -> None:
    lead.fill("URN", urn)
    lead.fill("School name", name)
    lead.choose("Primary")
    lead.fill("Postcode", "cv1 2ab")
    lead.fill("Coordinator's full name", coordinator)
    lead.fill("Coordinator's email address", email)


def test_the_lead_registers_a_school_and_its_coordinator_in_one_form(system: E2ESystem, visit) -> None:
    lead: Visitor = visit().sign_in_as(system.lead)
    lead.open("/lead/schools")
    seen(lead)
    lead.click("Register a school")
    seen(lead)
    before = position(system, "pledges"), position(system, "accounts")
    lead.click("Register the school and invite the coordinator", label="registration refused, empty")
    assert lead.error_summary() == [
        "Enter the school's 6-digit URN", "Enter the school's name", "Select the school's phase",
        "Enter the school's postcode", "Enter the coordinator's full name",
        "Enter the coordinator's email address"]
    assert (position(system, "pledges"), position(system, "accounts")) == before

    fill_school(lead, SCHOOL_URN, "Linden Primary", "Lin Coordinator", "lin@people.e2e.example.org")
    lead.click("Register the school and invite the coordinator")
    assert lead.heading() == "Linden Primary"
    assert "Linden Primary is registered and Lin Coordinator is invited as its coordinator." in lead.text()
    assert "Can sign in as the school's coordinator: Lin Coordinator." in lead.text()
    seen(lead)
    school = Api(system).ok(Api(system).get(f"/schools/{SCHOOL_URN}"))
    assert (school["postcode"], school["coordinator"]["email"]) == ("CV1 2AB", "lin@people.e2e.example.org")
    assert f"URN {SCHOOL_URN}" in text_of(mail_to(system, "lin@people.e2e.example.org", INVITED))

    # the school's page: emails sent to it arrive on the notifications service's schedule
    mail_to(system, "lin@people.e2e.example.org", "Linden Primary is registered for Schools of Sanctuary")
    lead.open(f"/lead/schools/{SCHOOL_URN}", label="school page with its email")
    text = lead.text()
    assert "Linden Primary is registered for Schools of Sanctuary" in text
    assert "No applications yet." in text and "Registered" in text and "by Lee Lead (e2e)" in text

    before = position(system, "pledges"), position(system, "accounts")
    lead.open("/lead/schools/new")
    fill_school(lead, SCHOOL_URN, "Linden Again", "Someone", "someone@people.e2e.example.org")
    lead.click("Register the school and invite the coordinator", label="registration refused, URN taken")
    assert lead.error_summary() == [f"A school with URN {SCHOOL_URN} is already registered."]
    assert (position(system, "pledges"), position(system, "accounts")) == before


def test_when_the_invitation_fails_the_school_stays_registered_and_it_can_be_tried_again(
        system: E2ESystem, visit) -> None:
    gone = system.add_account("gone@people.e2e.example.org", "Gwen Gone", [], token_label=None)
    Api(system).ok(Api(system).post(f"/accounts/{gone.id}/closure"))
    lead: Visitor = visit().sign_in_as(system.lead)
    lead.open("/lead/schools/new")
    fill_school(lead, FAILED_URN, "Rowan Primary", "Gwen Gone", "gone@people.e2e.example.org")
    lead.click("Register the school and invite the coordinator", label="registered, invitation failed")
    [error] = lead.error_summary()
    assert error.startswith("Rowan Primary is registered, but its coordinator was not invited: "
                            "The account of gone@people.e2e.example.org is closed.")
    assert Api(system).get(f"/schools/{FAILED_URN}").status_code == 200
    before = position(system, "pledges")
    lead.click("Invite Gwen Gone as coordinator", label="invitation tried again")
    assert lead.error_summary()[0].startswith("The coordinator was not invited: The account of")
    assert position(system, "pledges") == before  # only the invitation was tried again


# -- a school asks to join ----------------------------------------------------------------------


def ask_to_join(system: E2ESystem, visit, urn: str, school: str, name: str, email: str) -> None:
    person: Visitor = visit("phone")
    person.open("/")
    person.click("ask for your school to join")
    assert person.heading() == "Ask for your school to join"
    seen(person)
    before = position(system, "pledges")
    person.click("Send the request", label="join refused, nothing entered")
    assert person.error_summary() == [
        "Enter the school's name", "Enter the school's 6-digit URN", "Select the school's phase",
        "Enter the school's postcode", "Enter your full name", "Enter your role in the school",
        "Enter your email address"]
    person.fill("School name", school)
    person.fill("URN", urn)
    person.choose("Primary")
    person.fill("Postcode", "CV3 4XY")
    person.fill("Full name", name)
    person.fill("Your role in the school", "Deputy head")
    person.fill("Email address", "not an address")
    person.click("Send the request", label="join refused, bad address")
    assert person.error_summary() == ["Enter an email address in the correct format, like name@example.org"]
    assert person.page.get_by_label("School name").input_value() == school
    assert position(system, "pledges") == before
    person.fill("Email address", email)
    person.click("Send the request")
    assert person.heading() == "Request sent" and f"{school} has asked to join" in person.text()
    seen(person)
    assert Api(system).get(f"/schools/{urn}").status_code == 404  # nothing registered yet


def test_a_school_asks_to_join_the_lead_accepts_and_the_coordinator_signs_in(system: E2ESystem,
                                                                               visit) -> None:
    ask_to_join(system, visit, DECLINED_URN, "Birch Academy", "Bea Birch", "bea@birch.e2e.example.org")
    ask_to_join(system, visit, JOIN_URN, "Hazel Primary", "Hana Hazel", "hana@hazel.e2e.example.org")
    wait_for(lambda: len([m for m in read_folder(system.mail_dir) if m["Subject"] == LEAD_TOLD]) == 2, 20,
             "the lead told of both requests")

    lead: Visitor = visit().sign_in_as(system.lead)
    lead.open("/lead/schools")
    lead.click("Requests to join")
    assert "Hazel Primary" in lead.text() and "Birch Academy" in lead.text()
    seen(lead)

    lead.click("Accept or decline the request from Birch Academy")
    assert lead.heading() == "Birch Academy"
    seen(lead)
    before = position(system, "pledges")
    lead.click("Decline the request", label="decline refused, no reason")
    assert lead.error_summary() == ["Enter the reason, which the person is told"]
    assert position(system, "pledges") == before
    lead.fill("Why the request is declined", "Birch Academy is outside Coventry.")
    lead.click("Decline the request")
    assert "The request from Birch Academy is declined. Bea Birch is told why by email." in lead.text()
    declined = text_of(mail_to(system, "bea@birch.e2e.example.org",
                               "Your request for Birch Academy to join Schools of Sanctuary"))
    assert "The reason: Birch Academy is outside Coventry." in declined
    assert Api(system).get(f"/schools/{DECLINED_URN}").status_code == 404

    lead.click("Accept or decline the request from Hazel Primary")
    lead.click("Accept and invite the coordinator")
    assert lead.heading() == "Hazel Primary"
    assert "Hazel Primary is registered and Hana Hazel is invited as its coordinator." in lead.text()
    school = Api(system).ok(Api(system).get(f"/schools/{JOIN_URN}"))
    assert school["coordinator"] == {"name": "Hana Hazel", "email": "hana@hazel.e2e.example.org",
                                     "role": "Deputy head"}
    mail_to(system, "hana@hazel.e2e.example.org", "Hazel Primary has joined Coventry Schools of Sanctuary")
    invitation = text_of(mail_to(system, "hana@hazel.e2e.example.org", INVITED))
    assert f"coordinator for the school with URN {JOIN_URN}" in invitation

    # the new coordinator follows the invitation: the sign-in page, then the emailed link
    coordinator: Visitor = visit("phone")
    coordinator.open("/sign-in")
    before_links = len(sign_in_mail(system.mail_dir))
    coordinator.fill("Email address", "hana@hazel.e2e.example.org")
    coordinator.click("Email me a sign-in link")
    link = emailed_link(system, "hana@hazel.e2e.example.org", before_links)
    coordinator.open(f"/sign-in?link={link}")
    coordinator.click("Sign in", label="the new coordinator signs in")
    assert coordinator.page.url.endswith(f"/school/{JOIN_URN}")
    assert "You are signed in as Hana Hazel." in coordinator.text()


# -- phones ---------------------------------------------------------------------------------------


def test_no_page_is_wider_than_a_phone(system: E2ESystem, browser: Browser) -> None:
    """Every page this module reached, at 390 px with the stylesheets: nothing scrolls sideways."""
    kinds = {re.sub(r"/[0-9a-f]{32}|/\d{6}", "/<id>", path) for path in PAGES_SEEN}
    assert kinds == {"/join", "/lead/people", "/lead/people/invite", "/lead/people/<id>",
                     "/lead/people/<id>/closure", "/lead/schools", "/lead/schools/new", "/lead/schools/<id>",
                     "/lead/join-requests", "/lead/join-requests/<id>"}
    context = browser.new_context(viewport=WIDTHS["phone"])
    context.add_cookies([{"name": "sanctuary_session", "value": system.lead.token or "",
                          "url": system.base_url}])
    try:
        page = context.new_page()
        wide = {}
        for path in sorted(PAGES_SEEN):
            page.goto(system.base_url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > WIDTHS["phone"]["width"]:
                wide[path] = width
        assert wide == {}
    finally:
        context.close()
