"""How this service reacts to each public event it hears: a function per kind of news,
registered under the event's public name with ``@reacts_to``, so a search for the name
finds the code. Each reaction learns what it needs into the directory and returns the
notifications it intends, all saved together with the consumed position (so a
redelivery changes nothing). Reactions use only the application's public surface."""

from __future__ import annotations

import datetime as dt

from services.notifications import messages as m
from services.notifications.application import Notifications
from services.notifications.reactions import REACTIONS, coordinator_draft, key_of, needed, react, reacts_to
from services.pledges.api import PledgesApi
from shared.envelope import IntegrationEvent
from shared.errors import NotFound
from shared.personal import Personal, subject_for_email

# the service hears and runs every reaction through this module, so all are registered
__all__ = ["REACTIONS", "react"]

# -- pledges ----------------------------------------------------------------------------------


def _contact(urn: str, contact: dict) -> Personal:
    """A coordinator's contact, encrypted under their address's key."""
    return Personal(subject_for_email(contact["email"]), contact, label=f"coordinator of {urn}")


def _coordinator(news: IntegrationEvent, pledges: PledgesApi | None) -> dict | None:
    """The school's coordinator: told by schema 1 of the news, asked of the pledges service
    since (none once their data is erased)."""
    if news.schema_version < 2:
        return news.payload["coordinator"]
    try:
        found = needed(pledges, news, "pledges").coordinator_contact(news.payload["urn"])
    except NotFound:
        return None
    return {"name": found["name"], "email": found["email"]}


@reacts_to("pledges", "SchoolRegistered", asks="pledges")
def school_registered(app: Notifications, news: IntegrationEvent, pledges: PledgesApi | None) -> list:
    p = news.payload
    contact = _coordinator(news, pledges)
    if contact is None:
        return [app.learn("school", p["urn"], news, name=p["name"])]
    entry = app.learn(
        "school",
        p["urn"],
        news,
        name=p["name"],
        coordinator=_contact(p["urn"], contact),
    )
    draft = m.school_registered(contact["name"], p["name"], contact["email"], app.authority)
    # the pledge may be heard first (each kind of news has its own queue, and a backlog
    # after downtime is not taken in order): its mail waited for the school's name
    pledged = entry.get("pledged_on") if not entry.get("pledge_imported") else None
    moments = {"registered", "pledge_signed"} if pledged else {"registered"}
    pack = _starter_pack(app, p["urn"], moments, known=(contact["name"], p["name"], contact["email"]))
    waiting = []
    if pledged and entry.get("pledge_news"):
        waiting = app.intend([m.pledge_signed(contact["name"], p["name"], contact["email"], pledged,
                                              app.authority),
                              m.pledge_signed_lead(app.authority, p["name"], pledged)],
                             entry.get("pledge_news"))  # the pledge's own key: sent once either way
    return [entry, *app.intend([draft], key_of(news)), *pack, *waiting]


@reacts_to("pledges", "CoordinatorChanged", asks="pledges")
def coordinator_changed(app: Notifications, news: IntegrationEvent, pledges: PledgesApi | None) -> list:
    contact = _coordinator(news, pledges)
    if contact is None:
        return []
    urn = news.payload["urn"]
    return [app.learn("school", urn, news, coordinator=_contact(urn, contact))]


@reacts_to("pledges", "NewsletterSubscribed", "NewsletterUnsubscribed")
def newsletter(app: Notifications, news: IntegrationEvent) -> list:
    return [app.learn("school", news.payload["urn"], news, newsletter=news.type == "NewsletterSubscribed")]


@reacts_to("pledges", "PledgeSigned")
def pledge_signed(app: Notifications, news: IntegrationEvent) -> list:
    """Thanks, the lead told, and the starter pack; none of them for a pledge signed before and
    imported from earlier records (schema 3 tells; schemas 1 and 2 were never imports)."""
    p = news.payload
    if p.get("imported"):
        return [app.learn("school", p["urn"], news, pledged_on=p["signed_on"], pledge_imported=True,
                          pledge_news=None)]
    entry = app.learn("school", p["urn"], news, pledged_on=p["signed_on"], pledge_news=key_of(news),
                      pledge_imported=False)
    if entry.get("name") is None:  # heard before the registration, which will send this mail
        return [entry]
    drafts = coordinator_draft(app, p["urn"], m.pledge_signed, p["signed_on"], app.authority)
    drafts.append(m.pledge_signed_lead(app.authority, entry.get("name"), p["signed_on"]))
    return [entry, *app.intend(drafts, key_of(news)), *_starter_pack(app, p["urn"], {"pledge_signed"})]


def _starter_pack(app: Notifications, urn: str, moments: set[str], known: tuple | None = None) -> list:
    """The authority's starter pack for the coordinator, if it sends one at one of these
    moments (``known``: the coordinator's name, the school's name and the address, when
    the news itself brings them). Keyed by the school, not the news: one pack per school
    (and address), however often it pledges, whichever of its news arrives first."""
    pack = app.authority.starter_pack
    if pack is None or pack.send_when not in moments:
        return []
    if known is not None:
        drafts = [m.starter_pack(*known, app.authority)]
    else:
        drafts = coordinator_draft(app, urn, m.starter_pack, app.authority)
    return app.intend(drafts, f"school/{urn}")


# -- schools asking to join: no address travels with the news; the pledges service is asked ---


def _join_key(news: IntegrationEvent) -> str:
    """Keyed by the request, so the email goes once however often the news is heard."""
    return f"join-request/{news.payload['request']}/{news.type}"


@reacts_to("pledges", "JoinRequestReceived")
def join_request_received(app: Notifications, news: IntegrationEvent) -> list:
    link = app.links.page(f"/lead/join-requests/{news.payload['request']}")
    return app.intend([m.join_request_received_lead(app.authority, link)], _join_key(news))


@reacts_to("pledges", "JoinRequestAccepted", "JoinRequestDeclined", asks="pledges")
def join_request_decided(app: Notifications, news: IntegrationEvent, pledges: PledgesApi) -> list:
    """The person who asked is told either way, at the address the pledges service holds
    now (none once their data is erased)."""
    try:
        notice = needed(pledges, news, "pledges").join_request_notice(news.payload["request"])
    except NotFound:
        return []
    if news.type == "JoinRequestAccepted":
        draft = m.join_request_accepted(notice["name"], notice["school_name"], notice["email"], app.authority)
    else:
        draft = m.join_request_declined(notice["name"], notice["school_name"], notice["email"],
                                        notice["reason"] or "", app.authority)
    return app.intend([draft], _join_key(news))


# -- applications ---------------------------------------------------------------------------


# The day each submission is due is the applications service's to set: it is kept as told
# (``due_<stage>``), from the start (schema 2), an extension, or a further-evidence decision.
# Schema 1 of ApplicationStarted did not tell it: see ``Notifications.due_days``.


@reacts_to("applications", "ApplicationStarted")
def application_started(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    told = {}
    if news.schema_version >= 2:  # schema 1 did not tell the days
        told = {"stages": list(p["due"]), **{f"due_{stage}": day for stage, day in p["due"].items()}}
    return [
        app.learn(
            "application",
            p["application"],
            news,
            urn=p["urn"],
            school_year=p["school_year"],
            school_name=p["school_name"],
            **told,
        )
    ]


@reacts_to("applications", "DraftSubmitted", "FinalSubmitted")
def submitted(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    stage = p["stage"]
    entry = app.learn(
        "application",
        p["application"],
        news,
        urn=p["urn"],
        school_year=p["school_year"],
        **{f"submitted_{stage}": True},
    )
    school = app.entry("school", p["urn"]).get("name", "A school")
    drafts = coordinator_draft(app, p["urn"], m.submitted, stage, p["on"])
    drafts.append(m.submitted_lead(app.authority, school, stage, p["on"]))
    return [entry, *app.intend(drafts, key_of(news))]


@reacts_to("applications", "ExtensionGranted")
def extension_granted(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    entry = app.learn("application", p["application"], news, **{f"due_{p['stage']}": p["until"]})
    drafts = coordinator_draft(app, p["urn"], m.extension_granted, p["stage"], p["until"])
    return [entry, *app.intend(drafts, key_of(news))]


def _application_page(app: Notifications, p: dict, page: str) -> str:
    """A page of the school's application, as a link in an email to its coordinator."""
    return app.links.page(f"/school/{p['urn']}/application/{p['school_year']}/{page}")


@reacts_to("applications", "FeedbackReleased")
def feedback_released(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    link = _application_page(app, p, "feedback")
    return app.intend(coordinator_draft(app, p["urn"], m.feedback_released, p["stage"], link), key_of(news))


@reacts_to("applications", "VisitScheduled")
def visit_scheduled(app: Notifications, news: IntegrationEvent) -> list:
    """The visit, with its calendar entry; scheduled again for another day, the email says
    what changed and the entry (same UID) comes at its next SEQUENCE."""
    p = news.payload
    known = app.entry("application", p["application"])
    before, visits = known.get("visit_on"), known.get("visits", 0) + 1
    entry = app.learn("application", p["application"], news, visit_on=p["on"], visits=visits)
    ics = app.visit_calendar(entry, _school_name(app, p["urn"]))
    drafts = coordinator_draft(app, p["urn"], m.visit_scheduled, p["on"], before, ics)
    return [entry, *app.intend(drafts, key_of(news))]


def _school_name(app: Notifications, urn: str) -> str:
    return app.entry("school", urn).get("name") or f"School {urn}"


@reacts_to("applications", "Awarded", "DecisionRecorded")
def decided(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    final = p["outcome"] != "further_evidence"
    # further evidence: the final submission is owed again, by the school's own day
    again = {} if final else {"submitted_final": False, "further_evidence": True,
                              "due_final": p["evidence_due"]}
    entry = app.learn("application", p["application"], news, decided=final, **again)
    link = _application_page(app, p, "feedback" if final else "missing")
    drafts = coordinator_draft(app, p["urn"], m.decision, p["outcome"], p.get("expires_on"),
                               p.get("evidence_due"), link)
    return [entry, *app.intend(drafts, key_of(news))]


@reacts_to("applications", "ApplicationWithdrawn")
def withdrawn(app: Notifications, news: IntegrationEvent) -> list:
    """A visit still to come is cancelled in the school's calendar."""
    p = news.payload
    entry = app.learn("application", p["application"], news, withdrawn=True)
    visit = entry.get("visit_on")
    if visit is None or dt.date.fromisoformat(visit) < app.clock.today(app.authority.timezone):
        return [entry]
    ics = app.visit_calendar(entry, _school_name(app, p["urn"]), cancelled=True)
    return [entry, *app.intend(coordinator_draft(app, p["urn"], m.visit_cancelled, visit, ics), key_of(news))]


@reacts_to("applications", "RenewalDue")
def renewal_due(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    return app.intend(coordinator_draft(app, p["urn"], m.renewal_due, p["expires_on"],
                                        app.links.page(f"/school/{p['urn']}")), key_of(news))


# the reactions that live beside what they concern register here when imported
from services.notifications import cpd_policies, lead_policies, panel_policies  # noqa: E402, F401
