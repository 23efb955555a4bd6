"""The decision trail of an application: one printable report of who decided what,
when, on which evidence, after which conflict declarations, and the panel's
composition rule as it was checked when the outcome was agreed. Plain Python."""

from __future__ import annotations

import html
from typing import Any

from shared.personal import reveal


def decision_trail(app: Any, urn: str, school_year: str) -> dict:
    """Everything an auditor needs, drawn from the application's and appraisals' histories."""
    application = app._get(urn, school_year)
    events = list(app.events.get(application.id))
    appraisals = []
    for stage in ("draft", "final"):
        for submission in (s for s in application.submissions if s["stage"] == stage):
            appraisal = app._find(_appraisal_id(app, school_year, stage, application, submission))
            if appraisal is not None:
                appraisals.append(_appraisal(app, appraisal))
    found = reveal(
        {
            "urn": urn,
            "school_name": application.school_name,
            "school_year": school_year,
            "criteria_version": application.criteria_version,
            "stage": application.stage,
            "submissions": [
                {**s, "evidence": [{"id": e, **application.evidence[e]} for e in s["evidence"]]}
                for s in application.submissions
            ],
            "extensions": [
                _at(e) | {"stage": e.stage, "until": e.until, "reason": e.reason,
                          "beyond_panel_meeting": e.beyond_panel_meeting}
                for e in events
                if _name(e) == "ExtensionGranted"
            ],
            "appraisals": appraisals,
            "feedback": [
                _at(e) | {"stage": e.stage, "summary": e.summary, "appraisal": e.appraisal}
                for e in events
                if _name(e) == "FeedbackReleased"
            ],
            "visit": application.visit,
            # every decision, in order: a further-evidence decision stays on the record
            "decisions": [
                _at(e)
                | {
                    "outcome": e.outcome,
                    "reasons": e.reasons,
                    "appraisal": e.appraisal,
                    "panel_members": e.panel_members,
                    "expires_on": e.expires_on,
                    "evidence_due": e.evidence_due,
                    "composition": _composition_of(appraisals, e.appraisal),
                }
                for e in events
                if _name(e) == "Decided"
            ],
        }
    )
    found["decision"] = found["decisions"][-1] if found["decisions"] else None  # the one that stands
    return found


def _composition_of(appraisals: list[dict], appraisal_id: str) -> dict | None:
    """The composition rule as checked when the outcome the decision rests on was agreed."""
    agreed = next((a["outcome"] for a in appraisals if a["id"] == appraisal_id and a["outcome"]), None)
    return agreed["composition"] if agreed else None


def _appraisal_id(app: Any, year: str, stage: str, application: Any, submission: dict) -> Any:
    from services.applications.panels import Appraisal, Panel

    return Appraisal.create_id(str(Panel.create_id(year, stage)), str(application.id), submission["version"])


def _appraisal(app: Any, appraisal: Any) -> dict:
    history = list(app.events.get(appraisal.id))
    return {
        "id": str(appraisal.id),
        "stage": appraisal.stage,
        "submission": appraisal.submission,
        "members": appraisal.members,
        "declarations": [
            _at(e) | {"member": e.member, "conflicted": e.conflicted, "interests": e.interests}
            for e in history
            if _name(e) == "InterestsDeclared"
        ],
        "judgements": [
            _at(e)
            | {"member": e.member, "criterion": e.criterion, "outcome": e.outcome, "comment": e.comment}
            for e in history
            if _name(e) == "CriterionJudged"
        ],
        "notes": appraisal.notes,
        "outcome": next(
            (
                _at(e) | {"criteria": e.criteria, "overall": e.overall, "members": e.members,
                          "composition": e.composition}
                for e in history
                if _name(e) == "OutcomeAgreed"
            ),
            None,
        ),
    }


def _name(event: Any) -> str:
    return type(event).__qualname__.split(".")[-1]


def _at(event: Any) -> dict:
    return {"at": event.timestamp, "by": getattr(event, "actor", "system")}


def render_html(trail: dict, authority_name: str) -> str:
    """A plain page to print with the panel's minutes."""
    e = html.escape
    parts = [
        f"<h1>Decision trail: {e(trail['school_name'])} ({e(trail['urn'])}), {e(trail['school_year'])}</h1>",
        f"<p>{e(authority_name)} Schools of Sanctuary. Criteria version {e(trail['criteria_version'])}. "
        f"Stage now: {e(trail['stage'])}.</p>",
        "<h2>Submissions</h2>",
    ]
    for s in trail["submissions"]:
        items = "".join(f"<li>{e(i['criterion'])}: {e(i['title'])}</li>" for i in s["evidence"])
        parts.append(
            f"<h3>{e(s['stage'])} (version {s['version']}) on {e(str(s['on']))} by {e(s['by'])}"
            f"{' under extension' if s['under_extension'] else ''}</h3><ul>{items}</ul>"
        )
    parts.append(
        "<h2>Extensions</h2>"
        + (_table(trail["extensions"], ("stage", "until", "reason", "beyond_panel_meeting", "by", "at"))
           or "<p>None.</p>")
    )
    for a in trail["appraisals"]:
        parts.append(f"<h2>{e(a['stage'])} appraisal of submission {a['submission']}</h2>")
        parts.append(
            "<h3>Conflict declarations</h3>"
            + _table(a["declarations"], ("member", "conflicted", "interests", "at"))
        )
        parts.append(
            "<h3>Judgements</h3>"
            + _table(a["judgements"], ("member", "criterion", "outcome", "comment", "at"))
        )
        if a["outcome"]:
            o = a["outcome"]
            rows = [{"criterion": c, **v} for c, v in o["criteria"].items()]
            parts.append(
                f"<h3>Agreed: {e(o['overall'])}, by {e(', '.join(o['members']))}, recorded by "
                f"{e(o['by'])} at {e(str(o['at']))}</h3>" + f"<p>{e(composition_text(o['composition']))}</p>"
                + _table(rows, ("criterion", "outcome", "comment"))
            )
    parts.append(
        "<h2>Feedback released</h2>"
        + (_table(trail["feedback"], ("stage", "summary", "by", "at")) or "<p>None.</p>")
    )
    decisions = [
        f"<p>{e(d['outcome'])} at {e(str(d['at']))} by {e(d['by'])}, on the agreement of "
        f"{e(', '.join(d['panel_members']))}. Reasons: {e(d['reasons'])}"
        + (f" Further evidence due by {e(str(d['evidence_due']))}." if d.get("evidence_due") else "")
        + "</p>"
        for d in trail["decisions"]
    ]
    parts.append("<h2>Decisions</h2>" + ("".join(decisions) or "<p>Not yet.</p>"))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Decision trail</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:.3em;text-align:left;vertical-align:top}</style></head><body>"
        + "".join(parts)
        + "</body></html>"
    )


def composition_text(c: dict | None) -> str:
    """The composition rule as checked, in words."""
    if c is None:
        return ("Panel composition: not checked when this outcome was agreed (it was recorded before the "
                "rule was checked at the decision; it was checked when the panel convened).")
    conflicted = f"; {c['conflicted']} declared a conflict and took no part" if c["conflicted"] else ""
    return (f"Panel composition {'met' if c['met'] else 'NOT met'}: the rule is at least {c['min_members']} "
            f"members clear of conflict, at least {c['min_lived_experience']} with lived experience of "
            f"seeking sanctuary; agreed by {c['agreed_by']} clear members, {c['with_lived_experience']} "
            f"with lived experience{conflicted}.")


def _table(rows: list[dict], columns: tuple[str, ...]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"
