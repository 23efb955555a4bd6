"""What the local lead is told of what waits for them, in plain English, and the daily
digest that gathers it where the authority wants one. Plain Python.

Mail for the lead is addressed to the role (``LEAD``): whoever holds it when it is sent is
greeted by name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from services.notifications.messages import (
    LEAD,
    LEAD_REASON,
    Draft,
    calendar_file,
    day,
    for_lead,
    see,
    times,
)

ABOUT_DIGEST = "it gathers the day's work that waits for the local lead"


def catch_up_requested(school: str, link: str) -> Draft:
    return for_lead("catch-up-requested", f"{school} asks for a catch-up meeting",
                    see(f"{school} asks for a catch-up meeting. Propose a date and time, and the school "
                        "will accept it or ask for another.", link, "Catch-up requests"))


def catch_up_answered(school: str, proposal: dict, accepted: bool, reason: str, link: str,
                      calendar: bytes | None = None) -> Draft:
    when = f"{day(proposal.get('date'))}, {times(proposal.get('start'), proposal.get('end'))}".rstrip(", ")
    if accepted:
        confirmed = for_lead("catch-up-confirmed", f"{school} accepted the catch-up meeting",
                             see(f"{school} accepted the catch-up meeting you proposed: {when}. The "
                                 "calendar entry is attached.", link, "Catch-up requests"))
        return replace(confirmed, attachments=calendar_file(calendar, "PUBLISH", "catch-up.ics"))
    said = f" They said: {reason}" if reason else ""
    return for_lead("catch-up-declined", f"{school} declined the catch-up meeting",
                    see(f"{school} declined the catch-up meeting you proposed for {when}.{said} Propose "
                        "another time.", link, "Catch-up requests"))


def feedback_answered(school: str, stage: str, link: str) -> Draft:
    """The school has started answering the panel's feedback (evidence added since)."""
    what = "the further evidence the panel asked for" if stage == "further_evidence" else \
        "the panel's draft feedback"
    return for_lead("feedback-answered", f"{school} is answering {what}",
                    see(f"{school} has added evidence since the panel's feedback: it is answering {what}.",
                        link, "The application"))


def offer_lapsed(title: str, school: str, when: str, link: str) -> Draft:
    return for_lead("offer-lapsed", f"An offered place lapsed: {title}",
                    see(f"The place offered to {school}'s member of staff at {title} ({when}) lapsed "
                        "unclaimed. It has gone to the next person on the waiting list, if there is one.",
                        link, "The CPD register"))


def digest(items: list[dict], on: dt.date) -> Draft:
    """One email gathering the lead's news of a day (each: its subject and body)."""
    parts = [f"{n}. {item['subject']}\n{item['body']}" for n, item in enumerate(items, start=1)]
    count = f"{len(items)} thing{'s' if len(items) != 1 else ''}"
    return Draft("lead-digest", "", "", f"Schools of Sanctuary: {count} for you, {day(on)}",
                 "Since the last digest:\n\n" + "\n\n".join(parts), LEAD_REASON, to_account=LEAD,
                 essential=ABOUT_DIGEST)


def from_lead(to_email: str, to_name: str, subject: str, body: str, reason: str, group: str,
              account: str | None = None) -> Draft:
    """A message the lead wrote to a group, to one of its members."""
    return Draft("lead-message", to_email, to_name, subject, body, reason, to_account=account,
                 essential=f"it is a message from your local lead to {group}")
