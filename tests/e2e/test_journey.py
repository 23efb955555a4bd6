"""A whole accreditation journey over real HTTP, as the people who live it would
drive it: a school's coordinator, the local lead and three panel members.

From pledge to award (Coventry, 2026-27, on a rehearsal clock that starts on
1 March 2027): the school pledges, audits, gathers evidence and submits a draft;
a draft panel is formed, convened and assigned; its members declare their
interests (one a conflict) and judge every criterion; two clear members of three
cannot decide, so the lead adds a fourth, who declares and judges; the lead
records the agreed outcome and releases feedback; the school responds and
submits its final application; the final panel appraises it the same way, a
visit in Summer 2 is scheduled, the system moves on to the visit's day (the
visit is recorded only once its day has come, and the decision waits for it),
and the lead records the award. Along the way illegal moves are refused and
store nothing; at the end the audit trail (history, appraisals, ``as_of``) and
the integration events on ``applications.events`` (read with a plain kombu
queue) tell the same story.

The last tests pin product bugs found while writing the journey (now fixed); they
run after the journey, on the summer's clock.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import kombu
import pytest
import requests
from nameko.standalone.events import get_event_exchange

from services.applications.accreditation import add_years
from shared.envelope import parse_envelope
from tests.e2e.conftest import Api, E2ESystem, Person, rehearsal, wait_for

pytestmark = pytest.mark.e2e

URN = "610001"  # the journey's school; the bug tests use 61002x (no other e2e test uses 61xxxx)
YEAR = "2026-27"
APP = f"/schools/{URN}/applications/{YEAR}"
SUMMER_2 = dt.date(2027, 6, 15)  # a Tuesday in Coventry's Summer 2 2027: 7 June to 21 July
SUMMER_1 = dt.date(2027, 5, 20)  # outside it
SPRING = "2027-03-01T09:00"  # the rehearsal starts here: before the draft deadline of 25 March
VISIT_MORNING = "2027-06-15T09:00"  # and moves on to the visit's day
DRAFT_DEADLINE = dt.date(2027, 3, 25)
MILESTONES = ["ApplicationStarted", "DraftSubmitted", "FeedbackReleased", "FinalSubmitted",
              "VisitScheduled", "Awarded"]
NOT_YET = "embed-5"  # the criterion the draft panel finds not yet met


def today(system: E2ESystem) -> dt.date:
    return system.today()  # the services' "today", by their (rehearsal) clock: UK local date


@pytest.fixture(scope="module")
def system(module_amqp_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    """The whole system on a rehearsal clock that reads 1 March 2027 when it starts."""
    yield from rehearsal(module_amqp_uri, tmp_path_factory, SPRING)


def app_path(urn: str) -> str:
    return f"/schools/{urn}/applications/{YEAR}"


def appraisal_path(urn: str, stage: str) -> str:
    return f"{app_path(urn)}/appraisals/{stage}"


# -- the people ----------------------------------------------------------------------


@dataclass(frozen=True)
class People:
    system: E2ESystem
    m1: Person  # lived experience of seeking sanctuary
    m2: Person
    m3: Person  # declares a conflict of interest
    outsider: Person  # a panel member on no panel
    m4: Person | None = None  # added to a panel when two clear members of three cannot decide

    def api(self, who: Person) -> Api:
        return Api(self.system, who)

    @property
    def lead(self) -> Api:
        return Api(self.system)

    def school(self, urn: str) -> Api:
        return Api(self.system, self.system.coordinator(urn))


def panel_people(system: E2ESystem, where: str, *names: str) -> People:
    """A module's People: panel members called ``names``, in People's order (the fourth on
    no panel), each at ``<first name>@<where>.e2e.example.org``."""
    return People(system, *(system.add_account(f"{name.split()[0].lower()}@{where}.e2e.example.org", name,
                                               [{"role": "panel_member"}]) for name in names))


@pytest.fixture(scope="module")
def people(system: E2ESystem) -> People:
    return panel_people(system, "journey", "Mo Member", "Nia Member", "Oz Member", "Pip Outsider",
                        "Quinn Member")


# -- reading the applications exchange -----------------------------------------------


class ApplicationsTap:
    """A plain kombu queue of our own, bound to every event on ``applications.events``."""

    def __init__(self, amqp_uri: str) -> None:
        self.exchange = get_event_exchange("applications", {})  # declared exactly as nameko does
        self.connection = kombu.Connection(amqp_uri)
        self.channel = self.connection.channel()
        self.queue = kombu.Queue(f"e2e-journey-{uuid.uuid4().hex[:8]}", exchange=self.exchange,
                                 routing_key="#", durable=True, auto_delete=False)
        self.bound = self.queue(self.channel)
        self.bound.declare()

    def drain(self) -> list[kombu.Message]:
        """Everything in the queue now (call once the relay has published all)."""
        got = []
        while (message := self.bound.get(no_ack=True)) is not None:
            got.append(message)
        return got

    def close(self) -> None:
        self.bound.delete()
        self.connection.release()


def settled_applications(api: Api, position: int, timeout: float = 20.0) -> dict:
    """The applications health once its relay has published up to ``position``
    (publishing waits for the broker's confirm: every event is in every bound queue)."""
    def settled() -> dict | None:
        apps = api.health()["applications"]
        relay = apps["relay"]
        done = relay["running"] and relay["lag"] == 0 and apps["position"] == position
        return apps if done else None
    return wait_for(settled, timeout, f"the applications relay to publish up to {position}")


# -- refusals ------------------------------------------------------------------------------


def refused(response: requests.Response, status: int, field: str | None = None,
            says: str | None = None) -> dict:
    """A clear JSON refusal: the status, the error's name, a message, and the field at fault."""
    assert response.status_code == status, f"{response.request.method} {response.url}: " \
                                           f"{response.status_code} {response.text}"
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()
    assert error["error"] == {403: "Forbidden", 404: "NotFound", 409: "Conflict",
                              422: "Invalid"}[status], error
    assert isinstance(error["message"], str) and error["message"], error
    if field is not None:
        assert field in error.get("fields", {}), error
        assert all(isinstance(m, str) and m for m in error["fields"][field]), error
    if says is not None:
        assert says.lower() in error["message"].lower(), error
    return error


@contextmanager
def nothing_stored(lead: Api, *paths: str) -> Iterator[None]:
    """The applications log does not move, and each path (GET as the lead) reads the same."""
    position = lead.applications_position()
    before = [lead.ok(lead.get(path)) for path in paths]
    yield
    assert lead.applications_position() == position, "a refused request stored an event"
    assert [lead.ok(lead.get(path)) for path in paths] == before


# -- steps shared by the journey and the bug tests ------------------------------------------


def pledge(people: People, urn: str) -> dict:
    """The lead registers the school for its coordinator, who records interest and the
    SLT's and governors' commitments and signs; then the applications service hears."""
    lead, school = people.lead, people.school(urn)
    lead.ok(lead.post("/schools", {
        "urn": urn, "name": f"School {urn}", "phase": "secondary", "postcode": "CV1 5FB",
        "coordinator": {"name": "Ann Coordinator", "email": f"ann@{urn}.example.org"}}), 201)
    school.ok(school.post(f"/schools/{urn}/interest", {}))
    school.ok(school.post(f"/schools/{urn}/commitments",
                          {"body": "slt", "given_by": "Dee Deputy", "role": "Deputy head"}))
    school.ok(school.post(f"/schools/{urn}/commitments",
                          {"body": "governors", "given_by": "Ed Chair", "role": "Chair of governors"}))
    signed = school.ok(school.post(f"/schools/{urn}/pledge",
                                   {"signed_by": "Cara Head", "role": "Head teacher"}))
    assert signed["status"] == "signed"

    def eligible() -> dict | None:
        response = school.get(f"/schools/{urn}/eligibility")
        if response.status_code == 404:  # not heard of the school yet
            return None
        body = school.ok(response)
        return body if body["may_apply"] else None
    standing = wait_for(eligible, 30, f"the applications service to let {urn} apply")
    assert standing["pledged_on"] == today(people.system).isoformat()
    assert standing["school_name"] == f"School {urn}"
    return standing


def ensure_panel(people: People, stage: str) -> None:
    """The stage's panel formed, with our three members, and convened (whatever ran before)."""
    lead = people.lead
    panel = f"/cycles/{YEAR}/panels/{stage}"
    assert lead.post(panel).status_code in (201, 409)
    for member, lived in ((people.m1, True), (people.m2, False), (people.m3, False)):
        response = lead.post(f"{panel}/members", {"account": member.id, "lived_experience": lived})
        assert response.status_code in (200, 409), response.text
    assert lead.post(f"{panel}/convening").status_code in (200, 409)


def to_draft_assigned(people: People, urn: str) -> dict:
    """A second school, quickly: pledged, one piece of evidence, draft submitted and
    assigned to the draft panel. Returns the draft submission."""
    pledge(people, urn)
    school, lead, path = people.school(urn), people.lead, app_path(urn)
    school.ok(school.post(f"/schools/{urn}/applications", {"school_year": YEAR}), 201)
    school.ok(school.call("PUT", f"{path}/audit", json={"criterion": "learn-1", "status": "met",
                                                        "practice": "Whole-staff training"}))
    school.ok(school.post(f"{path}/evidence", {"criterion": "learn-1", "title": "Training log"}), 201)
    late = today(people.system) > DRAFT_DEADLINE
    if late:  # a rehearsal moved on past the deadline: the lead extends it, knowing the panel has met
        lead.ok(lead.post(f"{path}/extensions", {"stage": "draft", "until": today(people.system).isoformat(),
                                                 "reason": "Joined late", "beyond_panel_meeting": True}))
    view = school.ok(school.post(f"{path}/submissions", {"stage": "draft"}))
    ensure_panel(people, "draft")
    lead.ok(lead.post(f"/cycles/{YEAR}/panels/draft/assignments/{urn}"))
    return view["submissions"][-1]


def agree_clear(people: People, urn: str, stage: str, overall: str) -> dict:
    """m1, m2 and m3 declare no conflict; the lead records the outcome the three agreed."""
    base = appraisal_path(urn, stage)
    for member in (people.m1, people.m2, people.m3):
        api = people.api(member)
        api.ok(api.post(f"{base}/declaration", {"conflicted": False}))
    school = people.school(urn)
    criteria = school.ok(school.get(app_path(urn)))["audit"]
    return people.lead.ok(people.lead.post(f"{base}/outcome", {
        "criteria": {c: {"outcome": "met", "comment": "Met"} for c in criteria},
        "overall": overall, "members": [m.id for m in (people.m1, people.m2, people.m3)]}))


def to_final_agreed(people: People, urn: str) -> None:
    """Pledged, a draft, feedback, the final submission and the final panel's agreed award."""
    to_draft_assigned(people, urn)
    school, lead, path = people.school(urn), people.lead, app_path(urn)
    agree_clear(people, urn, "draft", "further_evidence")
    lead.ok(lead.post(f"{path}/feedback/draft", {"summary": "A good start"}))
    school.ok(school.post(f"{path}/submissions", {"stage": "final"}))
    ensure_panel(people, "final")
    lead.ok(lead.post(f"/cycles/{YEAR}/panels/final/assignments/{urn}"))
    agree_clear(people, urn, "final", "award")


def visited_and_decided(people: People, urn: str, reasons: str = "Every criterion met") -> dict:
    """The visit scheduled in Summer 2; the rehearsal moves on to its day if it has not come (a
    visit is recorded only then, and Coventry's decision waits for it); the decision."""
    lead, path = people.lead, app_path(urn)
    lead.ok(lead.post(f"{path}/visit", {"on": SUMMER_2.isoformat()}))
    if today(people.system) < SUMMER_2:
        people.system.move_clock(VISIT_MORNING)
    lead.ok(lead.call("PUT", f"{path}/visit", json={"attendees": ["Head teacher", "School council"],
                                                    "notes": "Pupils led the tour."}))
    return lead.ok(lead.post(f"{path}/decision", {"reasons": reasons}))


# -- the journey ----------------------------------------------------------------------------


@dataclass
class Journey:
    """What the journey has done so far, to check the audit trail and the bus against."""

    people: People
    criteria: list[str] = field(default_factory=list)
    trail: list[tuple[str, str]] = field(default_factory=list)  # (event, actor) expected in history
    positions: dict[str, int] = field(default_factory=dict)  # milestone -> applications log position

    @property
    def lead(self) -> Api:
        return self.people.lead

    @property
    def school(self) -> Api:
        return self.people.school(URN)

    @property
    def coordinator(self) -> Person:
        return self.people.system.coordinator(URN)

    def did(self, event: str, who: Person, times: int = 1) -> None:
        self.trail += [(event, who.actor)] * times

    def milestone(self, name: str) -> None:
        self.positions[name] = self.lead.applications_position()

    def outcome_body(self, overall: str, members: list[Person], not_yet: tuple[str, ...] = ()) -> dict:
        return {"criteria": {c: {"outcome": "not_yet_met" if c in not_yet else "met",
                                 "comment": f"Panel view on {c}"} for c in self.criteria},
                "overall": overall, "members": [m.id for m in members]}


def start_and_prepare(j: Journey) -> dict:
    """Step 2: start, refusals on a fresh application, audit and evidence for every
    criterion, an action, ``missing`` shrinking to nothing, the draft submitted."""
    school, lead = j.school, j.lead
    view = school.ok(school.post(f"/schools/{URN}/applications", {"school_year": YEAR}), 201)
    j.did("Started", j.coordinator)
    j.milestone("ApplicationStarted")
    assert (view["urn"], view["school_year"], view["stage"]) == (URN, YEAR, "started")
    assert view["school_name"] == f"School {URN}"
    assert view["next_submission"] == "draft" and view["deadline"] == "2027-03-25"
    j.criteria = list(view["audit"])
    assert len(j.criteria) == 8 and all(re.fullmatch(r"[a-z]+-\d", c) for c in j.criteria)
    assert set(view["missing"]) == set(j.criteria)
    assert view["missing"][j.criteria[0]] == ["audit status is not started", "no evidence yet"]

    # bad input and illegal moves on a fresh application: refused, naming the field, nothing stored
    with nothing_stored(lead, APP):
        refused(school.call("PUT", f"{APP}/audit", json={"criterion": "learn-9", "status": "met"}),
                422, "criterion")
        refused(school.call("PUT", f"{APP}/audit", json={"criterion": j.criteria[0], "status": "done"}),
                422, "status")
        refused(school.post(f"{APP}/evidence", {"criterion": "learn-9", "title": "Assembly"}),
                422, "criterion")
        refused(school.post(f"{APP}/evidence", {"criterion": j.criteria[0], "title": "Assembly",
                                                "link": "not a url"}), 422, "link")
        refused(school.post(f"{APP}/submissions", {"stage": "final"}), 409, "stage",
                says="next submission is the draft")
        refused(school.post(f"{APP}/submissions", {"stage": "draft"}), 409, "evidence")
        refused(lead.post(f"{APP}/extensions", {"stage": "late", "until": "2027-04-01",
                                                "reason": "Ofsted inspection"}), 422, "stage")
        refused(lead.post(f"{APP}/extensions", {"stage": "draft", "until": "2027-04-30",
                                                "reason": "Ofsted inspection"}), 422, "beyond_panel_meeting",
                says="after the draft panel meets on Tuesday 20 April 2027")
        refused(school.post(f"/schools/{URN}/applications", {"school_year": "2030-31"}), 404,
                "school_year", says="2030-31")
        refused(school.post(f"/schools/{URN}/applications", {"school_year": YEAR}), 409, "urn")
        refused(lead.get(f"/schools/{URN}/applications/2030-31"), 404)

    evidence: dict[str, dict] = {}
    for number, code in enumerate(j.criteria, 1):
        view = school.ok(school.call("PUT", f"{APP}/audit", json={
            "criterion": code, "status": "met", "practice": f"What we do for {code}",
            "next_steps": "Keep it going"}))
        assert view["audit"][code] == {"status": "met", "practice": f"What we do for {code}",
                                       "next_steps": "Keep it going"}
        assert view["missing"][code] == ["no evidence yet"]
        view = school.ok(school.post(f"{APP}/evidence", {
            "criterion": code, "title": f"Evidence {number} for {code}", "detail": "Photos and minutes",
            "link": f"https://school-{URN}.example.org/evidence/{code}"}), 201)
        added = [e for e in view["evidence"] if e["id"] not in evidence]
        assert len(added) == 1 and added[0]["criterion"] == code
        evidence[added[0]["id"]] = added[0]
        assert code not in view["missing"]
        assert set(view["missing"]) == set(j.criteria[number:])  # shrinks, one criterion at a time
        j.did("AuditRecorded", j.coordinator)
        j.did("EvidenceAdded", j.coordinator)
    assert view["missing"] == {}

    view = school.ok(school.post(f"{APP}/actions", {
        "criterion": "embed-4", "action": "Hold a Refugee Week assembly", "owner": "Head of PSHE",
        "target_date": "2027-06-18"}))
    j.did("ActionPlanned", j.coordinator)
    assert [(a["action"], a["status"], a["target_date"]) for a in view["actions"]] == [
        ("Hold a Refugee Week assembly", "planned", "2027-06-18")]
    assert view["missing"] == {}

    view = school.ok(school.post(f"{APP}/submissions", {"stage": "draft"}))
    j.did("Submitted", j.coordinator)
    j.milestone("DraftSubmitted")
    assert view["stage"] == "draft_submitted" and view["next_submission"] is None
    [submission] = view["submissions"]
    assert submission.pop("audit") == view["audit"]  # the audit as submitted is kept with it
    assert submission == {"stage": "draft", "on": today(j.people.system).isoformat(),
                          "evidence": sorted(evidence), "under_extension": False, "by": j.coordinator.actor,
                          "version": 1, "files": {}}  # no evidence here has files (the portfolio's tests)
    with nothing_stored(lead, APP):  # nothing more is due until feedback comes back
        refused(school.post(f"{APP}/submissions", {"stage": "final"}), 409, "stage")
        refused(school.post(f"{APP}/submissions", {"stage": "draft"}), 409, "stage")
    return view


def form_draft_panel(j: Journey) -> None:
    """Step 3: form, add members, a refused convening with two, convene, assign."""
    lead, people = j.lead, j.people
    panel = f"/cycles/{YEAR}/panels/draft"
    formed = lead.ok(lead.post(panel), 201)
    assert (formed["stage"], formed["meets_on"], formed["members"], formed["convened"]) == (
        "draft", "2027-04-20", [], False)
    lead.ok(lead.post(f"{panel}/members", {"account": people.m1.id, "lived_experience": True}))
    two = lead.ok(lead.post(f"{panel}/members", {"account": people.m2.id, "lived_experience": False}))
    assert [m["account"] for m in two["members"]] == [people.m1.id, people.m2.id]
    with nothing_stored(lead):
        refused(lead.post(f"{panel}/convening"), 409, "members", says="at least 3 members")
        refused(lead.post(f"{panel}/assignments/{URN}"), 409, "panel", says="convene")
        refused(lead.post(f"{panel}/members", {"account": people.m1.id, "lived_experience": True}),
                409, "account")
    three = lead.ok(lead.post(f"{panel}/members", {"account": people.m3.id, "lived_experience": False}))
    assert [(m["account"], m["lived_experience"]) for m in three["members"]] == [
        (people.m1.id, True), (people.m2.id, False), (people.m3.id, False)]
    convened = lead.ok(lead.post(f"{panel}/convening"))
    assert convened["convened"] is True
    opened = lead.ok(lead.post(f"{panel}/assignments/{URN}"))
    assert opened["members"] == [people.m1.id, people.m2.id, people.m3.id]
    assert opened["submission"] == 1 and opened["declarations"] == {} and opened["outcome"] is None
    assert opened["outstanding"] == opened["members"]


def appraise(j: Journey, stage: str, submitted: dict, not_yet: tuple[str, ...] = ()) -> None:
    """Step 4 (and its final-stage twin): declarations first, the conflicted member shut
    out, members 1 and 2 reading the application as submitted and judging every criterion."""
    people, lead = j.people, j.lead
    m1, m2, m3 = people.api(people.m1), people.api(people.m2), people.api(people.m3)
    base = appraisal_path(URN, stage)
    judgement = {"criterion": j.criteria[0], "outcome": "met", "comment": "Clear training log"}

    # nobody sees anything before declaring; the school never sees the appraisal at all
    refused(m1.get(f"{base}/application"), 403, says="declare any conflict of interest")
    refused(m1.post(f"{base}/judgements", judgement), 403, says="declare")
    school = j.school
    for response in (school.get(f"{base}/application"), school.post(f"{base}/declaration",
                                                                     {"conflicted": False}),
                     school.post(f"{base}/judgements", judgement),
                     school.call("PUT", f"{base}/notes", json={"strengths": "Mine"})):
        refused(response, 403, says="panel members")
    refused(school.get(base), 403, says="the local lead")
    refused(school.post(f"{base}/outcome", j.outcome_body("award", [people.m1])), 403,
            says="the local lead")
    with nothing_stored(lead):  # a conflict needs saying what it is
        refused(m3.post(f"{base}/declaration", {"conflicted": True}), 422, "interests")

    for api, conflicted in ((m1, False), (m2, False), (m3, True)):
        body = {"conflicted": conflicted,
                "interests": "My child attends the school" if conflicted else ""}
        summary = api.ok(api.post(f"{base}/declaration", body))
        assert (summary["urn"], summary["stage"], summary["school_year"]) == (URN, stage, YEAR)
        assert (summary["declared"], summary["conflicted"], summary["judged"]) == (True, conflicted, 0)
    with nothing_stored(lead):
        refused(m1.post(f"{base}/declaration", {"conflicted": False}), 409, "declaration")
        refused(m3.get(f"{base}/application"), 403, says="conflict of interest")
        refused(m3.post(f"{base}/judgements", judgement), 403, says="conflict of interest")
        refused(m3.call("PUT", f"{base}/notes", json={"strengths": "Lovely"}), 403)
        refused(m1.post(f"{base}/judgements", {k: v for k, v in judgement.items() if k != "comment"}),
                422, "comment")
        refused(m1.post(f"{base}/judgements", {**judgement, "comment": ""}), 422, "comment")
        refused(m1.post(f"{base}/judgements", {**judgement, "criterion": "learn-9"}), 422, "criterion")
        refused(m1.post(f"{base}/judgements", {**judgement, "outcome": "maybe"}), 422, "outcome")

    for member, api in ((people.m1, m1), (people.m2, m2)):
        seen = api.ok(api.get(f"{base}/application"))
        assert seen["submission"]["version"] == submitted["version"]
        assert seen["submission"]["evidence"] == submitted["evidence"]
        assert sorted(e["id"] for e in seen["evidence"]) == submitted["evidence"]
        for number, code in enumerate(j.criteria, 1):
            outcome = "not_yet_met" if code in not_yet and member == people.m2 else "met"
            summary = api.ok(api.post(f"{base}/judgements", {
                "criterion": code, "outcome": outcome, "comment": f"{member.name} on {code}"}))
            assert (summary["judged"], summary["criteria"]) == (number, 8)
            if number == 4:  # half way: my appraisals say how far I have got
                mine = [a for a in api.ok(api.get("/me/appraisals"))["items"]
                        if (a["urn"], a["stage"]) == (URN, stage)]
                assert [(a["judged"], a["criteria"], a["agreed"]) for a in mine] == [(4, 8, False)]
        api.ok(api.call("PUT", f"{base}/notes", json={
            "strengths": "A warm welcome", "improvements": "More pupil voice", "questions": "Who leads?"}))
    for member, api, judged in ((people.m1, m1, 8), (people.m2, m2, 8), (people.m3, m3, 0)):
        mine = [a for a in api.ok(api.get("/me/appraisals"))["items"]
                if (a["urn"], a["stage"]) == (URN, stage)]
        assert mine == [{"urn": URN, "school_name": f"School {URN}", "stage": stage, "school_year": YEAR,
                         "declared": True, "conflicted": member == people.m3, "judged": judged,
                         "criteria": 8, "agreed": False}]
    appraisal = lead.ok(lead.get(base))
    assert appraisal["outstanding"] == []
    assert set(appraisal["judgements"]) == {people.m1.id, people.m2.id}


def fourth_member_completes(j: Journey, stage: str, overall: str, not_yet: tuple[str, ...] = ()) -> dict:
    """Two clear members of three cannot decide (the panel needs three clear of conflict): refused,
    saying what is missing and what to do. The lead adds a fourth member, who joins the open
    appraisal, declares and judges; the three clear members agree."""
    people, lead = j.people, j.lead
    base = appraisal_path(URN, stage)
    with nothing_stored(lead, base):
        two = j.outcome_body(overall, [people.m1, people.m2], not_yet)
        error = refused(lead.post(f"{base}/outcome", two), 422, "members", says="Missing: 1 more member")
        assert "agreed by 2, 1 with lived experience (1 declared a conflict" in error["message"]
        assert "Add a member to the panel, who then declares their interests and judges" in error["message"]
    panel = lead.ok(lead.post(f"/cycles/{YEAR}/panels/{stage}/members",
                              {"account": people.m4.id, "lived_experience": False,
                               "reason": "A member is conflicted"}))
    assert people.m4.id in [m["account"] for m in panel["members"]]
    assert lead.ok(lead.get(base))["outstanding"] == [people.m4.id]  # joined the open appraisal
    m4 = people.api(people.m4)
    m4.ok(m4.post(f"{base}/declaration", {"conflicted": False}))
    for code in j.criteria:
        m4.ok(m4.post(f"{base}/judgements", {"criterion": code, "outcome": "met",
                                              "comment": f"{people.m4.name} on {code}"}))
    agreed = lead.ok(lead.post(f"{base}/outcome", j.outcome_body(
        overall, [people.m2, people.m1, people.m4], not_yet)))
    assert agreed["outcome"]["members"] == sorted(m.id for m in (people.m1, people.m2, people.m4))
    assert agreed["outcome"]["composition"] == {"min_members": 3, "min_lived_experience": 1, "agreed_by": 3,
                                                "with_lived_experience": 1, "conflicted": 1, "met": True}
    return agreed


def release_draft_feedback(j: Journey) -> dict:
    """Step 5: no feedback before release; the outcome with a conflicted member refused;
    the agreed outcome recorded and released; the school sees it per criterion."""
    people, lead, school = j.people, j.lead, j.school
    before = school.ok(school.get(APP))
    assert before["feedback"] == {} and before["stage"] == "draft_submitted"
    base = appraisal_path(URN, "draft")
    with nothing_stored(lead, APP, base):
        refused(lead.post(f"{APP}/feedback/draft", {"summary": "Too soon"}), 409, "appraisal")
        response = lead.post(f"{base}/outcome", j.outcome_body("further_evidence",
                                                                [people.m1, people.m2, people.m3]))
        refused(response, 422, "members")  # the conflicted member cannot be one who agreed
        refused(lead.post(f"{base}/outcome", {**j.outcome_body("award", [people.m1]), "overall": "gold"}),
                422, "overall")
        partial = j.outcome_body("award", [people.m1])
        del partial["criteria"][j.criteria[-1]]
        refused(lead.post(f"{base}/outcome", partial), 422, "criteria")

    agreed = fourth_member_completes(j, "draft", "further_evidence", not_yet=(NOT_YET,))
    assert agreed["outcome"]["by"] == j.lead.who.actor
    with nothing_stored(lead, base):  # the appraisal is closed once agreed
        refused(people.api(people.m1).post(f"{base}/judgements", {
            "criterion": j.criteria[0], "outcome": "met", "comment": "Changed my mind"}), 409, "appraisal")

    released = lead.ok(lead.post(f"{APP}/feedback/draft", {"summary": "A strong start; more on pupil voice"}))
    j.did("FeedbackReleased", people.system.lead)
    j.milestone("FeedbackReleased")
    assert released["stage"] == "draft_feedback" and released["next_submission"] == "final"
    view = school.ok(school.get(APP))
    feedback = view["feedback"]["draft"]
    assert feedback["summary"] == "A strong start; more on pupil voice"
    assert feedback["appraisal"] == agreed["id"]
    assert feedback["criteria"] == agreed["outcome"]["criteria"]
    assert set(feedback["criteria"]) == set(j.criteria)
    assert feedback["criteria"][NOT_YET] == {"outcome": "not_yet_met", "comment": f"Panel view on {NOT_YET}"}
    assert view["missing"] == {NOT_YET: ["the panel found it not yet met"]}
    return view


def final_to_award(j: Journey, draft_view: dict) -> dict:
    """Step 6: more evidence, the final submission, the final panel, a visit in Summer 2,
    the decision."""
    people, lead, school = j.people, j.lead, j.school
    view = school.ok(school.post(f"{APP}/evidence", {
        "criterion": NOT_YET, "title": "School council minutes on welcome",
        "detail": "Pupils seeking sanctuary on the council"}), 201)
    j.did("EvidenceAdded", j.coordinator)
    [new] = [e for e in view["evidence"] if e["id"] not in {d["id"] for d in draft_view["evidence"]}]
    assert new["criterion"] == NOT_YET
    assert new["added_at_stage"] == "draft_feedback"
    view = school.ok(school.post(f"{APP}/submissions", {"stage": "final"}))
    j.did("Submitted", j.coordinator)
    j.milestone("FinalSubmitted")
    assert view["stage"] == "final_submitted"
    final = view["submissions"][-1]
    assert (final["stage"], final["version"]) == ("final", 2)
    assert final["evidence"] == sorted(draft_view["submissions"][0]["evidence"] + [new["id"]])

    panel = f"/cycles/{YEAR}/panels/final"
    assert lead.ok(lead.post(panel), 201)["meets_on"] == "2027-06-10"
    for member, lived in ((people.m1, True), (people.m2, False), (people.m3, False)):
        lead.ok(lead.post(f"{panel}/members", {"account": member.id, "lived_experience": lived}))
    lead.ok(lead.post(f"{panel}/convening"))
    assert lead.ok(lead.post(f"{panel}/assignments/{URN}"))["submission"] == 2

    with nothing_stored(lead, APP):  # a decision needs the final panel's agreed outcome
        refused(lead.post(f"{APP}/decision", {"reasons": "Looks good"}), 409, "appraisal")
        refused(lead.call("PUT", f"{APP}/visit", json={"attendees": ["Mo"], "notes": "Too soon"}), 409,
                "stage")
    appraise(j, "final", final)
    agreed = fourth_member_completes(j, "final", "award")
    assert agreed["outcome"]["overall"] == "award"

    with nothing_stored(lead, APP):
        refused(lead.post(f"{APP}/visit", {"on": SUMMER_1.isoformat()}), 409, "on", says="summer-2")
        refused(lead.post(f"{APP}/visit", {"on": "2027-07-22"}), 409, "on")
        refused(lead.post(f"{APP}/visit", {"on": "2027-06-12"}), 422, "on",
                says="Saturday 12 June 2027 is not a school day (a Saturday)")
    view = lead.ok(lead.post(f"{APP}/visit", {"on": SUMMER_2.isoformat()}))
    j.did("VisitScheduled", people.system.lead)
    j.milestone("VisitScheduled")
    assert view["stage"] == "visit_scheduled"
    assert view["visit"] == {"on": SUMMER_2.isoformat(), "attendees": [], "notes": "", "recorded": False}

    m1 = people.api(people.m1)
    visit = {"attendees": ["Mo Member", "Head teacher", "School council"], "notes": "Pupils led the tour"}
    with nothing_stored(lead, APP):  # 1 March: the visit's day has not come, and the decision waits for it
        refused(m1.call("PUT", f"{APP}/visit", json=visit), 422, "on", says="record it on or after that day")
        refused(lead.post(f"{APP}/decision", {"reasons": "Before the visit"}), 422, "visit",
                says="waits for the school's visit")
    people.system.move_clock(VISIT_MORNING)  # the rehearsal moves on to the visit's day
    assert today(people.system) == SUMMER_2
    view = m1.ok(m1.call("PUT", f"{APP}/visit", json=visit))
    j.did("VisitRecorded", people.m1)
    assert view["stage"] == "visited" and view["visit"]["recorded"] is True
    assert view["visit"]["attendees"] == visit["attendees"] and view["visit"]["on"] == SUMMER_2.isoformat()

    view = lead.ok(lead.post(f"{APP}/decision", {"reasons": "Every criterion met; a warm school"}))
    j.did("Decided", people.system.lead)
    j.milestone("Awarded")
    assert view["stage"] == "awarded"
    assert view["award"] == {"awarded_on": SUMMER_2.isoformat(),
                             "expires_on": add_years(SUMMER_2, 3).isoformat()}
    decision = view["decision"]
    assert (decision["outcome"], decision["on"], decision["by"]) == (
        "awarded", SUMMER_2.isoformat(), people.system.lead.actor)
    assert decision["appraisal"] == agreed["id"]
    assert decision["panel_members"] == sorted([people.m1.id, people.m2.id, people.m4.id])
    with nothing_stored(lead, APP):  # the journey is over
        refused(school.post(f"{APP}/evidence", {"criterion": NOT_YET, "title": "Late"}), 409, "stage")
        refused(lead.post(f"{APP}/decision", {"reasons": "Again"}), 409, "stage")
    return view


def check_audit_trail(j: Journey, started_at: dt.datetime) -> None:
    """Step 7: history with who and when, the final appraisal, the state at an instant."""
    people, lead = j.people, j.lead
    history = lead.ok(lead.get(f"{APP}/history"))["items"]
    assert [(h["event"], h["actor"]) for h in history] == j.trail
    assert [h["version"] for h in history] == list(range(1, len(j.trail) + 1))
    assert all(re.fullmatch(r"account:[0-9a-f]{32}", h["actor"]) for h in history)
    assert {h["actor"] for h in history} == {j.coordinator.actor, people.system.lead.actor,
                                             people.m1.actor}
    times = [dt.datetime.fromisoformat(h["at"]) for h in history]
    assert times == sorted(times)
    assert started_at <= times[0] and times[-1] <= dt.datetime.now(dt.UTC)
    assert history[0]["details"]["school_year"] == YEAR
    assert j.school.ok(j.school.get(f"{APP}/history"))["items"] == history  # the school sees it too

    appraisal = lead.ok(lead.get(appraisal_path(URN, "final")))
    assert appraisal["declarations"] == {
        people.m1.id: {"conflicted": False, "interests": ""},
        people.m2.id: {"conflicted": False, "interests": ""},
        people.m3.id: {"conflicted": True, "interests": "My child attends the school"},
        people.m4.id: {"conflicted": False, "interests": ""}}
    assert set(appraisal["judgements"]) == {people.m1.id, people.m2.id, people.m4.id}
    for member in (people.m1, people.m2, people.m4):
        judged = appraisal["judgements"][member.id]
        assert judged == {c: {"outcome": "met", "comment": f"{member.name} on {c}"} for c in j.criteria}
    outcome = appraisal["outcome"]
    assert (outcome["overall"], outcome["members"], outcome["by"]) == (
        "award", sorted([people.m1.id, people.m2.id, people.m4.id]), people.system.lead.actor)
    assert set(outcome["criteria"]) == set(j.criteria)
    assert appraisal["submission"] == 2 and appraisal["outstanding"] == []

    released = next(h for h in history if h["event"] == "FeedbackReleased")
    final = next(h for h in history if h["event"] == "Submitted" and h["details"]["stage"] == "final")
    low, high = dt.datetime.fromisoformat(released["at"]), dt.datetime.fromisoformat(final["at"])
    assert low < high
    then = lead.ok(lead.get(APP, params={"as_of": (low + (high - low) / 2).isoformat()}))
    assert then["stage"] == "draft_feedback"
    assert [s["stage"] for s in then["submissions"]] == ["draft"]
    assert set(then["feedback"]) == {"draft"} and then["decision"] is None
    refused(lead.get(APP, params={"as_of": (started_at - dt.timedelta(days=1)).isoformat()}),
            404, "as_of")
    refused(lead.get(APP, params={"as_of": "yesterday"}), 422, "as_of")


def check_published(j: Journey, tap: ApplicationsTap) -> None:
    """Step 8: each milestone once, in order, at its position in the applications log."""
    settled_applications(j.lead, j.lead.applications_position())
    # the application's milestones among its other news (evidence added, the panel's steps)
    messages = [m for m in tap.drain() if json.loads(m.body)["payload"].get("urn") == URN
                and m.delivery_info["routing_key"] in MILESTONES]
    assert [m.delivery_info["routing_key"] for m in messages] == MILESTONES
    events = [parse_envelope(json.loads(m.body)) for m in messages]
    assert [e.type for e in events] == MILESTONES
    positions = [j.positions[name] for name in MILESTONES]
    assert positions == sorted(set(positions))
    assert [e.position for e in events] == positions
    assert [m.properties["message_id"] for m in messages] == [f"applications:{p}" for p in positions]
    assert {e.origin for e in events} == {"applications"}
    assert {(e.payload["urn"], e.payload["school_year"]) for e in events} == {(URN, YEAR)}
    assert len({e.payload["application"] for e in events}) == 1
    lead, coordinator = j.people.system.lead.actor, j.coordinator.actor
    assert [e.actor for e in events] == [coordinator, coordinator, lead, coordinator, lead, lead]
    assert [e.payload.get("stage") for e in events[1:4]] == ["draft", "draft", "final"]
    assert events[4].payload["on"] == SUMMER_2.isoformat()
    assert (events[5].payload["outcome"], events[5].payload["expires_on"]) == (
        "awarded", add_years(SUMMER_2, 3).isoformat())


def test_a_school_journey_from_pledge_to_award(people: People) -> None:
    system = people.system
    started_at = dt.datetime.now(dt.UTC)
    j = Journey(people)
    tap = ApplicationsTap(system.amqp_uri)  # bound before anything is published
    try:
        pledge(people, URN)  # 1.
        draft = start_and_prepare(j)  # 2.
        form_draft_panel(j)  # 3.
        appraise(j, "draft", draft["submissions"][0], not_yet=(NOT_YET,))  # 4.
        draft_view = release_draft_feedback(j)  # 5.
        final_to_award(j, draft_view)  # 6.
        check_audit_trail(j, started_at)  # 7.
        check_published(j, tap)  # 8.
    finally:
        tap.close()


# -- product bugs, pinned ---------------------------------------------------------------------


def test_naming_a_conflicted_member_in_the_outcome_is_refused_as_bad_input(people: People) -> None:
    urn = "610021"
    to_draft_assigned(people, urn)
    for member, conflicted in ((people.m1, False), (people.m3, True)):
        api = people.api(member)
        api.ok(api.post(f"{appraisal_path(urn, 'draft')}/declaration",
                        {"conflicted": conflicted, "interests": "Governor there" if conflicted else ""}))
    body = {"criteria": {c: {"outcome": "met", "comment": "ok"} for c in
                         people.school(urn).ok(people.school(urn).get(app_path(urn)))["audit"]},
            "overall": "award", "members": [people.m1.id, people.m3.id]}
    lead = people.lead
    with nothing_stored(lead):
        response = lead.post(f"{appraisal_path(urn, 'draft')}/outcome", body)
    assert response.status_code in (409, 422), response.text
    assert "members" in response.json().get("fields", {}), response.text


def test_a_panel_member_on_no_panel_for_the_school_cannot_record_its_visit(people: People) -> None:
    urn = "610022"
    to_draft_assigned(people, urn)
    lead, school, path = people.lead, people.school(urn), app_path(urn)
    agree_clear(people, urn, "draft", "award")
    lead.ok(lead.post(f"{path}/feedback/draft", {"summary": "Fine"}))
    lead.ok(lead.post(f"{path}/extensions", {"stage": "final", "until": "2027-07-21", "reason": "Joined late",
                                             "beyond_panel_meeting": True}))  # the summer's clock
    school.ok(school.post(f"{path}/submissions", {"stage": "final"}))
    lead.ok(lead.post(f"{path}/visit", {"on": SUMMER_2.isoformat()}))
    outsider = people.api(people.outsider)  # on no panel at all
    with nothing_stored(lead, path):
        response = outsider.call("PUT", f"{path}/visit", json={"attendees": ["Pip"], "notes": "Made up"})
        assert response.status_code == 403, response.text


def test_the_panel_sees_the_audit_as_submitted(people: People) -> None:
    urn = "610023"
    submitted = to_draft_assigned(people, urn)
    school, path = people.school(urn), app_path(urn)
    m1 = people.api(people.m1)
    base = appraisal_path(urn, "draft")
    m1.ok(m1.post(f"{base}/declaration", {"conflicted": False}))
    seen = m1.ok(m1.get(f"{base}/application"))
    assert seen["submission"]["version"] == submitted["version"]
    assert seen["audit"]["learn-1"]["status"] == "met"
    # after submitting, the school rewrites its audit of learn-1
    school.ok(school.call("PUT", f"{path}/audit", json={"criterion": "learn-1", "status": "developing",
                                                       "practice": "Rewritten after submitting"}))
    again = m1.ok(m1.get(f"{base}/application"))
    assert again["audit"] == seen["audit"], "the panel's view of the submitted audit changed"
