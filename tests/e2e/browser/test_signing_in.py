"""Signing in and out in a browser, by the emailed link, and the pages everyone
shares: the start page, the accessibility statement, a page that does not exist."""

from __future__ import annotations

import pytest

from tests.e2e.browser.conftest import Visitor
from tests.e2e.conftest import E2ESystem, wait_for
from tests.e2e.test_access import link_in, sign_in_mail

pytestmark = pytest.mark.e2e
SHARES_SYSTEM = True  # its URNs and addresses are its own, and it takes no cycle-wide step


def emailed_link(system: E2ESystem, email: str, before: int) -> str:
    arrived = wait_for(lambda: sign_in_mail(system.mail_dir)[before:], 15, f"a sign-in email to {email}")
    assert [m["To"] for m in arrived] == [email]
    return link_in(arrived[0])


def test_a_panel_member_signs_in_by_the_emailed_link_and_out_again(system: E2ESystem, visit) -> None:
    member = system.add_account("pat.panel@e2e.example.org", "Pat Panel", [{"role": "panel_member"}],
                                token_label=None)
    person: Visitor = visit()
    person.open("/")
    assert person.heading() == "Schools of Sanctuary"
    person.click("Sign in")
    person.click("Email me a sign-in link", label="sign in, nothing entered")
    assert person.error_summary() == ["Enter your email address"]
    person.fill("Email address", "not an address")
    person.click("Email me a sign-in link", label="sign in, malformed address")
    assert person.error_summary() == [
        "Enter an email address in the correct format, like name@example.org"]

    before = len(sign_in_mail(system.mail_dir))
    person.fill("Email address", member.email)
    person.click("Email me a sign-in link")
    assert person.heading() == "Check your email"
    link = emailed_link(system, member.email, before)

    person.open(f"/sign-in?link={link}")
    assert person.heading() == "Continue signing in"
    person.click("Sign in", label="signed in")
    assert person.page.url.endswith("/panel")
    assert "You are signed in as Pat Panel." in person.text()

    again: Visitor = visit()  # the same link a second time: used already
    again.open(f"/sign-in?link={link}")
    again.click("Sign in", label="link used twice")
    assert "expired or has been used" in again.error_summary()[0]

    session = next(c["value"] for c in person.context.cookies() if c["name"] == "sanctuary_session")
    person.click("Sign out")
    assert person.page.url == system.base_url + "/"
    assert "You have signed out." in person.text()
    person.open("/panel")
    assert person.heading() == "Sign in"  # the session cookie is gone
    copied: Visitor = visit()  # and a copy of it no longer works: the session ended on the server
    copied.context.add_cookies([{"name": "sanctuary_session", "value": session, "url": system.base_url}])
    copied.open("/panel")
    assert copied.heading() == "Sign in"


def test_a_page_needs_signing_in_and_returns_there_after(system: E2ESystem, visit) -> None:
    person: Visitor = visit()
    person.open("/lead/emails")
    assert person.heading() == "Sign in"
    assert person.page.locator("input[name=next]").input_value() == "/lead/emails"


def test_the_shared_pages(system: E2ESystem, visit) -> None:
    person: Visitor = visit("phone")
    person.open("/accessibility")
    assert person.heading() == "Accessibility statement"
    response = person.page.goto(system.base_url + "/no/such/page")
    assert response.status == 404
    person.checked("page not found")
    assert person.heading() == "Page not found"
    assert person.page.locator("script").count() == 0  # nothing on any page needs JavaScript


def test_signing_out_everywhere_says_which_api_tokens_still_work(system: E2ESystem, visit) -> None:
    member = system.add_account("sid.everywhere@e2e.example.org", "Sid Everywhere",
                                [{"role": "panel_member"}], token_label="nightly export")
    person: Visitor = visit().sign_in_as(member)
    person.open("/panel")
    person.click("Sign out everywhere")
    assert person.heading() == "Sign out everywhere"
    assert "nightly export" in person.text()
    person.click("Sign out everywhere", label="signed out everywhere")
    assert person.heading() == "You have signed out everywhere"
    assert "nightly export" in person.text() and "DELETE /me/tokens/" in person.text()
    person.open("/panel")
    assert person.heading() == "Sign in"


def test_pages_forbid_framing_and_scripts(system: E2ESystem, visit) -> None:
    person: Visitor = visit()
    response = person.page.goto(system.base_url + "/sign-in")
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "'unsafe-inline'" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
