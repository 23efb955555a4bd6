"""Following a link from an email in a browser, as the person it was sent to: the email read
from the system's mail sink, its link opened as it stands in the text, and, for someone not
signed in, the sign-in by emailed link that must bring them back to the page it named."""

from __future__ import annotations

import re
from email.message import EmailMessage

from sanctuary.mail_sink import read_folder
from tests.e2e.browser.conftest import Visitor
from tests.e2e.conftest import E2ESystem, wait_for
from tests.e2e.mailbox import MAIL_TIMEOUT, plain, subject
from tests.e2e.test_access import sign_in_mail


def emailed(system: E2ESystem, title: str, to: str | None = None) -> EmailMessage:
    """The one email with that subject (to ``to``, if given), once it has arrived."""
    def found() -> list[EmailMessage]:
        return [m for m in read_folder(system.mail_dir) if subject(m) == title
                and (to is None or to in [a.strip() for a in str(m["To"]).split(",")])]
    [message] = wait_for(found, MAIL_TIMEOUT, f"{title!r} to {to or 'anyone'}")
    return message


def opens(person: Visitor, message: EmailMessage, label: str) -> str:
    """Open the link after ``label:`` in the email, as a mail program would hand it over;
    returns the link."""
    found = re.search(rf"{re.escape(label)}: (\S+)", plain(message))
    assert found, f"no {label!r} link in:\n{plain(message)}"
    person.page.goto(found.group(1))
    person.checked(f"opened from an email: {label}")
    return found.group(1)


def signs_in_by_email(person: Visitor, system: E2ESystem, email: str) -> None:
    """On the sign-in page a link led them to: ask for a sign-in link, open it from that
    email in the same browser, and continue."""
    assert person.heading() == "Sign in"
    before = len(sign_in_mail(system.mail_dir))
    person.fill("Email address", email)
    person.click("Email me a sign-in link", label="sign-in link asked for")
    assert person.heading() == "Check your email"
    arrived = wait_for(lambda: [m for m in sign_in_mail(system.mail_dir)[before:] if m["To"] == email],
                       MAIL_TIMEOUT, f"a sign-in email to {email}")
    link = re.search(r"(\S+/sign-in\?link=\S+)", plain(arrived[-1]))
    assert link, plain(arrived[-1])
    person.page.goto(link.group(1))
    person.checked("continue signing in")
    assert person.heading() == "Continue signing in"
    person.click("Sign in", label="signed in, back where the email pointed")
