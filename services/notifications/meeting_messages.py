"""What a school's coordinator is told of catch-up meetings, in plain English. Plain Python.

The school asks for a meeting; the lead proposes a time; the school accepts (both sides then
get the calendar entry) or declines (the lead proposes another).
"""

from __future__ import annotations

from services.notifications.messages import ABOUT_SCHOOL, COORDINATOR, Draft, calendar_file, day, see, times


def _when(proposal: dict) -> str:
    return f"{day(proposal.get('date'))}, {times(proposal.get('start'), proposal.get('end'))}"


def catch_up_proposed(name: str, school: str, email: str, proposal: dict, link: str) -> Draft:
    return Draft(
        "catch-up-proposed", email, name, "A time for your catch-up meeting",
        see(f"The lead proposes a time for the catch-up meeting {school} asked for: {_when(proposal)}. "
            "Sign in to accept it, or decline it and say what would suit you better.", link,
            "Answer the proposal"), COORDINATOR, essential=ABOUT_SCHOOL)


def catch_up_confirmed(name: str, school: str, email: str, proposal: dict, calendar: bytes | None) -> Draft:
    return Draft(
        "catch-up-confirmed-school", email, name, "Your catch-up meeting is confirmed",
        f"{school}'s catch-up meeting with the lead is confirmed: {_when(proposal)}. The calendar entry "
        "is attached.", COORDINATOR, attachments=calendar_file(calendar, "PUBLISH", "catch-up.ics"),
        essential=ABOUT_SCHOOL)
