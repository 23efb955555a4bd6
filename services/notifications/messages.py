"""What each kind of email says, in plain English. Plain Python.

Every email says why the person is getting it. Messages a process depends on
(deadlines, feedback, decisions, bookings) always go; optional ones (news of
CPD sessions) follow the school's newsletter choice.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

from shared.authority import Authority

COORDINATOR = "you are your school's Schools of Sanctuary coordinator"
LEAD = "you are the local lead for Schools of Sanctuary"
BOOKED = "you are booked on this session"
WAITING = "you are on the waiting list for this session"
NEWSLETTER = "your school receives the Schools of Sanctuary newsletter (you can opt out at any time)"


@dataclass(frozen=True)
class Draft:
    """An email before it is addressed with an id: whom, what, why."""

    kind: str
    to_email: str
    to_name: str
    subject: str
    body: str
    reason: str
    optional: bool = False
    attachments: tuple[dict, ...] = field(default_factory=tuple)


def day(value: str | dt.date | None) -> str:
    """A date as people read it: Thursday 25 March 2027."""
    if value is None:
        return "a date to be confirmed"
    date = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return f"{date:%A} {date.day} {date:%B %Y}"


def render(draft: Draft, authority: Authority) -> tuple[str, str]:
    """Plain text and HTML, with the greeting, sign-off and the reason."""
    text = (
        f"Dear {draft.to_name},\n\n{draft.body}\n\n{authority.sign_off}\n"
        f"{authority.contact_email}\n\n"
        f"You are getting this email because {draft.reason}.\n"
    )
    paragraphs = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n") if p.strip()
    )
    return text, f"<html><body>{paragraphs}</body></html>"


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
    return Draft(
        "pledge-signed-lead",
        authority.contact_email,
        authority.lead_team,
        f"{school} has signed the pledge",
        f"{school} signed the pledge on {day(signed_on)}.",
        LEAD,
    )


# -- schools asking to join ------------------------------------------------------------------

ASKED = "you asked on our website for your school to join Schools of Sanctuary"


def join_request_received_lead(authority: Authority) -> Draft:
    """No school or person named: the request is read on the lead's own page, signed in."""
    return Draft(
        "join-request-lead",
        authority.contact_email,
        authority.lead_team,
        "A school has asked to join Schools of Sanctuary",
        "A school has asked to join. Sign in and open Schools, then Requests to join, to "
        "accept or decline it.",
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


def submitted(name: str, school: str, email: str, stage: str, on: str) -> Draft:
    return Draft(
        f"{stage}-submitted",
        email,
        name,
        f"We have received your {stage} application",
        f"Thank you: {school}'s {stage} application arrived on {day(on)}.",
        COORDINATOR,
    )


def submitted_lead(authority: Authority, school: str, stage: str, on: str) -> Draft:
    return Draft(
        f"{stage}-submitted-lead",
        authority.contact_email,
        authority.lead_team,
        f"{school} has submitted its {stage} application",
        f"{school} submitted its {stage} application on {day(on)}.",
        LEAD,
    )


def extension_granted(name: str, school: str, email: str, stage: str, until: str) -> Draft:
    return Draft(
        "extension-granted",
        email,
        name,
        f"Your {stage} deadline is extended",
        f"{school} may now submit its {stage} application until the end of {day(until)}.",
        COORDINATOR,
    )


def feedback_released(name: str, school: str, email: str, stage: str) -> Draft:
    return Draft(
        f"{stage}-feedback",
        email,
        name,
        f"Feedback on your {stage} application is ready",
        f"The panel's feedback on {school}'s {stage} application is ready, criterion by "
        "criterion. Sign in to read it and to add evidence where the panel asks.",
        COORDINATOR,
    )


def visit_scheduled(name: str, school: str, email: str, on: str) -> Draft:
    return Draft(
        "visit-scheduled",
        email,
        name,
        "Your School of Sanctuary visit",
        f"Assessors will visit {school} on {day(on)} to meet pupils, teachers, leaders and parents.",
        COORDINATOR,
    )


def decision(
    name: str, school: str, email: str, outcome: str, expires_on: str | None, evidence_due: str | None
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
        )
    if outcome == "further_evidence":
        return Draft(
            "further-evidence",
            email,
            name,
            "The panel asks for further evidence",
            f"The panel asks {school} for further evidence by {day(evidence_due)}. Sign in "
            "to see what it needs.",
            COORDINATOR,
        )
    return Draft(
        "not-awarded",
        email,
        name,
        "The panel's decision",
        f"The panel has not awarded {school} this cycle. Sign in to read its reasons; we "
        "would be glad to support a future application.",
        COORDINATOR,
    )


def celebration_invitation(name: str, school: str, email: str, session: dict, authority: Authority) -> Draft:
    """An awarded school's invitation to the authority's celebration (to its coordinator)."""
    return Draft(
        "celebration-invitation",
        email,
        name,
        "You are invited to celebrate",
        f"Congratulations again on {school}'s School of Sanctuary award. {authority.name} invites "
        f"{school} to celebrate it with other schools at {_session_text(session)}.\n\n"
        "Sign in to accept or decline the invitation.",
        COORDINATOR,
    )


def renewal_due(name: str, school: str, email: str, expires_on: str) -> Draft:
    return Draft(
        "renewal-due",
        email,
        name,
        "Time to renew your School of Sanctuary status",
        f"{school}'s award runs until {day(expires_on)}. Renew your pledge and status before then.",
        COORDINATOR,
    )


def deadline_reminder(name: str, school: str, email: str, stage: str, deadline: dt.date, days: int) -> Draft:
    return Draft(
        f"{stage}-deadline-reminder",
        email,
        name,
        f"{days} days to the {stage} deadline",
        f"{school}'s {stage} application is due by {day(deadline)}, {days} days from now. "
        "Sign in to see what is still missing for each criterion.",
        COORDINATOR,
    )


def evidence_reminder(name: str, school: str, email: str, due: dt.date, days: int) -> Draft:
    """After a further-evidence decision: the school's own date, not the cycle's deadline."""
    return Draft(
        "further-evidence-reminder",
        email,
        name,
        f"{days} days until your further evidence is due",
        f"The panel asked {school} for further evidence by {day(due)}, {days} days from now. "
        "Sign in to see what is still missing for each criterion, then submit it.",
        COORDINATOR,
    )


# -- CPD ------------------------------------------------------------------------------------


def calendar_file(calendar: bytes | None, method: str) -> tuple[dict, ...]:
    """The session's calendar entry as an attachment (none while its date is unconfirmed)."""
    if not calendar:
        return ()
    return (
        {
            "filename": "session.ics",
            "content_type": f"text/calendar; charset=utf-8; method={method}",
            "data": calendar,
        },
    )


def _session_text(session: dict) -> str:
    when = day(session.get("date"))
    if session.get("start"):
        when += f", {str(session['start'])[:5]} to {str(session['end'])[:5]} (UK time)"
    return f"{session.get('title', 'The session')}: {when}, {session.get('place', 'venue to be confirmed')}"


def booked(name: str, email: str, session: dict, calendar: bytes | None) -> Draft:
    attachments = calendar_file(calendar, "PUBLISH")
    return Draft(
        "booked",
        email,
        name,
        f"Your place: {session.get('title', 'CPD session')}",
        f"You have a place at {_session_text(session)}. The calendar entry is attached.",
        BOOKED,
        attachments=attachments,
    )


def waiting(name: str, email: str, session: dict) -> Draft:
    return Draft(
        "waiting-list",
        email,
        name,
        f"Waiting list: {session.get('title', 'CPD session')}",
        f"{_session_text(session)} is full, so you are on its waiting list. If a place comes "
        "free we will offer it to you by email.",
        WAITING,
    )


def place_offered(name: str, email: str, session: dict, expires_at: str, tz: dt.tzinfo) -> Draft:
    until = dt.datetime.fromisoformat(expires_at).astimezone(tz)  # UK time, as people read it
    return Draft(
        "place-offered",
        email,
        name,
        f"A place is free: {session.get('title', 'CPD session')}",
        f"A place has come free at {_session_text(session)}. It is yours if you claim it by "
        f"{until:%H:%M} (UK time) on {day(until.date())}; after that it goes to the next person.",
        WAITING,
    )


def session_changed(name: str, email: str, session: dict, what: str, calendar: bytes | None) -> Draft:
    attachments = calendar_file(calendar, "PUBLISH")
    return Draft(
        f"session-{what}",
        email,
        name,
        f"{what.capitalize()}: {session.get('title', 'CPD session')}",
        f"There is a change to a session you are booked on ({what}). It is now: "
        f"{_session_text(session)}. The updated calendar entry is attached.",
        BOOKED,
        attachments=attachments,
    )


def session_cancelled(name: str, email: str, session: dict, reason: str, calendar: bytes | None) -> Draft:
    attachments = calendar_file(calendar, "CANCEL")
    return Draft(
        "session-cancelled",
        email,
        name,
        f"Cancelled: {session.get('title', 'CPD session')}",
        f"{_session_text(session)} is cancelled. {reason}".strip(),
        BOOKED,
        attachments=attachments,
    )


def cpd_reminder(name: str, email: str, session: dict, days: int) -> Draft:
    when = "tomorrow" if days == 1 else f"in {days} days"
    return Draft(
        "cpd-reminder",
        email,
        name,
        f"Reminder: {session.get('title', 'CPD session')} {when}",
        f"A reminder that you are booked on {_session_text(session)}.",
        BOOKED,
    )


def new_session(name: str, email: str, session: dict) -> Draft:
    return Draft(
        "new-session",
        email,
        name,
        f"New CPD session: {session.get('title', 'CPD')}",
        f"A new session is open for booking: {_session_text(session)}. It is free.",
        NEWSLETTER,
        optional=True,
    )
