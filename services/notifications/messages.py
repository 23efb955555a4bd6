"""What each kind of email says, in plain English. Plain Python.

Every email says why the person is getting it, and whether they can stop it:
messages a process depends on (deadlines, feedback, decisions, places held, a
panel's work) always go, and say why they cannot be unsubscribed from; optional
ones (news of CPD sessions, reminders of a session booked) carry a one-click
unsubscribe. Dates and times are said as the pages say them ("Thursday 22
October 2026", "4pm to 5pm", UK time).

A draft is addressed to an email address the service was told, or to an account
("account:<id>") or the lead (``LEAD``), whose name and address the accounts
service gives when the email is sent: they never travel on the bus.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

from shared.authority import Authority
from shared.mail import cannot_unsubscribe

COORDINATOR = "you are your school's Schools of Sanctuary coordinator"
LEAD_REASON = "you are the local lead for Schools of Sanctuary"
LEAD = "role:lead"  # the recipient of mail for the lead: the lead accounts, when it is sent
BOOKED = "you are booked on this session"
WAITING = "you are on the waiting list for this session"
NEWSLETTER = "your school receives the Schools of Sanctuary newsletter"
REMINDED = "you are booked on this session and asked for reminders"

# why essential mail cannot be unsubscribed from
ABOUT_SCHOOL = "it is about your school's part in Schools of Sanctuary"
ABOUT_DEADLINE = "it is about a deadline your school must meet"
ABOUT_DECISION = "it is about your school's application and what the panel decided"
ABOUT_PLACE = "it is about a place you hold, or were offered, on a session"
ABOUT_LEAD = "it is about work that waits for the local lead"
# what optional mail one unsubscribes from, by category
CATEGORIES = {"cpd-news": "news of CPD sessions",
              "cpd-reminders": "reminders of CPD sessions you are booked on"}


@dataclass(frozen=True)
class Draft:
    """An email before it is addressed with an id: whom, what, why. ``to_account`` (an
    account or ``LEAD``) instead of an address: resolved when sent. Optional mail names its
    ``category`` (what one unsubscribes from); essential mail says why it is ``essential``."""

    kind: str
    to_email: str
    to_name: str
    subject: str
    body: str
    reason: str
    optional: bool = False
    attachments: tuple[dict, ...] = field(default_factory=tuple)
    to_account: str | None = None
    category: str | None = None
    essential: str = ABOUT_SCHOOL


def for_lead(kind: str, subject: str, body: str) -> Draft:
    """A note for the local lead, greeted by name when it is sent."""
    return Draft(kind, "", "", subject, body, LEAD_REASON, to_account=LEAD, essential=ABOUT_LEAD)


def day(value: str | dt.date | None) -> str:
    """A date as people read it: Thursday 25 March 2027."""
    if value is None:
        return "a date to be confirmed"
    date = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return f"{date:%A} {date.day} {date:%B %Y}"


def clock_time(value: str | dt.time | dt.datetime) -> str:
    """A time as the pages say it: '4pm', '4:30pm', 'midday' (UK time)."""
    moment = value if isinstance(value, dt.time | dt.datetime) else dt.time.fromisoformat(str(value))
    if (moment.hour, moment.minute) == (12, 0):
        return "midday"
    hour, suffix = moment.hour % 12 or 12, "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def times(start: object, end: object) -> str:
    """'4pm to 5pm', or '' when no time is set."""
    return f"{clock_time(start)} to {clock_time(end)}" if start and end else ""


def render(draft: Draft, authority: Authority, unsubscribe: str | None = None) -> tuple[str, str]:
    """Plain text and HTML, with the sign-off, the reason and the person's choice (an
    unsubscribe link, or why there is none); the greeting is added by ``greet``."""
    if draft.optional and unsubscribe:
        choice = f"To stop emails like this ({CATEGORIES.get(draft.category or '', 'optional news')}), " \
                 f"unsubscribe here: {unsubscribe}"
    else:
        choice = cannot_unsubscribe(draft.essential)
    text = (
        f"{draft.body}\n\n{authority.sign_off}\n"
        f"{authority.contact_email}\n\n"
        f"You are getting this email because {draft.reason}.\n{choice}\n"
    )
    return text, "".join(_paragraph(p) for p in text.split("\n\n") if p.strip())


def greet(name: str, text: str, body_html: str) -> tuple[str, str]:
    """The whole email: the greeting, then what ``render`` made."""
    return f"Dear {name},\n\n{text}", f"<html><body>{_paragraph(f'Dear {name},')}{body_html}</body></html>"


def _paragraph(text: str) -> str:
    return f"<p>{html.escape(text).replace(chr(10), '<br>')}</p>"


# -- schools and pledges ------------------------------------------------------------------


# How a registration email names the people whose commitment the pledge needs.
COMMITTED = {"slt": "leadership", "governors": "governors", "head_teacher": "head teacher"}


def school_registered(name: str, school: str, email: str, authority: Authority) -> Draft:
    needed = " and ".join(COMMITTED[b] for b in authority.pledge.required_commitments)
    return Draft(
        "school-registered",
        email,
        name,
        f"{school} is registered for Schools of Sanctuary",
        f"{school} is now registered with {authority.name} Schools of Sanctuary. The next "
        f"steps are to secure the commitment of your {needed} and to sign "
        "the City of Sanctuary pledge.",
        COORDINATOR,
    )


def _advice(months: int) -> str:
    """The authority's advice on time between pledge and application, if it gives any."""
    if months <= 0:
        return ""
    span = "a whole school year" if months == 12 else f"{months} months"
    return f" We advise at least {span} of learning, embedding and sharing before applying."


def pledge_signed(name: str, school: str, email: str, signed_on: str, authority: Authority) -> Draft:
    return Draft(
        "pledge-signed",
        email,
        name,
        f"Thank you: {school} has signed the pledge",
        f"{school} signed the Schools of Sanctuary pledge on {day(signed_on)}."
        + _advice(authority.pledge.advised_months_before_application),
        COORDINATOR,
    )


def starter_pack(name: str, school: str, email: str, authority: Authority) -> Draft:
    """The authority's starter pack (only where one is configured), with the support
    meetings that come with it: the school asks, the lead proposes a time."""
    pack = authority.starter_pack
    assert pack is not None, "no starter pack is configured"
    if pack.url:
        how = f"Here is the {pack.title} for {school}: {pack.url}"
    else:  # never a made-up link: the lead sends it
        how = (f"The {authority.name} Schools of Sanctuary lead will send you the {pack.title} for "
               f"{school} by email. If it has not reached you, write to {authority.contact_email}.")
    parts = [f"{how}\n\n{pack.description}"]
    if pack.support_meetings:
        meetings = authority.cpd_item(pack.support_meetings)
        parts.append(f"{meetings.title}: sign in to ask for a meeting whenever you want one, and "
                     "the lead will propose a date and time for you to accept.")
    return Draft("starter-pack", email, name, f"{pack.title} for {school}", "\n\n".join(parts), COORDINATOR)


def pledge_signed_lead(authority: Authority, school: str, signed_on: str) -> Draft:
    return for_lead("pledge-signed-lead", f"{school} has signed the pledge",
                    f"{school} signed the pledge on {day(signed_on)}.")


# -- schools asking to join ------------------------------------------------------------------

ASKED = "you asked on our website for your school to join Schools of Sanctuary"


def join_request_received_lead(authority: Authority, link: str | None = None) -> Draft:
    """No school or person named: the request is read on the lead's own page (``link``),
    signed in."""
    return Draft(
        "join-request-lead",
        authority.contact_email,
        authority.lead_team,
        "A school has asked to join Schools of Sanctuary",
        see("A school has asked to join. Sign in to read the request and accept or decline it "
            "(in Schools, then Requests to join).", link, "The request"),
        LEAD,
    )


def join_request_accepted(name: str, school: str, email: str, authority: Authority) -> Draft:
    return Draft(
        "join-request-accepted",
        email,
        name,
        f"{school} has joined {authority.name} Schools of Sanctuary",
        f"Your request for {school} to join {authority.name} Schools of Sanctuary has been "
        "accepted. You are its coordinator: a separate email tells you how to sign in.",
        ASKED,
    )


def join_request_declined(name: str, school: str, email: str, reason: str, authority: Authority) -> Draft:
    return Draft(
        "join-request-declined",
        email,
        name,
        f"Your request for {school} to join Schools of Sanctuary",
        f"We are sorry: your request for {school} to join {authority.name} Schools of Sanctuary "
        f"has not been accepted.\n\nThe reason: {reason}\n\nIf you have questions, reply to "
        "this email.",
        ASKED,
    )


# -- the journey ------------------------------------------------------------------------------


def see(body: str, link: str | None, what: str = "Sign in here") -> str:
    """The body, then where to act on it (a link into the service, when there is one)."""
    return f"{body}\n\n{what}: {link}" if link else body


def submitted(name: str, school: str, email: str, stage: str, on: str) -> Draft:
    return Draft(
        f"{stage}-submitted",
        email,
        name,
        f"We have received your {stage} application",
        f"Thank you: {school}'s {stage} application arrived on {day(on)}.",
        COORDINATOR,
        essential=ABOUT_DECISION,
    )


def submitted_lead(authority: Authority, school: str, stage: str, on: str) -> Draft:
    return for_lead(f"{stage}-submitted-lead", f"{school} has submitted its {stage} application",
                    f"{school} submitted its {stage} application on {day(on)}.")


def extension_granted(name: str, school: str, email: str, stage: str, until: str) -> Draft:
    return Draft(
        "extension-granted",
        email,
        name,
        f"Your {stage} deadline is extended",
        f"{school} may now submit its {stage} application until the end of {day(until)}.",
        COORDINATOR,
        essential=ABOUT_DEADLINE,
    )


def feedback_released(name: str, school: str, email: str, stage: str, link: str | None = None) -> Draft:
    return Draft(
        f"{stage}-feedback",
        email,
        name,
        f"Feedback on your {stage} application is ready",
        see(f"The panel's feedback on {school}'s {stage} application is ready, criterion by "
            "criterion. Sign in to read it and to add evidence where the panel asks.", link,
            "Read the feedback"),
        COORDINATOR,
        essential=ABOUT_DECISION,
    )


def visit_scheduled(name: str, school: str, email: str, on: str, before: str | None = None,
                    calendar: bytes | None = None) -> Draft:
    """The visit, with its calendar entry; ``before``: the day it was to be, when it moved."""
    if before and before != on:
        return Draft(
            "visit-moved", email, name, "Your School of Sanctuary visit has moved",
            f"The assessors' visit to {school} has moved from {day(before)} to {day(on)}. They "
            "will meet pupils, teachers, leaders and parents. The updated calendar entry is attached.",
            COORDINATOR, attachments=calendar_file(calendar, "PUBLISH", "visit.ics"),
            essential=ABOUT_DECISION)
    return Draft(
        "visit-scheduled",
        email,
        name,
        "Your School of Sanctuary visit",
        f"Assessors will visit {school} on {day(on)} to meet pupils, teachers, leaders and parents. "
        "The calendar entry is attached.",
        COORDINATOR,
        attachments=calendar_file(calendar, "PUBLISH", "visit.ics"),
        essential=ABOUT_DECISION,
    )


def visit_cancelled(name: str, school: str, email: str, on: str, calendar: bytes | None) -> Draft:
    return Draft(
        "visit-cancelled", email, name, "Your School of Sanctuary visit is cancelled",
        f"The assessors' visit to {school} on {day(on)} will not take place: the application was "
        "withdrawn. The calendar entry is cancelled too.",
        COORDINATOR, attachments=calendar_file(calendar, "CANCEL", "visit.ics"), essential=ABOUT_DECISION)


def decision(
    name: str, school: str, email: str, outcome: str, expires_on: str | None, evidence_due: str | None,
    link: str | None = None,
) -> Draft:
    if outcome == "awarded":
        return Draft(
            "awarded",
            email,
            name,
            f"Congratulations: {school} is a School of Sanctuary",
            f"{school} has been awarded School of Sanctuary status, until {day(expires_on)}. "
            "Share your news far and wide, if and as you choose.",
            COORDINATOR,
            essential=ABOUT_DECISION,
        )
    if outcome == "further_evidence":
        return Draft(
            "further-evidence",
            email,
            name,
            "The panel asks for further evidence",
            see(f"The panel asks {school} for further evidence by {day(evidence_due)}. Sign in "
                "to see what it needs.", link, "See what it needs"),
            COORDINATOR,
            essential=ABOUT_DECISION,
        )
    return Draft(
        "not-awarded",
        email,
        name,
        "The panel's decision",
        see(f"The panel has not awarded {school} this cycle. Sign in to read its reasons; we "
            "would be glad to support a future application.", link, "Read its reasons"),
        COORDINATOR,
        essential=ABOUT_DECISION,
    )


def celebration_invitation(name: str, school: str, email: str, session: dict, authority: Authority,
                           link: str | None = None, calendar: bytes | None = None) -> Draft:
    """An awarded school's invitation to the authority's celebration (to its coordinator)."""
    return Draft(
        "celebration-invitation",
        email,
        name,
        "You are invited to celebrate",
        see(f"Congratulations again on {school}'s School of Sanctuary award. {authority.name} invites "
            f"{school} to celebrate it with other schools at {session_text(session)}. The calendar "
            "entry is attached.\n\nSign in to accept or decline the invitation.", link,
            "Accept or decline"),
        COORDINATOR,
        attachments=calendar_file(calendar, "PUBLISH", "celebration.ics"),
    )


def celebration_changed(name: str, school: str, email: str, session: dict, what: str,
                        calendar: bytes | None, link: str | None = None) -> Draft:
    """The celebration a school is invited to has moved, changed venue or been cancelled."""
    cancelled = what == "cancelled"
    says = (f"The celebration {school} is invited to, {session_text(session)}, is cancelled."
            if cancelled else f"There is a change to the celebration {school} is invited to ({what}). "
            f"It is now: {session_text(session)}. The updated calendar entry is attached.")
    return Draft(
        f"celebration-{what.replace(' ', '-')}", email, name,
        f"{'Cancelled' if cancelled else what.capitalize()}: {session.get('title', 'the celebration')}",
        see(says, None if cancelled else link, "Your invitation"), COORDINATOR,
        attachments=calendar_file(calendar, "CANCEL" if cancelled else "PUBLISH", "celebration.ics"))


def renewal_due(name: str, school: str, email: str, expires_on: str, link: str | None = None) -> Draft:
    return Draft(
        "renewal-due",
        email,
        name,
        "Time to renew your School of Sanctuary status",
        see(f"{school}'s award runs until {day(expires_on)}. Renew your pledge and status before then.",
            link, "Your school's page"),
        COORDINATOR,
        essential=ABOUT_DEADLINE,
    )


def deadline_reminder(name: str, school: str, email: str, stage: str, deadline: dt.date, days: int,
                      link: str | None = None) -> Draft:
    return Draft(
        f"{stage}-deadline-reminder",
        email,
        name,
        f"{days} days to the {stage} deadline",
        see(f"{school}'s {stage} application is due by {day(deadline)}, {days} days from now. "
            "Sign in to see what is still missing for each criterion.", link, "What is still missing"),
        COORDINATOR,
        essential=ABOUT_DEADLINE,
    )


def evidence_reminder(name: str, school: str, email: str, due: dt.date, days: int,
                      link: str | None = None) -> Draft:
    """After a further-evidence decision: the school's own date, not the cycle's deadline."""
    return Draft(
        "further-evidence-reminder",
        email,
        name,
        f"{days} days until your further evidence is due",
        see(f"The panel asked {school} for further evidence by {day(due)}, {days} days from now. "
            "Sign in to see what is still missing for each criterion, then submit it.", link,
            "What is still missing"),
        COORDINATOR,
        essential=ABOUT_DEADLINE,
    )


# -- CPD ------------------------------------------------------------------------------------


def calendar_file(calendar: bytes | None, method: str, filename: str = "session.ics") -> tuple[dict, ...]:
    """A calendar entry as an attachment (none while its date is unconfirmed)."""
    if not calendar:
        return ()
    return (
        {
            "filename": filename,
            "content_type": f"text/calendar; charset=utf-8; method={method}",
            "data": calendar,
        },
    )


def session_text(session: dict) -> str:
    """'Title: Thursday 22 October 2026, 4pm to 5pm, Central Library'."""
    when = day(session.get("date"))
    if session.get("start") and session.get("end"):
        when += f", {times(session['start'], session['end'])}"
    return f"{session.get('title', 'The session')}: {when}, {session.get('place', 'venue to be confirmed')}"
