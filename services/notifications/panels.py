"""Appraisal panels as the notifications service knows them, and the mail they call for.
Plain Python, over the application's public surface.

Members are told when they are on a convened panel, when an application is assigned to
them, and (panel_policies.py) if they are taken off; reminded before the panel meets while
their part is unfinished; the lead is told of each conflict declared and when every clear
member has judged an application. What is known may have arrived in any order (each kind
of news has its own queue): the mail is worked out afresh from all of it, each email keyed
so it goes once. Members are named by account id only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from services.notifications import panel_messages as pm
from services.notifications.directory import Entry
from services.notifications.links import Links
from shared.authority import Authority


class Notifications(Protocol):
    """What of the notifications application this module uses (the application calls this
    module for its reminders, so it is not imported here)."""

    authority: Authority
    links: Links

    def entry(self, kind: str, key: str) -> Entry: ...
    def entries(self, kind: str) -> list[Entry]: ...
    def intend(self, drafts: list[Any], key: str, due_at: dt.datetime | None = None) -> list: ...
    def reminder_due(self, days_ahead: tuple[int, ...], deadline: dt.date | None,
                     today: dt.date) -> int | None: ...


def members(panel: Entry) -> list[str]:
    """The panel's members as now known (added, not since removed)."""
    return sorted(k.removeprefix("member:") for k, v in panel.facts.items() if k.startswith("member:") and v)


def appraisers(appraisal: Entry) -> list[str]:
    """The appraisal's members: those of the panel when it opened, and any who joined since,
    less any who left (each a fact of its own, so news of a join or a leave heard first is
    not lost)."""
    first = [m for m in appraisal.get("members", []) if not appraisal.get(f"left:{m}")]
    joined = sorted(k.removeprefix("joined:") for k, v in appraisal.facts.items()
                    if k.startswith("joined:") and v)
    return [*first, *(m for m in joined if m not in first)]


def declared(appraisal: Entry, member: str) -> bool | None:
    """None: not declared yet; else whether they declared a conflict."""
    return appraisal.get(f"declared:{member}")


def judged(appraisal: Entry, member: str) -> int:
    return sum(1 for k, v in appraisal.facts.items() if k.startswith(f"judged:{member}:") and v)


def clear(appraisal: Entry) -> list[str]:
    return [m for m in appraisers(appraisal) if declared(appraisal, m) is False]


def left_to_do(appraisal: Entry, member: str) -> str | None:
    """What the member has still to do for this appraisal, in words (None: nothing)."""
    if appraisal.get("agreed"):
        return None
    said = declared(appraisal, member)
    if said is None:
        return "declare any conflict of interest, then judge each criterion"
    criteria = len(appraisal.get("criteria", []))
    if said or judged(appraisal, member) >= criteria:
        return None
    return f"{criteria - judged(appraisal, member)} of {criteria} criteria still to judge"


def judging_done(appraisal: Entry) -> bool:
    everyone = appraisers(appraisal)
    return bool(everyone) and all(left_to_do(appraisal, m) is None and declared(appraisal, m) is not None
                                  for m in everyone)


# -- what the panel calls for ------------------------------------------------------------------


def _appraisal_path(app: Notifications, panel: Entry, appraisal: Entry, who: str) -> str:
    year, stage = panel.get("school_year"), panel.get("stage")
    if who == "lead":
        return app.links.page(f"/lead/applications/{appraisal.get('urn')}/{year}/appraisals/{stage}")
    return app.links.page(f"/panel/{appraisal.get('urn')}/{year}/{stage}")


def _school(app: Notifications, appraisal: Entry) -> str:
    application = app.entry("application", appraisal.get("application", ""))
    return application.get("school_name") or app.entry("school", appraisal.get("urn", "")).get("name") \
        or f"School {appraisal.get('urn')}"


def panel_mail(app: Notifications, panel: Entry, fresh: Entry | None = None) -> list:
    """Every email the panel now calls for that has not been recorded yet (``fresh``: an
    appraisal learnt in this reaction, not yet saved)."""
    if panel.get("school_year") is None:  # its forming not heard yet: the mail waits for its date
        return []
    appraisals = {a.key: a for a in app.entries("appraisal") if a.get("panel") == panel.key}
    if fresh is not None:
        appraisals[fresh.key] = fresh
    year, stage, meets = panel.get("school_year"), panel.get("stage"), panel.get("meets_on")
    notes = []
    if panel.get("convened") or appraisals:  # an assignment means it has convened
        for account in members(panel):
            draft = pm.member_added(f"account:{account}", app.authority.name, stage, year, meets,
                                    app.links.page("/panel"))
            notes += app.intend([draft], f"panel/{panel.key}/{panel.get(f'added:{account}')}")
    for appraisal in appraisals.values():
        notes += appraisal_mail(app, panel, appraisal)
    return notes


def appraisal_mail(app: Notifications, panel: Entry, appraisal: Entry) -> list:
    year, stage, school = panel.get("school_year"), panel.get("stage"), _school(app, appraisal)
    drafts = [pm.application_assigned(f"account:{m}", school, stage, year, panel.get("meets_on"),
                                      _appraisal_path(app, panel, appraisal, "member"))
              for m in appraisers(appraisal)]
    notes = app.intend(drafts, f"appraisal/{appraisal.key}")
    lead_panel = app.links.page(f"/lead/panels/{year}/{stage}")
    for member in appraisers(appraisal):
        if declared(appraisal, member):
            draft = pm.conflict_declared(school, stage, year, len(clear(appraisal)), lead_panel)
            notes += app.intend([draft], f"appraisal/{appraisal.key}/conflict/{member}")
    if judging_done(appraisal):
        draft = pm.judging_complete(school, stage, year, len(clear(appraisal)),
                                    _appraisal_path(app, panel, appraisal, "lead"))
        notes += app.intend([draft], f"appraisal/{appraisal.key}")
    return notes


# -- reminders ---------------------------------------------------------------------------------


def panel_reminders(app: Notifications, today: dt.date) -> list:
    """Before a convened panel meets (the authority's days, 7 and 2 by default), each member
    with appraisals unfinished is reminded, once per day ahead, with what is left in each."""
    notes = []
    appraisals = app.entries("appraisal")
    for panel in app.entries("panel"):
        meets = panel.get("meets_on")
        if not meets or panel.get("school_year") is None:
            continue
        meets_on = dt.date.fromisoformat(meets)
        days = app.reminder_due(app.authority.reminders.panel_days, meets_on, today)
        if days is None or today >= meets_on:
            continue
        ours = [a for a in appraisals if a.get("panel") == panel.key]
        for member in members(panel):
            unfinished = [(_school(app, a), left, _appraisal_path(app, panel, a, "member")) for a in ours
                          if member in appraisers(a) and (left := left_to_do(a, member))]
            if unfinished:
                draft = pm.panel_reminder(f"account:{member}", panel.get("stage"), panel.get("school_year"),
                                          meets, (meets_on - today).days, unfinished)
                notes += app.intend([draft], f"reminder/panel/{panel.key}/{meets}/{days}")
    return notes
