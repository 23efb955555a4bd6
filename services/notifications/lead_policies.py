"""How the notifications service reacts to news that waits on the lead or the school in
turn: catch-up meetings (asked for, proposed, accepted or declined) and a school answering
the panel's feedback. Each kind of news has its own queue, so a catch-up's mail is worked
out afresh from all that is known of it, each email keyed so it goes once."""

from __future__ import annotations

from services.notifications import lead_messages as lm
from services.notifications import meeting_messages as mm
from services.notifications.application import Notifications
from services.notifications.directory import Entry
from services.notifications.reactions import coordinator_draft, reacts_to
from shared.envelope import IntegrationEvent

ANSWERING = ("draft_feedback", "further_evidence")  # where an application stands while it answers


def _school(app: Notifications, urn: str | None) -> str:
    return app.entry("school", urn or "").get("name") or f"School {urn}"


def catch_up_mail(app: Notifications, meeting: Entry) -> list:
    """Everything the catch-up now calls for, on each side, that has not been recorded."""
    urn = meeting.get("urn")
    if urn is None:  # the request itself not heard yet: whose it is waits for it
        return []
    school, lead_page = _school(app, urn), app.links.page("/lead/cpd")
    notes = app.intend([lm.catch_up_requested(school, lead_page)], f"catch-up/{meeting.key}/requested")
    proposal, status = meeting.get("proposal"), meeting.get("status")
    if proposal is None:
        return notes
    when = f"catch-up/{meeting.key}/{proposal['date']}T{proposal['start']}"
    notes += app.intend(coordinator_draft(app, urn, mm.catch_up_proposed, proposal,
                                          app.links.page(f"/school/{urn}")), f"{when}/proposed")
    if status in ("confirmed", "declined"):
        accepted = status == "confirmed"
        ics = app.meeting_calendar(meeting) if accepted else None
        drafts = [lm.catch_up_answered(school, proposal, accepted, "", lead_page, ics)]
        if accepted:
            drafts += coordinator_draft(app, urn, mm.catch_up_confirmed, proposal, ics)
        notes += app.intend(drafts, f"{when}/{status}")
    return notes


def _learnt(app: Notifications, news: IntegrationEvent, **facts: object) -> list:
    meeting = app.learn("catch-up", news.payload["request"], news, **facts)
    return [meeting, *catch_up_mail(app, meeting)]


@reacts_to("events", "CatchUpRequested")
def catch_up_requested(app: Notifications, news: IntegrationEvent) -> list:
    return _learnt(app, news, urn=news.payload["urn"])


@reacts_to("events", "CatchUpProposed")
def catch_up_proposed(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    known = app.entry("catch-up", p["request"])
    proposals = known.get("proposals", 0) + 1  # the calendar entry's SEQUENCE counts them
    return _learnt(app, news, status="proposed", proposals=proposals,
                   proposal={"date": p["date"], "start": p["start"], "end": p["end"]})


@reacts_to("events", "CatchUpConfirmed", "CatchUpDeclined")
def catch_up_answered(app: Notifications, news: IntegrationEvent) -> list:
    return _learnt(app, news, status="confirmed" if news.type == "CatchUpConfirmed" else "declined")


@reacts_to("applications", "EvidenceAdded")
def evidence_added(app: Notifications, news: IntegrationEvent) -> list:
    """Evidence added after feedback: the school is answering it; the lead hears once per
    round of feedback."""
    p = news.payload
    if p["stage"] not in ANSWERING:
        return []
    link = app.links.page(f"/lead/applications/{p['urn']}/{p['school_year']}")
    draft = lm.feedback_answered(_school(app, p["urn"]), p["stage"], link)
    return app.intend([draft], f"answering/{p['application']}/{p['stage']}")
