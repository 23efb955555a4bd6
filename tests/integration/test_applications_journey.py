"""The Applications application on a real store (SQLite and PostgreSQL): a school's whole
accreditation journey across Coventry's 2026-27 dates, the panels that appraise it, the audit
trail, and the commands the rules refuse (which must store nothing)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import time
import uuid

import pytest

from services.applications.api import ApplicationsApi
from services.applications.application import Applications
from services.applications.portfolio import Upload
from services.applications.trail import decision_trail, render_html
from shared.access import Principal
from shared.authority import Authority, load_authority
from shared.clock import FixedClock
from shared.config import ROOT
from shared.consumer import consume
from shared.envelope import IntegrationEvent
from shared.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthorized
from shared.files import FileStore
from shared.schema import jsonable
from tests.integration import ON_POSTGRES

pytestmark = ON_POSTGRES  # see tests/integration/__init__.py

YEAR = "2026-27"
URN = "103712"
SCHOOL = "Hill Primary"
LEAD = "account:lead"
SCHOOL_LEAD = "account:coordinator"
PANEL = {"amy": True, "ben": False, "cat": False}  # account -> lived experience
CRITERIA = ["learn-1", "learn-2", "embed-3", "embed-4", "embed-5", "share-6", "share-7", "share-8"]

_positions = itertools.count(1)  # positions in the pledges log, unique for the whole run


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def now() -> dt.datetime:
    """A real instant between two commands (event timestamps come from the real clock)."""
    time.sleep(0.002)
    instant = dt.datetime.now(dt.UTC)
    time.sleep(0.002)
    return instant


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(utc(2026, 9, 21, 9, 0))


@pytest.fixture
def app(store, coventry: Authority, clock: FixedClock) -> Applications:
    application = Applications(env=store.env("applications"), authority=coventry, clock=clock)
    yield application
    application.close()


# -- helpers -----------------------------------------------------------------------------


def tell(app: Applications, kind: str, version: int = 1, **payload: object) -> bool:
    """Feed one piece of pledge news, as the bus would deliver it."""
    news = IntegrationEvent(
        id=str(uuid.uuid4()), type=kind, schema_version=version, origin="pledges", position=next(_positions),
        occurred_at="2026-07-01T09:00:00+00:00", authority=app.authority.slug, actor="account:lead",
        payload=payload)
    return consume(app, news.to_dict(), app.learn_pledge_news)


def pledged(app: Applications, urn: str = URN, name: str = SCHOOL,
            signed_on: dt.date = dt.date(2025, 9, 1)) -> None:
    assert tell(app, "SchoolRegistered", urn=urn, name=name, phase="primary", postcode="CV1 2AB",
                coordinator={"name": "Ann Coordinator", "email": "ann@example.org"})
    assert tell(app, "PledgeSigned", urn=urn, signed_by="Ms Head", role="Head teacher",
                signed_on=signed_on.isoformat())


def stored(app: Applications) -> int:
    return app.recorder.max_notification_id() or 0


def refused(app: Applications, kind: type[DomainError], field: str | None, command) -> DomainError:
    """``command`` raises exactly ``kind`` naming ``field`` and stores nothing."""
    before = stored(app)
    with pytest.raises(kind) as caught:
        command()
    assert type(caught.value) is kind
    assert caught.value.field == field
    assert stored(app) == before, "a refused command stored events"
    return caught.value


def prepared(app: Applications, clock: FixedClock, urn: str = URN, name: str = SCHOOL,
             year: str = YEAR) -> dict:
    """Pledged, started, audited with evidence for every criterion and one action."""
    pledged(app, urn, name)
    clock.at = utc(2026, 9, 21, 9, 0)
    app.start(SCHOOL_LEAD, urn, year)
    for code in CRITERIA:
        app.record_audit(SCHOOL_LEAD, urn, year, code, "met", f"Practice for {code}")
        app.add_evidence(SCHOOL_LEAD, urn, year, code, f"Evidence for {code}")
    return app.plan_action(SCHOOL_LEAD, urn, year, "embed-4", "Plan Refugee Week assemblies", "Mr Art",
                           target_date=dt.date(2027, 6, 14), action_id="refugee-week")


def convened(app: Applications, stage: str, year: str = YEAR, members: dict[str, bool] = PANEL) -> None:
    """The cycle's panel for ``stage``, formed and convened unless it already is."""
    try:
        app.form_panel(LEAD, year, stage)
    except Conflict:
        return
    for account, lived in members.items():
        app.add_panel_member(LEAD, year, stage, account, lived)
    app.convene(LEAD, year, stage)


def outcomes(**not_met: str) -> dict[str, dict]:
    """The panel's agreed criteria: met, except those named (criterion with _ -> comment)."""
    agreed = {code: {"outcome": "met", "comment": f"{code} is well evidenced."} for code in CRITERIA}
    for code, comment in not_met.items():
        agreed[code.replace("_", "-")] = {"outcome": "not_yet_met", "comment": comment}
    return agreed


def appraised(app: Applications, stage: str, criteria: dict[str, dict], overall: str,
              urn: str = URN, year: str = YEAR) -> dict:
    """Assign, every member declares and judges, the panel agrees."""
    app.assign(LEAD, year, stage, urn)
    for member in PANEL:
        app.declare(member, urn, year, stage, conflicted=False)
        for code, agreed in criteria.items():
            app.judge(member, urn, year, stage, code, agreed["outcome"], f"{member}: {agreed['comment']}")
        app.note(member, urn, year, stage, strengths="Pupil voice", questions="Who leads next year?")
    return app.agree_outcome(LEAD, urn, year, stage, criteria, overall, list(PANEL))


def awarded(app: Applications, clock: FixedClock, urn: str = URN,
            name: str = SCHOOL) -> dict[str, dt.datetime]:
    """The whole Coventry journey, quickly; returns real instants between its steps."""
    marks = {"before": now()}
    prepared(app, clock, urn, name)
    clock.at = utc(2027, 3, 25, 15, 0)
    app.submit(SCHOOL_LEAD, urn, YEAR, "draft")
    clock.at = utc(2027, 4, 20, 14, 0)
    convened(app, "draft")
    appraised(app, "draft", outcomes(learn_2="Only history teaches it."), "further_evidence", urn)
    app.release_feedback(LEAD, urn, YEAR, "draft", "Nearly there: widen learn-2.")
    marks["draft_feedback"] = now()
    app.add_evidence(SCHOOL_LEAD, urn, YEAR, "learn-2", "Geography and RE units")
    clock.at = utc(2027, 5, 28, 15, 0)
    app.submit(SCHOOL_LEAD, urn, YEAR, "final")
    clock.at = utc(2027, 6, 10, 14, 0)
    convened(app, "final")
    appraised(app, "final", outcomes(), "award", urn)
    app.schedule_visit(LEAD, urn, YEAR, dt.date(2027, 6, 15))
    clock.at = utc(2027, 6, 15, 15, 0)  # a visit is recorded once its day has come
    app.record_visit(LEAD, urn, YEAR, ["amy", "ben"], "Pupils led the tour.")
    app.release_feedback(LEAD, urn, YEAR, "final", "Every criterion met.")
    clock.at = utc(2027, 7, 1, 9, 0)
    marks["before_decision"] = now()
    app.decide(LEAD, urn, YEAR, "The panel found every criterion met.")
    marks["decided"] = now()
    return marks


# -- 1. the whole journey -----------------------------------------------------------------------


def test_the_full_coventry_journey_of_one_school(app: Applications, clock: FixedClock,
                                                 coventry: Authority) -> None:
    cycle = coventry.cycle(YEAR)
    pledged(app)

    # September 2026: the school starts; everything is missing
    view = app.start(SCHOOL_LEAD, URN, YEAR)
    assert view["stage"] == "started" and view["school_name"] == SCHOOL
    assert view["criteria_version"] == "sos-2026" and view["renewal_of"] is None
    assert view["next_submission"] == "draft" and view["deadline"] == dt.date(2027, 3, 25)
    assert len(view["missing"]) == 8
    assert all(gaps == ["audit status is not started", "no evidence yet"]
               for gaps in view["missing"].values())

    # the audit, then evidence: the gaps shrink criterion by criterion
    gaps = sum(len(g) for g in view["missing"].values())
    for code in CRITERIA:
        view = app.record_audit(SCHOOL_LEAD, URN, YEAR, code, "met", f"Practice for {code}", "Keep going")
        assert sum(len(g) for g in view["missing"].values()) == gaps - 1
        gaps -= 1
    assert view["missing"] == {code: ["no evidence yet"] for code in CRITERIA}
    for done, code in enumerate(CRITERIA, 1):
        view = app.add_evidence(SCHOOL_LEAD, URN, YEAR, code, f"Evidence for {code}", "Photos and minutes")
        assert len(view["missing"]) == 8 - done
    assert view["missing"] == {}
    view = app.plan_action(SCHOOL_LEAD, URN, YEAR, "embed-4", "Plan Refugee Week assemblies", "Mr Art",
                           target_date=dt.date(2027, 6, 14))
    assert [(a["criterion"], a["target_date"]) for a in view["actions"]] == [
        ("embed-4", dt.date(2027, 6, 14))]
    assert view["stage"] == "started"

    # Thursday 25 March 2027: the draft, on the deadline day
    clock.at = utc(2027, 3, 25, 16, 30)
    view = app.submit(SCHOOL_LEAD, URN, YEAR, "draft")
    assert view["stage"] == "draft_submitted" and view["next_submission"] is None
    draft = view["submissions"][0]
    assert (draft["stage"], draft["on"], draft["under_extension"], draft["version"]) == (
        "draft", dt.date(2027, 3, 25), False, 1)
    assert sorted(draft["evidence"]) == sorted(e["id"] for e in view["evidence"])

    # Tuesday 20 April 2027: the draft panel
    clock.at = utc(2027, 4, 20, 14, 0)
    panel = app.form_panel(LEAD, YEAR, "draft")
    assert panel["meets_on"] == cycle.draft_panel == dt.date(2027, 4, 20)
    for account, lived in PANEL.items():
        panel = app.add_panel_member(LEAD, YEAR, "draft", account, lived)
    assert [(m["account"], m["lived_experience"]) for m in panel["members"]] == list(PANEL.items())
    panel = app.convene(LEAD, YEAR, "draft")
    assert panel["convened"] is True
    opened = app.assign(LEAD, YEAR, "draft", URN)
    assert opened["outstanding"] == list(PANEL) and opened["submission"] == 1
    agreed = outcomes(learn_2="Only history teaches forced migration.")
    for member in PANEL:
        summary = app.declare(member, URN, YEAR, "draft", conflicted=False)
        assert summary["declared"] and not summary["conflicted"]
        seen = app.for_panel_member(member, URN, YEAR, "draft")
        assert sorted(e["id"] for e in seen["evidence"]) == sorted(draft["evidence"])
        for code, judged in agreed.items():
            summary = app.judge(member, URN, YEAR, "draft", code, judged["outcome"], f"{member}: ok")
        assert summary["judged"] == 8
    assert app.appraisal_view(app.appraisal(URN, YEAR, "draft"))["outstanding"] == []
    result = app.agree_outcome(LEAD, URN, YEAR, "draft", agreed, "further_evidence", ["cat", "amy", "ben"])
    assert result["outcome"]["members"] == ["amy", "ben", "cat"]
    view = app.release_feedback(LEAD, URN, YEAR, "draft", "Nearly there: widen learn-2.")
    assert view["stage"] == "draft_feedback"
    assert view["feedback"]["draft"]["criteria"] == agreed
    assert view["feedback"]["draft"]["appraisal"] == result["id"]
    assert view["missing"] == {"learn-2": ["the panel found it not yet met"]}
    assert view["next_submission"] == "final" and view["deadline"] == dt.date(2027, 5, 28)

    # the school responds with more evidence
    view = app.add_evidence(SCHOOL_LEAD, URN, YEAR, "learn-2", "Geography and RE units", "Years 4-6")
    response = view["evidence"][-1]
    assert response["added_at_stage"] == "draft_feedback"

    # Friday 28 May 2027, 23:30 in Coventry (BST): the final, still in time
    clock.at = utc(2027, 5, 28, 22, 30)
    view = app.submit(SCHOOL_LEAD, URN, YEAR, "final")
    assert view["stage"] == "final_submitted"
    final = view["submissions"][1]
    assert (final["stage"], final["on"], final["version"]) == ("final", dt.date(2027, 5, 28), 2)
    assert response["id"] in final["evidence"] and len(final["evidence"]) == 9
    assert len(view["submissions"][0]["evidence"]) == 8  # the draft's list is unchanged

    # Thursday 10 June 2027: the final panel
    clock.at = utc(2027, 6, 10, 14, 0)
    assert app.form_panel(LEAD, YEAR, "final")["meets_on"] == dt.date(2027, 6, 10)
    for account, lived in PANEL.items():
        app.add_panel_member(LEAD, YEAR, "final", account, lived)
    app.convene(LEAD, YEAR, "final")
    final_appraisal = appraised(app, "final", outcomes(), "award")
    assert final_appraisal["submission"] == 2 and final_appraisal["outcome"]["overall"] == "award"
    assert app.application(URN, YEAR)["stage"] == "final_submitted"

    # the visit, within Summer 2 as the config defines it
    window = cycle.visit_window
    assert window.name == "summer-2"
    visit_day = window.start + dt.timedelta(days=8)
    assert visit_day in window
    view = app.schedule_visit(LEAD, URN, YEAR, visit_day)
    assert view["stage"] == "visit_scheduled" and view["visit"]["on"] == visit_day
    refused(app, Invalid, "visit", lambda: app.decide(LEAD, URN, YEAR, "Before the visit"))  # Coventry
    refused(app, Invalid, "on", lambda: app.record_visit(LEAD, URN, YEAR, ["amy"], "Not yet"))
    clock.at = dt.datetime.combine(visit_day, dt.time(15), tzinfo=coventry.timezone)
    view = app.record_visit(LEAD, URN, YEAR, ["amy", "ben"], "Met the school council and parents.")
    assert view["stage"] == "visited"
    assert view["visit"] == {"on": visit_day, "attendees": ["amy", "ben"],
                             "notes": "Met the school council and parents.", "recorded": True}
    view = app.release_feedback(LEAD, URN, YEAR, "final", "Every criterion met.")
    assert view["missing"] == {}

    # the decision: awarded for three years
    clock.at = utc(2027, 7, 1, 9, 0)
    view = app.decide(LEAD, URN, YEAR, "The panel found every criterion met.")
    assert view["stage"] == "awarded"
    assert view["award"] == {"awarded_on": dt.date(2027, 7, 1), "expires_on": dt.date(2030, 7, 1)}
    assert view["decision"]["appraisal"] == final_appraisal["id"]
    assert view["next_submission"] is None and view["deadline"] is None
    assert app.application(URN, YEAR) == view


# -- 2. deadlines and extensions --------------------------------------------------------------------


def test_a_late_draft_is_refused_until_the_lead_grants_an_extension(app: Applications,
                                                                    clock: FixedClock) -> None:
    prepared(app, clock)
    prepared(app, clock, "100001", "Alder School")
    clock.at = utc(2027, 3, 25, 12, 0)
    app.submit(SCHOOL_LEAD, "100001", YEAR, "draft")

    clock.at = utc(2027, 3, 26, 9, 0)  # Good Friday, the day after the deadline
    refusal = refused(app, Conflict, "deadline", lambda: app.submit(SCHOOL_LEAD, URN, YEAR, "draft"))
    assert "Thursday 25 March 2027" in refusal.message
    overview = app.cycle_overview(YEAR)
    assert overview["today"] == dt.date(2027, 3, 26)
    assert overview["by_stage"] == {"draft_submitted": 1, "started": 1}
    assert overview["applications"] == [
        {"urn": "100001", "school_name": "Alder School", "stage": "draft_submitted", "next_submission": None,
         "deadline": None, "late": False, "sooner_than_advised": False, "extension": None},
        {"urn": URN, "school_name": SCHOOL, "stage": "started", "next_submission": "draft",
         "deadline": dt.date(2027, 3, 25), "late": True, "sooner_than_advised": False, "extension": None},
    ]

    until = dt.date(2027, 4, 9)
    view = app.grant_extension(LEAD, URN, YEAR, "draft", until, "Staff illness")
    assert view["extensions"] == {"draft": {"until": until, "reason": "Staff illness", "granted_by": LEAD,
                                            "beyond_panel_meeting": False}}
    row = app.cycle_overview(YEAR)["applications"][1]
    assert (row["urn"], row["late"], row["extension"]) == (URN, False, until)

    view = app.submit(SCHOOL_LEAD, URN, YEAR, "draft")
    assert view["stage"] == "draft_submitted"
    assert view["submissions"][0]["on"] == dt.date(2027, 3, 26)
    assert view["submissions"][0]["under_extension"] is True
    assert [h["event"] for h in app.history(URN, YEAR)][-2:] == ["ExtensionGranted", "Submitted"]


def test_an_extension_ends_with_its_day(app: Applications, clock: FixedClock) -> None:
    prepared(app, clock)
    app.grant_extension(LEAD, URN, YEAR, "draft", dt.date(2027, 4, 1), "Staff illness")
    clock.at = utc(2027, 4, 1, 23, 30)  # 00:30 on 2 April in Coventry (BST)
    assert app.cycle_overview(YEAR)["applications"][0]["late"] is True
    refused(app, Conflict, "deadline", lambda: app.submit(SCHOOL_LEAD, URN, YEAR, "draft"))
    clock.at = utc(2027, 4, 1, 22, 30)  # 23:30 on 1 April
    assert app.submit(SCHOOL_LEAD, URN, YEAR, "draft")["submissions"][0]["under_extension"] is True


def test_after_further_evidence_the_schools_own_date_and_what_is_still_missing(
        app: Applications, clock: FixedClock) -> None:
    """After a further-evidence decision the school works to its own date (an extension of the
    cycle's final deadline is spent), and what is still missing is worked out again after the
    panel's feedback and after the school's response."""
    prepared(app, clock)
    clock.at = utc(2027, 3, 25, 12, 0)
    app.submit(SCHOOL_LEAD, URN, YEAR, "draft")
    clock.at = utc(2027, 4, 20, 14, 0)
    convened(app, "draft")
    appraised(app, "draft", outcomes(), "award")
    app.release_feedback(LEAD, URN, YEAR, "draft", "Good")
    app.grant_extension(LEAD, URN, YEAR, "final", dt.date(2027, 6, 4), "Staff illness")
    app.submit(SCHOOL_LEAD, URN, YEAR, "final")
    clock.at = utc(2027, 6, 10, 14, 0)
    convened(app, "final")
    appraised(app, "final", outcomes(share_8="No local links yet."), "further_evidence")
    app.schedule_visit(LEAD, URN, YEAR, dt.date(2027, 6, 15))
    clock.at = utc(2027, 6, 15, 14, 0)
    app.record_visit(LEAD, URN, YEAR, ["amy", "ben"], "Pupils led the tour.")
    view = app.release_feedback(LEAD, URN, YEAR, "final", "Show links with CRMC.")
    assert view["missing"] == {"share-8": ["the panel found it not yet met"]}

    view = app.decide(LEAD, URN, YEAR, "Show links with CRMC.", evidence_due=dt.date(2027, 7, 9))
    assert (view["stage"], view["next_submission"], view["deadline"]) == (
        "further_evidence", "final", dt.date(2027, 7, 9))
    assert "final" not in view["extensions"]  # granted for the cycle's deadline: spent
    [row] = app.cycle_overview(YEAR)["applications"]
    assert (row["deadline"], row["extension"], row["late"]) == (dt.date(2027, 7, 9), None, False)

    # the school's response: evidence for the criterion the panel found not yet met closes its gap
    view = app.add_evidence(SCHOOL_LEAD, URN, YEAR, "learn-1", "Another assembly")
    assert view["missing"] == {"share-8": ["the panel found it not yet met"]}
    view = app.add_evidence(SCHOOL_LEAD, URN, YEAR, "share-8", "Letter from CRMC")
    assert view["missing"] == {}

    clock.at = utc(2027, 7, 9, 23, 30)  # 10 July in Coventry: after the school's own date
    refused(app, Conflict, "deadline", lambda: app.submit(SCHOOL_LEAD, URN, YEAR, "final"))
    clock.at = utc(2027, 7, 9, 12, 0)
    assert app.submit(SCHOOL_LEAD, URN, YEAR, "final")["submissions"][-1]["version"] == 3

    # the panel looks again: its new feedback is what counts, until the school answers it
    appraised(app, "final", outcomes(share_8="A letter, not yet a partnership."), "further_evidence")
    view = app.release_feedback(LEAD, URN, YEAR, "final", "Show the partnership at work.")
    assert view["missing"] == {"share-8": ["the panel found it not yet met"]}
    view = app.add_evidence(SCHOOL_LEAD, URN, YEAR, "share-8", "Joint Refugee Week event")
    assert view["missing"] == {}


# -- 3. who may sit and who may see ------------------------------------------------------------------


def test_conflicted_members_are_kept_out_and_a_short_panel_cannot_sit(app: Applications,
                                                                      clock: FixedClock) -> None:
    prepared(app, clock)
    clock.at = utc(2027, 3, 24, 12, 0)
    app.submit(SCHOOL_LEAD, URN, YEAR, "draft")
    clock.at = utc(2027, 4, 20, 14, 0)
    app.form_panel(LEAD, YEAR, "draft")
    app.add_panel_member(LEAD, YEAR, "draft", "amy", True)
    app.add_panel_member(LEAD, YEAR, "draft", "ben", False)

    refusal = refused(app, Conflict, "members", lambda: app.convene(LEAD, YEAR, "draft"))
    assert "it has 2, 1 with lived experience" in refusal.message
    refused(app, Conflict, "panel", lambda: app.assign(LEAD, YEAR, "draft", URN))
    app.add_panel_member(LEAD, YEAR, "draft", "cat", False)
    refused(app, Conflict, "stage", lambda: app.form_panel(LEAD, YEAR, "draft"))
    refused(app, Conflict, "account", lambda: app.add_panel_member(LEAD, YEAR, "draft", "cat", True))
    assert app.convene(LEAD, YEAR, "draft")["convened"] is True
    refused(app, Invalid, "reason", lambda: app.remove_panel_member(LEAD, YEAR, "draft", "amy"))
    refused(app, Conflict, "members", lambda: app.remove_panel_member(LEAD, YEAR, "draft", "amy",
                                                                      "Moved away"))
    app.assign(LEAD, YEAR, "draft", URN)
    refused(app, Conflict, "application", lambda: app.assign(LEAD, YEAR, "draft", URN))

    # nobody sees the application before declaring; an outsider never does
    refused(app, Forbidden, None, lambda: app.for_panel_member("ben", URN, YEAR, "draft"))
    refused(app, Forbidden, None, lambda: app.judge("ben", URN, YEAR, "draft", "learn-1", "met", "Fine"))
    refused(app, Forbidden, None, lambda: app.declare("zed", URN, YEAR, "draft", conflicted=False))
    refused(app, Forbidden, None, lambda: app.for_panel_member("zed", URN, YEAR, "draft"))

    # cat knows the school: she must say how, and is then excluded
    refused(app, Invalid, "interests", lambda: app.declare("cat", URN, YEAR, "draft", conflicted=True))
    app.declare("cat", URN, YEAR, "draft", conflicted=True, interests="My son attends the school")
    refused(app, Conflict, "declaration",
            lambda: app.declare("cat", URN, YEAR, "draft", conflicted=False))
    for command in (
        lambda: app.for_panel_member("cat", URN, YEAR, "draft"),
        lambda: app.judge("cat", URN, YEAR, "draft", "learn-1", "met", "Fine"),
        lambda: app.note("cat", URN, YEAR, "draft", strengths="Lovely school"),
    ):
        refused(app, Forbidden, None, command)
    assert app.appraisals_for("cat") == [
        {"urn": URN, "school_name": SCHOOL, "stage": "draft", "school_year": YEAR, "declared": True,
         "conflicted": True, "judged": 0, "criteria": 8, "agreed": False}]

    for member in ("amy", "ben"):
        app.declare(member, URN, YEAR, "draft", conflicted=False)
        assert app.for_panel_member(member, URN, YEAR, "draft")["submission"]["version"] == 1
        for code in CRITERIA:
            app.judge(member, URN, YEAR, "draft", code, "met", "Evidenced")
    assert app.appraisal_view(app.appraisal(URN, YEAR, "draft"))["outstanding"] == []
    refused(app, Invalid, "members", lambda: app.agree_outcome(
        LEAD, URN, YEAR, "draft", outcomes(), "award", ["amy", "ben", "cat"]))

    # two clear members cannot decide for a panel that needs three: the lead adds one
    refusal = refused(app, Invalid, "members", lambda: app.agree_outcome(
        LEAD, URN, YEAR, "draft", outcomes(), "award", ["amy", "ben"]))
    assert "this outcome was agreed by 2, 1 with lived experience (1 declared a conflict" in refusal.message
    assert "Missing: 1 more member. Add a member to the panel" in refusal.message
    panel = app.add_panel_member(LEAD, YEAR, "draft", "dan", False, "A fourth, clear of conflict")
    assert [m["account"] for m in panel["members"]] == ["amy", "ben", "cat", "dan"]
    assert app.appraisal_view(app.appraisal(URN, YEAR, "draft"))["outstanding"] == ["dan"]
    refused(app, Invalid, "members", lambda: app.agree_outcome(
        LEAD, URN, YEAR, "draft", outcomes(), "award", ["amy", "ben", "dan"]))  # dan has not declared
    app.declare("dan", URN, YEAR, "draft", conflicted=False)
    for code in CRITERIA:
        app.judge("dan", URN, YEAR, "draft", code, "met", "Evidenced")
    agreed = app.agree_outcome(LEAD, URN, YEAR, "draft", outcomes(), "award", ["amy", "ben", "dan"])
    assert agreed["outcome"]["members"] == ["amy", "ben", "dan"]
    assert agreed["outcome"]["composition"] == {
        "min_members": 3, "min_lived_experience": 1, "agreed_by": 3, "with_lived_experience": 1,
        "conflicted": 1, "met": True}
    refused(app, Conflict, "appraisal",
            lambda: app.judge("amy", URN, YEAR, "draft", "learn-1", "not_yet_met", "Changed my mind"))


def test_a_member_taken_off_a_convened_panel_leaves_its_open_appraisals(app: Applications, clock: FixedClock,
                                                                        tmp_path) -> None:
    """Dan judged, then is taken off: he sees nothing of the school any more (its page, its
    files, the zip, his own part), records nothing, is not waited for and cannot be counted;
    the composition rule is checked again when the panel agrees its outcome."""
    app.files = FileStore(tmp_path / "portfolio", "the portfolio")
    prepared(app, clock)
    [evidence] = [e for e in app.application(URN, YEAR)["evidence"] if e["criterion"] == "learn-1"]
    added = app.add_files(SCHOOL_LEAD, URN, YEAR, evidence["id"],
                          [Upload("register.txt", "text/plain", b"Assembly register.\n")])
    [sha256] = [f["sha256"] for e in added["evidence"] if e["id"] == evidence["id"] for f in e["files"]]
    clock.at = utc(2027, 3, 24, 12, 0)
    app.submit(SCHOOL_LEAD, URN, YEAR, "draft")
    clock.at = utc(2027, 4, 20, 14, 0)
    convened(app, "draft", members={**PANEL, "dan": False})
    app.assign(LEAD, YEAR, "draft", URN)
    app.declare("cat", URN, YEAR, "draft", conflicted=True, interests="My son attends the school")
    for account in ("amy", "ben", "dan"):
        app.declare(account, URN, YEAR, "draft", conflicted=False)
        for code in CRITERIA:
            app.judge(account, URN, YEAR, "draft", code, "met", "Evidenced")
    dan = Principal("dan", "Dan", frozenset({("panel_member", None)}))
    assert app.evidence_file(dan, URN, YEAR, sha256)["sha256"] == sha256

    panel = app.remove_panel_member(LEAD, YEAR, "draft", "dan", "Moved to another authority")
    assert [m["account"] for m in panel["members"]] == ["amy", "ben", "cat"]
    assert panel["appraisals"][0]["members"] == ["amy", "ben", "cat"]
    for command in (lambda: app.for_panel_member("dan", URN, YEAR, "draft"),
                    lambda: app.member_appraisal("dan", URN, YEAR, "draft"),
                    lambda: app.evidence_file(dan, URN, YEAR, sha256),
                    lambda: app.portfolio_manifest(dan, URN, YEAR, "draft"),
                    lambda: app.judge("dan", URN, YEAR, "draft", "learn-1", "not_yet_met", "Changed"),
                    lambda: app.note("dan", URN, YEAR, "draft", strengths="Still reading"),
                    lambda: app.declare("dan", URN, YEAR, "draft", conflicted=False)):
        refused(app, Forbidden, None, command)
    assert app.appraisals_for("dan") == []
    view = app.appraisal_view(app.appraisal(URN, YEAR, "draft"))
    assert "dan" not in view["judgements"] and "dan" not in view["declarations"]
    assert view["outstanding"] == []

    refusal = refused(app, Invalid, "members", lambda: app.agree_outcome(
        LEAD, URN, YEAR, "draft", outcomes(), "award", ["amy", "ben", "dan"]))
    assert refusal.fields == {"members": ["Not eligible: dan."]}
    refusal = refused(app, Invalid, "members", lambda: app.agree_outcome(
        LEAD, URN, YEAR, "draft", outcomes(), "award", ["amy", "ben"]))
    assert "this outcome was agreed by 2, 1 with lived experience (1 declared a conflict" in refusal.message
    app.add_panel_member(LEAD, YEAR, "draft", "eve", False, "Replaces Dan")
    app.declare("eve", URN, YEAR, "draft", conflicted=False)
    agreed = app.agree_outcome(LEAD, URN, YEAR, "draft", outcomes(), "award", ["amy", "ben", "eve"])
    assert agreed["outcome"]["composition"]["agreed_by"] == 3

    reloaded = Applications(env=app.env, authority=app.authority, clock=clock)
    try:
        stored_appraisal = reloaded.appraisal(URN, YEAR, "draft")
    finally:
        reloaded.close()
    assert stored_appraisal.members == ["amy", "ben", "cat", "eve"]
    assert [(s["member"], len(s["judgements"])) for s in stored_appraisal.set_aside] == [("dan", 8)]


# -- 4. the audit trail --------------------------------------------------------------------------------


def test_a_decision_is_traceable_to_the_people_and_the_evidence(app: Applications,
                                                                clock: FixedClock) -> None:
    marks = awarded(app, clock)
    history = app.history(URN, YEAR)
    assert [h["event"] for h in history] == (
        ["Started"] + ["AuditRecorded", "EvidenceAdded"] * 8 + ["ActionPlanned", "Submitted",
         "FeedbackReleased", "EvidenceAdded", "Submitted", "VisitScheduled", "VisitRecorded",
         "FeedbackReleased", "Decided"])
    assert [h["version"] for h in history] == list(range(1, len(history) + 1))
    school_events = {"Started", "AuditRecorded", "EvidenceAdded", "ActionPlanned", "Submitted"}
    for entry in history:
        assert entry["actor"] == (SCHOOL_LEAD if entry["event"] in school_events else LEAD), entry
        assert entry["at"].tzinfo is not None
        assert marks["before"] < entry["at"] < marks["decided"]
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)

    appraisal = app.appraisal(URN, YEAR, "final")
    view = app.appraisal_view(appraisal)
    assert view["members"] == list(PANEL) and view["submission"] == 2
    assert view["declarations"] == {m: {"conflicted": False, "interests": ""} for m in PANEL}
    assert {m: sorted(j) for m, j in view["judgements"].items()} == {m: sorted(CRITERIA) for m in PANEL}
    assert view["judgements"]["amy"]["share-8"] == {"outcome": "met",
                                                   "comment": "amy: share-8 is well evidenced."}
    assert view["notes"]["ben"]["questions"] == "Who leads next year?"
    assert view["outcome"] == {"criteria": outcomes(), "overall": "award",
                               "members": ["amy", "ben", "cat"], "by": LEAD, "composition": {
                                   "min_members": 3, "min_lived_experience": 1, "agreed_by": 3,
                                   "with_lived_experience": 1, "conflicted": 0, "met": True}}
    assert view["outstanding"] == []

    # every member declared before judging, each under their own name
    trail = [(type(e).__name__, e.actor) for e in app.events.get(appraisal.id)]
    for member in PANEL:
        mine = [name for name, actor in trail if actor == f"account:{member}"]
        assert mine[0] == "InterestsDeclared" and mine.count("CriterionJudged") == 8
    assert trail[0] == ("Opened", LEAD) and trail[-1] == ("OutcomeAgreed", LEAD)

    decided = history[-1]["details"]
    assert decided["outcome"] == "awarded"
    assert decided["appraisal"] == str(appraisal.id)
    assert decided["panel_members"] == ["amy", "ben", "cat"]
    assert decided["expires_on"] == dt.date(2030, 7, 1)
    final = app.application(URN, YEAR)["submissions"][appraisal.submission - 1]
    assert final["stage"] == "final" and len(final["evidence"]) == 9


# -- 5. as it was then ----------------------------------------------------------------------------------


def test_an_application_as_it_was_at_an_instant(app: Applications, clock: FixedClock) -> None:
    marks = awarded(app, clock)
    then = app.application(URN, YEAR, as_of=marks["draft_feedback"])
    assert then["stage"] == "draft_feedback"
    assert list(then["feedback"]) == ["draft"]
    assert then["decision"] is None and len(then["submissions"]) == 1
    assert then["missing"] == {"learn-2": ["the panel found it not yet met"]}
    assert app.application(URN, YEAR, as_of=marks["before_decision"])["stage"] == "visited"
    assert app.application(URN, YEAR, as_of=marks["decided"])["stage"] == "awarded"
    assert app.application(URN, YEAR)["stage"] == "awarded"

    refusal = refused(app, NotFound, "as_of", lambda: app.application(URN, YEAR, as_of=marks["before"]))
    assert URN in refusal.message
    refused(app, NotFound, "urn", lambda: app.application("999999", YEAR))


# -- 6. who may start, once, and renewal --------------------------------------------------------------


def test_only_a_school_with_a_current_pledge_may_start(app: Applications, clock: FixedClock) -> None:
    refused(app, Conflict, "pledge", lambda: app.start(SCHOOL_LEAD, "999999", YEAR))  # never heard of
    assert tell(app, "SchoolRegistered", urn=URN, name=SCHOOL, phase="primary", postcode="CV1 2AB",
                coordinator={"name": "Ann", "email": "ann@example.org"})
    refusal = refused(app, Conflict, "pledge", lambda: app.start(SCHOOL_LEAD, URN, YEAR))
    assert "pledge" in refusal.message
    assert tell(app, "PledgeSigned", urn=URN, signed_by="Ms Head", role="Head teacher",
                signed_on="2026-07-01")
    assert tell(app, "PledgeWithdrawn", urn=URN, reason="New head", withdrawn_on="2026-09-01")
    refused(app, Conflict, "pledge", lambda: app.start(SCHOOL_LEAD, URN, YEAR))
    assert tell(app, "PledgeRenewed", urn=URN, renewed_by="Mr New", role="Head teacher",
                renewed_on="2026-09-14")
    refused(app, NotFound, "school_year", lambda: app.start(SCHOOL_LEAD, URN, "2031-32"))

    view = app.start(SCHOOL_LEAD, URN, YEAR)
    assert view["stage"] == "started" and view["school_name"] == SCHOOL
    refusal = refused(app, Conflict, "urn", lambda: app.start(SCHOOL_LEAD, URN, YEAR))
    assert YEAR in refusal.message
    assert [h["event"] for h in app.history(URN, YEAR)] == ["Started"]


def test_starting_sooner_than_a_school_year_after_the_pledge_warns_but_is_allowed(
        app: Applications, clock: FixedClock) -> None:
    pledged(app, signed_on=dt.date(2026, 9, 1))
    pledged(app, "100001", "Alder School")  # 1 September 2025: more than a year before
    clock.at = utc(2026, 9, 21, 9, 0)
    early = app.start(SCHOOL_LEAD, URN, YEAR)
    assert early["stage"] == "started"  # a warning, not a bar
    assert early["advice"]["advised_months"] == 12
    assert early["advice"]["pledged_on"] == dt.date(2026, 9, 1)
    assert early["advice"]["started_on"] == dt.date(2026, 9, 21)
    assert early["advice"]["advised_from"] == dt.date(2027, 9, 1)
    assert "1 September 2026" in early["advice"]["message"]
    assert app.start(SCHOOL_LEAD, "100001", YEAR)["advice"] is None
    rows = {r["urn"]: r["sooner_than_advised"] for r in app.cycle_overview(YEAR)["applications"]}
    assert rows == {URN: True, "100001": False}  # what the lead sees at a glance
    assert app.application(URN, YEAR)["advice"] == early["advice"]  # kept, not recomputed from today


def test_a_lapsed_pledge_cannot_start(app: Applications, clock: FixedClock) -> None:
    pledged(app, signed_on=dt.date(2023, 9, 20))  # lapses on 20 September 2026
    clock.at = utc(2026, 9, 20, 9, 0)
    refused(app, Conflict, "pledge", lambda: app.start(SCHOOL_LEAD, URN, YEAR))
    clock.at = utc(2026, 9, 19, 22, 59)  # 23:59 BST on the 19th: still current
    assert app.start(SCHOOL_LEAD, URN, YEAR)["stage"] == "started"


def test_the_lapse_day_the_pledges_service_tells_is_kept(app: Applications, clock: FixedClock) -> None:
    """PledgeSigned of schema 2 carries the day the pledge lapses, as the pledges service set it:
    kept as told (here a day that is not three years on), never worked out again. (Schema 1,
    without the day, is the news the other tests here feed.)"""
    assert tell(app, "SchoolRegistered", urn=URN, name=SCHOOL, phase="primary", postcode="CV1 2AB",
                coordinator={"name": "Ann Coordinator", "email": "ann@example.org"})
    assert tell(app, "PledgeSigned", version=2, urn=URN, signed_by="Ms Head", role="Head teacher",
                signed_on="2024-09-02", lapses_on="2026-09-21")
    clock.at = utc(2026, 9, 20, 9, 0)
    assert app.pledge_standing(URN)["may_apply"] is True
    clock.at = utc(2026, 9, 21, 9, 0)
    assert app.pledge_standing(URN)["may_apply"] is False
    refused(app, Conflict, "pledge", lambda: app.start(SCHOOL_LEAD, URN, YEAR))
    assert tell(app, "PledgeRenewed", version=2, urn=URN, renewed_by="Ms Head", role="Head teacher",
                renewed_on="2026-09-21", lapses_on="2029-09-21")
    assert app.start(SCHOOL_LEAD, URN, YEAR)["stage"] == "started"


def test_a_renewal_carries_the_action_plan_over(store, coventry: Authority, clock: FixedClock) -> None:
    cycle = coventry.cycle(YEAR)
    renewal_cycle = dataclasses.replace(
        cycle, school_year="2029-30", draft_deadline=dt.date(2030, 3, 22), draft_panel=dt.date(2030, 4, 23),
        final_deadline=dt.date(2030, 5, 24), final_panel=dt.date(2030, 6, 13), visit_window=None,
        feedback_by=dt.date(2030, 9, 2), renewal_deadline=dt.date(2030, 1, 25))
    authority = dataclasses.replace(coventry, cycles=(*coventry.cycles, renewal_cycle))
    app = Applications(env=store.env("applications"), authority=authority, clock=clock)
    try:
        awarded(app, clock)
        first = app.application(URN, YEAR)

        clock.at = utc(2029, 9, 10, 9, 0)  # the pledge of 1 September 2025 has lapsed
        refused(app, Conflict, "pledge", lambda: app.start(SCHOOL_LEAD, URN, "2029-30"))
        assert tell(app, "PledgeRenewed", urn=URN, renewed_by="Ms Head", role="Head teacher",
                    renewed_on="2029-06-20")
        renewal = app.start(SCHOOL_LEAD, URN, "2029-30")
        assert renewal["renewal_of"] == first["id"]
        assert renewal["advice"] is None  # renewed 82 days before, but a renewal is never warned
        assert renewal["actions"] == first["actions"]
        assert renewal["actions"][0]["id"] == "refugee-week"
        assert renewal["actions"][0]["target_date"] == dt.date(2027, 6, 14)
        assert renewal["stage"] == "started" and renewal["evidence"] == [] and renewal["submissions"] == []
        assert renewal["next_submission"] == "draft" and renewal["deadline"] == dt.date(2030, 3, 22)
        assert len(renewal["missing"]) == 8
        assert app.application(URN, YEAR)["award"]["expires_on"] == dt.date(2030, 7, 1)
        started = app.history(URN, "2029-30")[0]["details"]
        assert started["renewal_of"] == first["id"] and started["carried_actions"] == first["actions"]
    finally:
        app.close()


# -- 7. Lancashire: no draft, no deadlines ---------------------------------------------------------------


def test_in_lancashire_the_first_submission_is_the_final_one(store, clock: FixedClock) -> None:
    lancashire = load_authority(ROOT / "deploy" / "authorities" / "lancashire.toml")
    cycle = lancashire.cycle(YEAR)
    assert cycle.stages == ("final",) and cycle.final_deadline is None and cycle.visit_window is None
    app = Applications(env=store.env("applications"), authority=lancashire, clock=clock)
    try:
        view = prepared(app, clock)
        assert view["next_submission"] == "final" and view["deadline"] is None
        refused(app, Conflict, "stage", lambda: app.submit(SCHOOL_LEAD, URN, YEAR, "draft"))
        refused(app, Invalid, "stage", lambda: app.grant_extension(
            LEAD, URN, YEAR, "draft", dt.date(2027, 4, 1), "No drafts here"))

        clock.at = utc(2027, 8, 16, 10, 0)  # whenever the school is ready
        view = app.submit(SCHOOL_LEAD, URN, YEAR, "final")
        assert view["stage"] == "final_submitted"
        assert [(s["stage"], s["version"], s["under_extension"]) for s in view["submissions"]] == [
            ("final", 1, False)]
        assert app.form_panel(LEAD, YEAR, "final")["meets_on"] is None
        for account, lived in PANEL.items():
            app.add_panel_member(LEAD, YEAR, "final", account, lived)
        app.convene(LEAD, YEAR, "final")
        appraised(app, "final", outcomes(), "award")
        assert app.schedule_visit(LEAD, URN, YEAR, dt.date(2027, 9, 3))["stage"] == "visit_scheduled"
        clock.at = utc(2027, 9, 3, 14, 0)
        app.record_visit(LEAD, URN, YEAR, ["amy"], "Celebration planned.")
        clock.at = utc(2027, 9, 10, 10, 0)
        view = app.decide(LEAD, URN, YEAR, "Met every criterion.")
        assert view["stage"] == "awarded"
        assert view["award"]["expires_on"] == dt.date(2030, 9, 10)
        assert [s["stage"] for s in view["submissions"]] == ["final"]
    finally:
        app.close()


# -- 8. refused transitions and input --------------------------------------------------------------------


def test_illegal_transitions_are_refused_and_store_nothing(app: Applications, clock: FixedClock) -> None:
    prepared(app, clock)
    refused(app, NotFound, "urn", lambda: app.submit(SCHOOL_LEAD, "999999", YEAR, "draft"))
    refusal = refused(app, Conflict, "stage", lambda: app.submit(SCHOOL_LEAD, URN, YEAR, "final"))
    assert refusal.message == "The next submission is the draft application."
    refused(app, Invalid, "criterion", lambda: app.record_audit(SCHOOL_LEAD, URN, YEAR, "learn-9", "met"))
    refused(app, Invalid, "status", lambda: app.record_audit(SCHOOL_LEAD, URN, YEAR, "learn-1", "done"))
    refused(app, Invalid, "stage", lambda: app.grant_extension(
        LEAD, URN, YEAR, "visit", dt.date(2027, 4, 1), "?"))
    refused(app, Conflict, "stage", lambda: app.schedule_visit(LEAD, URN, YEAR, dt.date(2027, 6, 15)))

    clock.at = utc(2027, 3, 25, 12, 0)
    app.submit(SCHOOL_LEAD, URN, YEAR, "draft")
    refused(app, Conflict, "stage", lambda: app.submit(SCHOOL_LEAD, URN, YEAR, "final"))  # before feedback
    refused(app, NotFound, "stage", lambda: app.release_feedback(LEAD, URN, YEAR, "draft", "Too soon"))

    clock.at = utc(2027, 4, 20, 14, 0)
    convened(app, "draft")
    refused(app, NotFound, "urn", lambda: app.release_feedback(LEAD, URN, YEAR, "draft", "Not assigned"))
    refused(app, Conflict, "stage", lambda: app.form_panel(LEAD, YEAR, "draft"))
    app.assign(LEAD, YEAR, "draft", URN)
    refusal = refused(app, Conflict, "appraisal",
                      lambda: app.release_feedback(LEAD, URN, YEAR, "draft", "Before the panel agreed"))
    assert "not agreed" in refusal.message
    for member in PANEL:
        app.declare(member, URN, YEAR, "draft", conflicted=False)
    refused(app, Invalid, "criteria", lambda: app.agree_outcome(
        LEAD, URN, YEAR, "draft", {"learn-1": {"outcome": "met", "comment": "Only one"}}, "award", ["amy"]))
    refused(app, Invalid, "comment", lambda: app.judge("amy", URN, YEAR, "draft", "learn-1", "met", ""))
    app.agree_outcome(LEAD, URN, YEAR, "draft", outcomes(), "award", list(PANEL))
    app.release_feedback(LEAD, URN, YEAR, "draft", "All met already.")
    refused(app, Conflict, "stage", lambda: app.release_feedback(LEAD, URN, YEAR, "draft", "Twice"))

    # the final deadline is the end of 28 May in Coventry: 23:30 UTC is already 29 May (BST)
    clock.at = utc(2027, 5, 28, 23, 30)
    refusal = refused(app, Conflict, "deadline", lambda: app.submit(SCHOOL_LEAD, URN, YEAR, "final"))
    assert "Friday 28 May 2027" in refusal.message
    clock.at = utc(2027, 5, 28, 12, 0)
    app.submit(SCHOOL_LEAD, URN, YEAR, "final")

    clock.at = utc(2027, 6, 10, 14, 0)
    refused(app, NotFound, "stage", lambda: app.decide(LEAD, URN, YEAR, "No final panel yet"))
    convened(app, "final")
    app.assign(LEAD, YEAR, "final", URN)
    refusal = refused(app, Conflict, "appraisal", lambda: app.decide(LEAD, URN, YEAR, "Before agreeing"))
    assert "final panel" in refusal.message
    refused(app, Conflict, "appraisal", lambda: app.release_feedback(LEAD, URN, YEAR, "final", "Not agreed"))

    # visits only in Summer 2: 7 June to 21 July 2027
    for day in (dt.date(2027, 6, 6), dt.date(2027, 7, 22), dt.date(2027, 5, 20)):
        refusal = refused(app, Conflict, "on", lambda day=day: app.schedule_visit(LEAD, URN, YEAR, day))
        assert refusal.message == "Visits are in summer-2 (7 June to 21 July 2027)."
    refused(app, Conflict, "stage", lambda: app.record_visit(LEAD, URN, YEAR, ["amy"], "Not scheduled"))
    assert app.schedule_visit(LEAD, URN, YEAR, dt.date(2027, 6, 7))["stage"] == "visit_scheduled"
    assert app.schedule_visit(LEAD, URN, YEAR, dt.date(2027, 7, 21))["visit"]["on"] == dt.date(2027, 7, 21)
    assert app.application(URN, YEAR)["stage"] == "visit_scheduled"


# -- product gaps, pinned ---------------------------------------------------------------------------------


def test_a_resubmission_after_further_evidence_can_be_awarded(app: Applications, clock: FixedClock) -> None:
    prepared(app, clock)
    clock.at = utc(2027, 3, 25, 12, 0)
    app.submit(SCHOOL_LEAD, URN, YEAR, "draft")
    clock.at = utc(2027, 4, 20, 14, 0)
    convened(app, "draft")
    appraised(app, "draft", outcomes(), "award")
    app.release_feedback(LEAD, URN, YEAR, "draft", "Good")
    clock.at = utc(2027, 5, 28, 12, 0)
    app.submit(SCHOOL_LEAD, URN, YEAR, "final")
    clock.at = utc(2027, 6, 10, 14, 0)
    convened(app, "final")
    appraised(app, "final", outcomes(share_8="No local links yet."), "further_evidence")
    app.schedule_visit(LEAD, URN, YEAR, dt.date(2027, 6, 15))
    clock.at = utc(2027, 6, 15, 15, 0)
    app.record_visit(LEAD, URN, YEAR, ["Head teacher"], "Pupils led the tour.")
    view = app.decide(LEAD, URN, YEAR, "Show links with CRMC.", evidence_due=dt.date(2027, 7, 9))
    assert view["stage"] == "further_evidence" and view["deadline"] == dt.date(2027, 7, 9)
    app.add_evidence(SCHOOL_LEAD, URN, YEAR, "share-8", "Letter from CRMC")
    clock.at = utc(2027, 7, 9, 12, 0)
    assert app.submit(SCHOOL_LEAD, URN, YEAR, "final")["submissions"][-1]["version"] == 3

    # the panel's page tells the agreed appraisal from the resubmission still to assign
    appraisals = app.panel(YEAR, "final")["appraisals"]
    assert [(a["submission"], a["current"], a["outcome"]) for a in appraisals] == [
        (2, False, "further_evidence")]
    app.assign(LEAD, YEAR, "final", URN)  # the resubmission goes back to the panel: refused today
    assert app.appraisal(URN, YEAR, "final").submission == 3
    assert [(a["submission"], a["current"]) for a in app.panel(YEAR, "final")["appraisals"]] == [
        (2, False), (3, True)]


# -- 8. the queries the lead's and the members' pages read, through the declared operations --------

THE_LEAD = Principal("lead", "Lee Lead", frozenset({("lead", None)})).to_dict()
COORDINATOR = Principal("coordinator", "Ann", frozenset({("coordinator", URN)})).to_dict()


def member(account: str) -> dict:
    return Principal(account, account.title(), frozenset({("panel_member", None)})).to_dict()


def test_the_lead_reads_a_panel_without_probing(app: Applications, clock: FixedClock) -> None:
    """Formed or not, its members, their flags and declarations, the composition rule's verdict."""
    panel = ApplicationsApi.panel
    prepared(app, clock)
    clock.at = utc(2027, 3, 24, 12, 0)
    app.submit(SCHOOL_LEAD, URN, YEAR, "draft")
    before = stored(app)
    unformed = panel.invoke(app, THE_LEAD, YEAR, "draft")
    assert (unformed["formed"], unformed["convened"], unformed["members"], unformed["meets_on"]) == (
        False, False, [], "2027-04-20")
    assert unformed["composition"] == {
        "met": False, "min_members": 3, "min_lived_experience": 1,
        "problem": "A panel needs at least 3 members, at least 1 of them with lived experience of seeking "
                   "sanctuary; it has 0, 0 with lived experience."}
    assert stored(app) == before  # a query stores nothing
    refused(app, NotFound, "school_year", lambda: panel.invoke(app, THE_LEAD, "2030-31", "draft"))
    for who, refusal in ((COORDINATOR, Forbidden), (member("amy"), Forbidden), (None, Unauthorized)):
        with pytest.raises(refusal):
            panel.invoke(app, who, YEAR, "draft")

    app.form_panel(LEAD, YEAR, "draft")
    for account, lived in PANEL.items():
        app.add_panel_member(LEAD, YEAR, "draft", account, lived)
    formed = panel.invoke(app, THE_LEAD, YEAR, "draft")
    assert (formed["formed"], formed["convened"], formed["composition"]["met"]) == (True, False, True)
    assert formed["composition"]["problem"] is None
    assert formed["members"] == [{"account": a, "name": None, "lived_experience": lived, "declarations": []}
                                 for a, lived in PANEL.items()]
    app.convene(LEAD, YEAR, "draft")
    app.assign(LEAD, YEAR, "draft", URN)
    app.declare("cat", URN, YEAR, "draft", conflicted=True, interests="My son attends the school")
    app.declare("amy", URN, YEAR, "draft", conflicted=False)

    convened = panel.invoke(app, THE_LEAD, YEAR, "draft")
    assert convened["convened"] is True and convened["assigned"] == [URN]
    assert {m["account"]: m["declarations"] for m in convened["members"]} == {
        "amy": [{"urn": URN, "submission": 1, "conflicted": False, "interests": ""}],
        "ben": [],
        "cat": [{"urn": URN, "submission": 1, "conflicted": True, "interests": "My son attends the school"}]}
    assert convened["appraisals"] == [{
        "urn": URN, "school_name": SCHOOL, "submission": 1, "current": True, "members": list(PANEL),
        "outstanding": ["amy", "ben"], "outcome": None}]
    assert panel.invoke(app, THE_LEAD, YEAR, "final")["formed"] is False  # the other stage: not yet


def test_a_member_reads_back_their_own_part(app: Applications, clock: FixedClock) -> None:
    """The school's name before declaring; afterwards their declaration, judgements and notes."""
    mine = ApplicationsApi.my_appraisal
    prepared(app, clock)
    clock.at = utc(2027, 3, 24, 12, 0)
    app.submit(SCHOOL_LEAD, URN, YEAR, "draft")
    convened(app, "draft")
    app.assign(LEAD, YEAR, "draft", URN)

    fresh = mine.invoke(app, member("amy"), URN, YEAR, "draft")
    assert fresh == {"urn": URN, "school_name": SCHOOL, "stage": "draft", "school_year": YEAR,
                     "declared": False, "conflicted": False, "judged": 0, "criteria": 8, "agreed": False,
                     "declaration": None, "judgements": {}, "notes": None}
    app.declare("amy", URN, YEAR, "draft", conflicted=False)
    app.judge("amy", URN, YEAR, "draft", "learn-1", "met", "A training log")
    app.judge("amy", URN, YEAR, "draft", "learn-1", "not_yet_met", "Only one year of it")  # changed
    app.note("amy", URN, YEAR, "draft", strengths="Warm welcome")
    read_back = mine.invoke(app, member("amy"), URN, YEAR, "draft")
    assert read_back["declaration"] == {"conflicted": False, "interests": ""}
    assert read_back["judgements"] == {
        "learn-1": {"outcome": "not_yet_met", "comment": "Only one year of it"}}
    assert read_back["notes"] == {"strengths": "Warm welcome", "improvements": "", "questions": ""}
    assert read_back["judged"] == 1 and read_back["declared"] is True
    assert mine.invoke(app, member("ben"), URN, YEAR, "draft")["judgements"] == {}  # only one's own

    refused(app, Forbidden, None, lambda: mine.invoke(app, member("zed"), URN, YEAR, "draft"))
    with pytest.raises(Forbidden):
        mine.invoke(app, THE_LEAD, URN, YEAR, "draft")  # the lead reads the whole appraisal instead
    refused(app, NotFound, "urn", lambda: mine.invoke(app, member("amy"), "999999", YEAR, "draft"))


def test_every_query_answers_through_its_schema_and_loses_nothing(app: Applications,
                                                                  clock: FixedClock) -> None:
    """Strict responses are on in tests: a key a schema does not declare fails the call. And
    what the schema dumps is what the application answered, nothing dropped."""
    awarded(app, clock)
    api = ApplicationsApi
    asked = [
        (api.pledge_standing, COORDINATOR, (URN,), lambda: app.pledge_standing(URN)),
        (api.application_view, COORDINATOR, (URN, YEAR, {}), lambda: app.application(URN, YEAR)),
        (api.history, COORDINATOR, (URN, YEAR), lambda: {"items": app.history(URN, YEAR)}),
        (api.cycle_overview, THE_LEAD, (YEAR,), lambda: app.cycle_overview(YEAR)),
        (api.panel, THE_LEAD, (YEAR, "final"), lambda: app.panel(YEAR, "final")),
        (api.appraisal, THE_LEAD, (URN, YEAR, "final"),
         lambda: app.appraisal_view(app.appraisal(URN, YEAR, "final"))),
        (api.my_appraisals, member("amy"), (), lambda: {"items": app.appraisals_for("amy")}),
        (api.my_appraisal, member("amy"), (URN, YEAR, "final"),
         lambda: app.member_appraisal("amy", URN, YEAR, "final")),
        (api.for_panel_member, member("amy"), (URN, YEAR, "final"),
         lambda: app.for_panel_member("amy", URN, YEAR, "final")),
    ]
    for operation, who, arguments, direct in asked:
        assert operation.invoke(app, who, *arguments) == jsonable(direct()), operation.name
    trail = api.decision_trail.invoke(app, THE_LEAD, URN, YEAR)
    assert trail["decision"]["outcome"] == "awarded" and len(trail["appraisals"]) == 2
    assert api.decision_trail_html.invoke(app, THE_LEAD, URN, YEAR)["html"].startswith("<!doctype html>")
    assert api.certificate.invoke(app, COORDINATOR, URN, YEAR)["pdf"].startswith("JVBERi")  # "%PDF"


def test_a_further_evidence_reappraisal_must_meet_the_panel_rule_too(app: Applications,
                                                                      clock: FixedClock) -> None:
    test_a_resubmission_after_further_evidence_can_be_awarded(app, clock)
    # this time ben declares a conflict: amy and cat alone cannot decide the resubmission
    app.declare("amy", URN, YEAR, "final", conflicted=False)
    app.declare("ben", URN, YEAR, "final", conflicted=True, interests="Now a governor there")
    app.declare("cat", URN, YEAR, "final", conflicted=False)
    refusal = refused(app, Invalid, "members", lambda: app.agree_outcome(
        LEAD, URN, YEAR, "final", outcomes(), "award", ["amy", "cat"]))
    assert "Missing: 1 more member." in refusal.message
    app.add_panel_member(LEAD, YEAR, "final", "dan", True, "Ben is conflicted")  # joins the open one only
    assert app.appraisal(URN, YEAR, "final").members == ["amy", "ben", "cat", "dan"]
    app.declare("dan", URN, YEAR, "final", conflicted=False)
    agreed = app.agree_outcome(LEAD, URN, YEAR, "final", outcomes(), "award", ["amy", "cat", "dan"])
    assert agreed["outcome"]["composition"]["with_lived_experience"] == 2
    view = app.decide(LEAD, URN, YEAR, "Links with CRMC now shown.")  # the visit is on record already
    assert view["stage"] == "awarded" and view["decision"]["panel_members"] == ["amy", "cat", "dan"]

    trail = decision_trail(app, URN, YEAR)
    first, second = trail["decisions"]
    assert first["composition"] == {"min_members": 3, "min_lived_experience": 1, "agreed_by": 3,
                                    "with_lived_experience": 1, "conflicted": 0, "met": True}
    assert second["composition"] == agreed["outcome"]["composition"]
    assert [a["outcome"]["composition"]["agreed_by"] for a in trail["appraisals"]] == [3, 3, 3]
    assert "Panel composition met: the rule is at least 3 members clear of conflict" in render_html(
        trail, "Coventry")


def test_a_convened_panel_changes_only_with_a_reason_and_the_rule_still_met(app: Applications,
                                                                          clock: FixedClock) -> None:
    """Before convening the lead fixes the panel freely; after, each change of membership is
    stored with its reason, read back after a reload, and refused if it breaks the rule."""
    app.form_panel(LEAD, YEAR, "final")
    for account in PANEL:
        app.add_panel_member(LEAD, YEAR, "final", account, False)  # amy's flag recorded wrongly
    app.add_panel_member(LEAD, YEAR, "final", "dan", False)
    refused(app, Conflict, "members", lambda: app.convene(LEAD, YEAR, "final"))
    app.correct_panel_member(LEAD, YEAR, "final", "amy", True)
    app.remove_panel_member(LEAD, YEAR, "final", "dan")
    assert app.convene(LEAD, YEAR, "final")["changes"] == []

    refused(app, Invalid, "reason", lambda: app.add_panel_member(LEAD, YEAR, "final", "eve", True))
    refused(app, Invalid, "reason", lambda: app.remove_panel_member(LEAD, YEAR, "final", "cat", "  "))
    refused(app, Conflict, "members", lambda: app.remove_panel_member(LEAD, YEAR, "final", "cat", "Ill"))
    refused(app, Conflict, "members", lambda: app.correct_panel_member(
        LEAD, YEAR, "final", "amy", False, "Recorded wrongly"))
    app.add_panel_member(LEAD, YEAR, "final", "eve", True, "A second member with lived experience")
    app.remove_panel_member(LEAD, YEAR, "final", "cat", "Taken ill")
    app.correct_panel_member(LEAD, YEAR, "final", "amy", False, "She asked us to correct it")

    reloaded = Applications(env=app.env, authority=app.authority, clock=clock)
    try:
        panel = reloaded.panel(YEAR, "final")
    finally:
        reloaded.close()
    assert {m["account"]: m["lived_experience"] for m in panel["members"]} == {
        "amy": False, "ben": False, "eve": True}
    assert panel["changes"] == [
        {"change": "added", "account": "eve", "lived_experience": True,
         "reason": "A second member with lived experience", "by": LEAD},
        {"change": "removed", "account": "cat", "lived_experience": False, "reason": "Taken ill", "by": LEAD},
        {"change": "corrected", "account": "amy", "lived_experience": False,
         "reason": "She asked us to correct it", "by": LEAD}]
    assert panel["composition"]["met"] is True
