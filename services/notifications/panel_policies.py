"""How the notifications service reacts to the appraisal panels' news (see panels.py for
what it knows of them and the mail they call for): each reaction learns its fact, then
records whatever the panel now calls for."""

from __future__ import annotations

from typing import Any

from services.notifications import panel_messages as pm
from services.notifications.application import Notifications
from services.notifications.panels import appraisal_mail, panel_mail
from services.notifications.reactions import reacts_to
from shared.envelope import IntegrationEvent

# -- reactions ---------------------------------------------------------------------------------


def _learnt_panel(app: Notifications, news: IntegrationEvent, **facts: Any) -> list:
    panel = app.learn("panel", news.payload["panel"], news, **facts)
    return [panel, *panel_mail(app, panel)]


@reacts_to("applications", "PanelFormed")
def panel_formed(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    return _learnt_panel(app, news, school_year=p["school_year"], stage=p["stage"], meets_on=p["meets_on"])


@reacts_to("applications", "PanelMemberAdded")
def member_added(app: Notifications, news: IntegrationEvent) -> list:
    account = news.payload["account"]
    return _learnt_panel(app, news, **{f"member:{account}": True, f"added:{account}": news.position})


@reacts_to("applications", "PanelConvened")
def panel_convened(app: Notifications, news: IntegrationEvent) -> list:
    return _learnt_panel(app, news, convened=True)


@reacts_to("applications", "PanelMemberRemoved")
def member_removed(app: Notifications, news: IntegrationEvent) -> list:
    """Told only if they were told they were on it (the removal of a member added again later,
    heard late, changes nothing: the newer news of their membership stands)."""
    account = news.payload["account"]
    panel = app.learn("panel", news.payload["panel"], news, **{f"member:{account}": False})
    added = panel.get(f"added:{account}")
    if panel.get(f"member:{account}") or panel.get("school_year") is None:
        return [panel]
    told = app.was_told(f"panel/{panel.key}/{added}", "panel-member-added", f"account:{account}")
    removed = pm.member_removed(f"account:{account}", panel.get("stage"), panel.get("school_year"))
    notes = app.intend([removed], f"panel/{panel.key}/{added}/removed") if told else []
    return [panel, *notes]


def _learnt_appraisal(app: Notifications, news: IntegrationEvent, **facts: Any) -> list:
    appraisal = app.learn("appraisal", news.payload["appraisal"], news, **facts)
    panel = app.entry("panel", appraisal.get("panel", ""))
    mail = panel_mail(app, panel, fresh=appraisal) if facts.get("panel") else \
        (appraisal_mail(app, panel, appraisal) if panel.get("school_year") else [])
    return [appraisal, *mail]


@reacts_to("applications", "ApplicationAssigned")
def application_assigned(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    return _learnt_appraisal(app, news, panel=p["panel"], application=p["application"], urn=p["urn"],
                             stage=p["stage"], members=p["members"], criteria=p["criteria"])


@reacts_to("applications", "InterestsDeclared")
def interests_declared(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    return _learnt_appraisal(app, news, **{f"declared:{p['member']}": p["conflicted"]})


@reacts_to("applications", "CriterionJudged")
def criterion_judged(app: Notifications, news: IntegrationEvent) -> list:
    p = news.payload
    return _learnt_appraisal(app, news, **{f"judged:{p['member']}:{p['criterion']}": True})


@reacts_to("applications", "AppraisalMemberJoined")
def member_joined(app: Notifications, news: IntegrationEvent) -> list:
    """A member added to the panel after the appraisal opened joins it: told of it, and
    counted among those who judge."""
    member = news.payload["member"]
    return _learnt_appraisal(app, news, **{f"joined:{member}": True, f"left:{member}": False})


@reacts_to("applications", "AppraisalMemberLeft")
def member_left(app: Notifications, news: IntegrationEvent) -> list:
    """A member taken off the panel before the outcome leaves the appraisal: no longer
    reminded, and no longer waited for (the lead may now hear that judging is done). Each
    fact keeps its newest news, so a leave and a later join settle in log order."""
    member = news.payload["member"]
    return _learnt_appraisal(app, news, **{f"joined:{member}": False, f"left:{member}": True})


@reacts_to("applications", "OutcomeAgreed")
def outcome_agreed(app: Notifications, news: IntegrationEvent) -> list:
    return [app.learn("appraisal", news.payload["appraisal"], news, agreed=True)]


