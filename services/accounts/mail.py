"""The sign-in and invitation emails. Sent by the accounts service itself: the sign-in
link's code is never put on the bus, and is stored only sealed while its email waits
(see link_seal.py), so no other service could send it. The invitation holds no secret:
it points to the sign-in page, where the person asks for a link to their own address."""

from __future__ import annotations

import html
import uuid

from services.accounts.application import InvitationSender, LinkSender
from shared.authority import Authority
from shared.config import Settings
from shared.mail import Email, Mailer, SmtpSettings, cannot_unsubscribe, make_message_id


def link_sender(settings: Settings, authority: Authority) -> LinkSender:
    mailer = Mailer(SmtpSettings.from_env())

    def send(to: str, name: str, code: str) -> None:
        mailer.send(sign_in_email(settings, authority, to, name, code))

    return send


def invitation_sender(settings: Settings, authority: Authority) -> InvitationSender:
    mailer = Mailer(SmtpSettings.from_env())

    def send(to: str, name: str, inviter: str, grants: list[dict]) -> None:
        mailer.send(invitation_email(settings, authority, to, name, inviter, grants))

    return send


def role_text(grant: dict) -> str:
    """A role as the invited person reads it."""
    if grant["role"] == "coordinator":
        return f"Schools of Sanctuary coordinator for the school with URN {grant['urn']}"
    return {"lead": "a local lead", "panel_member": "a member of the appraisal panel",
            "operator": "an operator of the service"}.get(grant["role"], grant["role"])


def invitation_email(settings: Settings, authority: Authority, to: str, name: str, inviter: str,
                     grants: list[dict]) -> Email:
    roles = " and ".join(role_text(g) for g in grants)
    url = f"{settings.public_url}/sign-in"
    text = (
        f"Hello {name},\n\n"
        f"{inviter} has invited you to {authority.name} Schools of Sanctuary as {roles}.\n\n"
        f"To sign in, go to {url} and enter this email address ({to}). We will email you a "
        "link that signs you in; there is no password to remember.\n\n"
        f"If you were not expecting this, write to {authority.contact_email}.\n\n"
        f"{authority.sign_off}\n"
    )
    body = html.escape(text).replace("\n", "<br>\n")
    return Email(
        to=(to,), subject=f"You are invited to {authority.name} Schools of Sanctuary",
        text=text, html=f"<p>{body}</p>", sender=settings.mail_from, reply_to=authority.contact_email,
        message_id=make_message_id(f"invitation/{uuid.uuid4()}", settings.mail_domain),
        headers={"Auto-Submitted": "auto-generated"}, kind="invitation",
    )


def sign_in_email(settings: Settings, authority: Authority, to: str, name: str, code: str) -> Email:
    url = f"{settings.public_url}/sign-in?link={code}"
    text = (
        f"Hello {name},\n\n"
        f"Here is your link to sign in to {authority.name} Schools of Sanctuary:\n\n{url}\n\n"
        "It works once, for the next 30 minutes. If a program asks for a code, it is:\n\n"
        f"{code}\n\n"
        "You are getting this email because someone asked to sign in with this address. "
        "If it was not you, you can ignore it: nobody can sign in without this link.\n"
        f"{cannot_unsubscribe('it is how you sign in, and it comes only when asked for')}\n\n"
        f"{authority.sign_off}\n"
    )
    body = html.escape(text).replace("\n", "<br>\n")
    return Email(
        to=(to,), subject=f"Your sign-in link for {authority.name} Schools of Sanctuary",
        text=text, html=f"<p>{body}</p>", sender=settings.mail_from, reply_to=authority.contact_email,
        # one Message-ID per link: a retried send is recognisably the same message
        message_id=make_message_id(f"sign-in/{code.rsplit('.', 1)[0]}", settings.mail_domain),
        headers={"Auto-Submitted": "auto-generated"}, kind="sign-in-link",
    )
