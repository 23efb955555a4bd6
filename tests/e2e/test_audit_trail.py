"""The decision trail over real HTTP: a short journey to a decision (Coventry, 2026-27, on a
rehearsal clock from 1 March 2027, moved on to the visit's day), then the lead reads who decided
what, when, on which evidence, after which declarations and under which panel rule, as JSON and
as a printable page; nobody else may."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from shared.config import ROOT
from tests.e2e.conftest import Api, E2ESystem, Person, rehearsal, wait_for
from tests.e2e.test_journey import (
    SPRING,
    YEAR,
    People,
    app_path,
    appraisal_path,
    ensure_panel,
    refused,
    to_draft_assigned,
    today,
    visited_and_decided,
)

pytestmark = pytest.mark.e2e

URN = "620201"  # no other e2e test uses 6202xx
TRAIL = f"{app_path(URN)}/decision-trail"
CONFLICT = "Governor at the school"
RULE = {"min_members": 3, "min_lived_experience": 1, "agreed_by": 3, "with_lived_experience": 1,
        "conflicted": 1, "met": True}


@pytest.fixture(scope="module")
def system(module_amqp_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    yield from rehearsal(module_amqp_uri, tmp_path_factory, SPRING)


@pytest.fixture(scope="module")
def people(system: E2ESystem) -> People:
    def member(handle: str, name: str) -> Person:
        return system.add_account(f"{handle}@trail.e2e.example.org", name, [{"role": "panel_member"}])
    return People(system, member("ria", "Ria Member"), member("sam", "Sam Member"),
                  member("tom", "Tom Member"), member("uma", "Uma Outsider"), member("vin", "Vin Member"))


def clear(people: People) -> list[Person]:
    """The members clear of conflict who judge and agree (m3 declares a conflict)."""
    return [people.m1, people.m2, people.m4]


def appraise(people: People, stage: str, criteria: list[str], overall: str) -> dict:
    """The lead adds m4 to the stage's panel (three must be clear of conflict to decide); everyone
    declares (m3 a conflict); m1, m2 and m4 judge every criterion; the lead records the agreed
    outcome with them."""
    base = appraisal_path(URN, stage)
    lead = people.lead
    lead.ok(lead.post(f"/cycles/{YEAR}/panels/{stage}/members", {"account": people.m4.id,
                                                                   "lived_experience": False,
                                                                   "reason": "A member is conflicted"}))
    for member, conflicted in ((people.m1, False), (people.m2, False), (people.m3, True), (people.m4, False)):
        api = people.api(member)
        api.ok(api.post(f"{base}/declaration",
                        {"conflicted": conflicted, "interests": CONFLICT if conflicted else ""}))
    for member in clear(people):
        api = people.api(member)
        for code in criteria:
            api.ok(api.post(f"{base}/judgements", {"criterion": code, "outcome": "met",
                                                   "comment": f"{member.name} on {code}"}))
    body = {"criteria": {c: {"outcome": "met", "comment": f"Agreed on {c}"} for c in criteria},
            "overall": overall, "members": [m.id for m in clear(people)]}
    return lead.ok(lead.post(f"{base}/outcome", body))


@pytest.fixture(scope="module")
def decided(people: People) -> dict:
    """Pledged, a draft with one piece of evidence, the draft panel, feedback, the final
    submission, the final panel, the decision. Returns what the trail should show."""
    started = dt.datetime.now(dt.UTC)
    draft = to_draft_assigned(people, URN)
    school, lead, path = people.school(URN), people.lead, app_path(URN)
    criteria = list(school.ok(school.get(path))["audit"])
    draft_outcome = appraise(people, "draft", criteria, "further_evidence")
    lead.ok(lead.post(f"{path}/feedback/draft", {"summary": "A good start"}))
    school.ok(school.post(f"{path}/evidence", {"criterion": "learn-2", "title": "Geography unit"}), 201)
    final = school.ok(school.post(f"{path}/submissions", {"stage": "final"}))["submissions"][-1]
    ensure_panel(people, "final")
    lead.ok(lead.post(f"/cycles/{YEAR}/panels/final/assignments/{URN}"))
    final_outcome = appraise(people, "final", criteria, "award")
    decision = visited_and_decided(people, URN)
    assert decision["stage"] == "awarded"
    return {"started": started, "criteria": criteria, "submissions": [draft, final],
            "outcomes": [draft_outcome, final_outcome], "ended": dt.datetime.now(dt.UTC)}


def test_the_lead_reads_the_decision_trail_as_json(people: People, decided: dict) -> None:
    lead = people.lead
    response = lead.get(TRAIL)
    assert response.headers["Content-Type"].startswith("application/json")
    trail = lead.ok(response)
    assert (trail["urn"], trail["school_year"], trail["school_name"], trail["stage"]) == (
        URN, YEAR, f"School {URN}", "awarded")
    coordinator = people.system.coordinator(URN).actor
    assert [(s["stage"], s["version"], s["by"]) for s in trail["submissions"]] == [
        ("draft", 1, coordinator), ("final", 2, coordinator)]
    for shown, submitted in zip(trail["submissions"], decided["submissions"], strict=True):
        assert [e["id"] for e in shown["evidence"]] == submitted["evidence"]
    draft_evidence, final_evidence = (s["evidence"] for s in trail["submissions"])
    assert [(e["criterion"], e["title"]) for e in draft_evidence] == [("learn-1", "Training log")]
    assert [(e["criterion"], e["title"]) for e in final_evidence if e not in draft_evidence] == [
        ("learn-2", "Geography unit")]

    m1, m2, m3, m4 = people.m1, people.m2, people.m3, people.m4
    assert [(a["stage"], a["submission"]) for a in trail["appraisals"]] == [("draft", 1), ("final", 2)]
    for appraisal, agreed in zip(trail["appraisals"], decided["outcomes"], strict=True):
        assert appraisal["id"] == agreed["id"]
        assert appraisal["members"] == [m1.id, m2.id, m3.id, m4.id]  # m4 joined the open appraisal
        declared = {d["member"]: (d["conflicted"], d["interests"], d["by"])
                    for d in appraisal["declarations"]}
        assert declared == {m1.id: (False, "", m1.actor), m2.id: (False, "", m2.actor),
                            m3.id: (True, CONFLICT, m3.actor), m4.id: (False, "", m4.actor)}
        judged = {(j["member"], j["criterion"]): (j["outcome"], j["comment"], j["by"])
                  for j in appraisal["judgements"]}
        assert judged == {(m.id, c): ("met", f"{m.name} on {c}", m.actor)
                          for m in (m1, m2, m4) for c in decided["criteria"]}
        times = [dt.datetime.fromisoformat(x["at"])
                 for x in appraisal["declarations"] + appraisal["judgements"]]
        assert all(decided["started"] <= t <= decided["ended"] for t in times)
        outcome = appraisal["outcome"]
        assert outcome["members"] == sorted([m1.id, m2.id, m4.id])
        assert outcome["composition"] == RULE  # the panel's rule, as it was checked
        assert outcome["by"] == people.system.lead.actor
        assert outcome["overall"] == agreed["outcome"]["overall"]
        assert max(times) <= dt.datetime.fromisoformat(outcome["at"])
    assert [(f["stage"], f["summary"]) for f in trail["feedback"]] == [("draft", "A good start")]
    decision = trail["decision"]
    assert (decision["outcome"], decision["by"], decision["appraisal"]) == (
        "awarded", people.system.lead.actor, decided["outcomes"][1]["id"])
    assert decision["panel_members"] == sorted([m1.id, m2.id, m4.id])
    assert decision["composition"] == RULE
    assert decision["reasons"] == "Every criterion met"
    assert dt.datetime.fromisoformat(decision["at"]).astimezone(dt.UTC) <= decided["ended"]
    assert decision["expires_on"] is not None and decision["expires_on"] > today(people.system).isoformat()


def test_the_lead_prints_the_decision_trail(people: People, decided: dict) -> None:
    lead = people.lead
    response = lead.get(f"{TRAIL}.html")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert page.startswith("<!doctype html>")
    assert f"Decision trail: School {URN} ({URN}), {YEAR}" in page
    m1, m2, m3, m4 = people.m1, people.m2, people.m3, people.m4
    assert f"<td>{m3.id}</td><td>True</td><td>{html.escape(CONFLICT)}</td>" in page
    for member in (m1, m2, m4):
        assert f"<td>{member.id}</td><td>False</td>" in page
        for code in decided["criteria"]:
            assert (f"<td>{member.id}</td><td>{code}</td><td>met</td>"
                    f"<td>{html.escape(f'{member.name} on {code}')}</td>") in page
    assert f"<td>{m3.id}</td><td>{decided['criteria'][0]}</td>" not in page  # m3 judged nothing
    assert f"Agreed: award, by {', '.join(sorted([m1.id, m2.id, m4.id]))}" in page
    assert ("Panel composition met: the rule is at least 3 members clear of conflict, at least 1 with "
            "lived experience of seeking sanctuary; agreed by 3 clear members, 1 with lived experience; "
            "1 declared a conflict and took no part.") in page
    assert "awarded at" in page and "Every criterion met" in page


@pytest.mark.parametrize("who", ["coordinator", "panel_member"])
def test_nobody_but_the_lead_reads_the_trail(people: People, decided: dict, who: str) -> None:
    person = people.system.coordinator(URN) if who == "coordinator" else people.m1
    api = Api(people.system, person)
    for path in (TRAIL, f"{TRAIL}.html"):
        refused(api.get(path), 403, says="the local lead")
    anonymous = Api(people.system, None)
    assert anonymous.get(TRAIL).status_code == 401


def test_after_the_decision_every_store_verifies_against_what_the_others_witnessed(
        people: People, decided: dict) -> None:
    """The applications service published its chain head right after the decision, every other
    service recorded it, and ``sanctuary audit verify`` checks each store against those heads."""
    system = people.system
    env = {**os.environ, **system.own_env, "SANCTUARY_LOG_LEVEL": "WARNING"}
    decided_at = Api(system).applications_position()

    def audit(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "sanctuary.cli", "audit", *args], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=False)

    def witnessed() -> subprocess.CompletedProcess | None:
        done = audit("verify", "applications")
        found = re.search(r"witnessed by accounts, events, library, notifications, pledges "
                          r"\(to position (\d+)\)", done.stdout)
        return done if found and int(found.group(1)) >= decided_at else None

    done = wait_for(witnessed, 60, f"the head at {decided_at} witnessed by every other service")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: nothing altered, deleted, inserted or truncated" in done.stdout
    every = audit("verify", "--all")
    assert every.returncode == 0, every.stdout + every.stderr
    assert "6 stores verified: 6 OK, 0 TAMPERED" in every.stdout
    assert "events checked in" in every.stderr  # the progress line's last word: how fast
