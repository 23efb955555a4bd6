"""Panels and appraisals in memory: composition, declarations before access, judgements,
the agreed outcome and who agreed it."""

from __future__ import annotations

import datetime as dt

import pytest

from services.applications.panels import OVERALL, Appraisal, Panel
from shared.errors import Conflict, Forbidden, Invalid
from tests.unit.refusals import refused

CRITERIA = ["learn-1", "learn-2", "embed-3", "embed-4", "embed-5", "share-6", "share-7", "share-8"]
MEMBERS = ["amy", "ben", "cat"]


def panel(*members: tuple[str, bool]) -> Panel:
    p = Panel(school_year="2026-27", stage="draft", meets_on=dt.date(2027, 4, 20), actor="lead")
    for account, lived in members:
        p.add_member(account, None, lived, "lead")
    return p


def appraisal(members: list[str] = MEMBERS) -> Appraisal:
    return Appraisal(panel="panel-1", application="application-1", urn="103712", stage="draft",
                     criteria=CRITERIA, members=members, submission=1, actor="lead")


def all_met(comment: str = "Evidenced.") -> dict[str, dict]:
    return {code: {"outcome": "met", "comment": comment} for code in CRITERIA}


def agree(a: Appraisal, criteria: dict[str, dict], overall: str, members: list[str], min_members: int = 1,
          min_lived: int = 0, lived: tuple[str, ...] = ("amy",)) -> None:
    """The lead records the agreed outcome; by default under a rule any one clear member meets."""
    a.consolidate(criteria, overall, members, min_members, min_lived, lived, "lead")


def judge_all(a: Appraisal, member: str, outcome: str = "met") -> None:
    for code in CRITERIA:
        a.judge(member, code, outcome, f"{member} on {code}", f"account:{member}")


# -- panels ------------------------------------------------------------------------------


def test_one_panel_per_cycle_and_stage() -> None:
    assert Panel.create_id("2026-27", "draft") == Panel.create_id("2026-27", "draft")
    assert Panel.create_id("2026-27", "draft") != Panel.create_id("2026-27", "final")
    assert Panel.create_id("2026-27", "draft") != Panel.create_id("2027-28", "draft")


def test_members_are_added_once() -> None:
    p = panel(("amy", True))
    assert p.is_member("amy") and not p.is_member("ben")
    assert p.members == {"amy": {"name": None, "lived_experience": True}}
    with refused(Conflict, "account", p):
        p.add_member("amy", None, False, "lead")


def test_three_members_one_with_lived_experience_may_convene() -> None:
    p = panel(("amy", True), ("ben", False), ("cat", False))
    p.convene(3, 1, "lead")
    assert p.convened is True
    assert [(type(e).__name__, e.actor) for e in p.collect_events()][-1] == ("Convened", "lead")


@pytest.mark.parametrize("members", [
    [("amy", True), ("ben", False)],  # too few
    [("amy", False), ("ben", False), ("cat", False)],  # nobody with lived experience
    [],
])
def test_the_default_rule_refuses_to_convene(members: list[tuple[str, bool]]) -> None:
    p = panel(*members)
    with refused(Conflict, "members", p) as caught:
        p.convene(3, 1, "lead")
    lived = sum(1 for _, has in members if has)
    assert caught.value.message == (
        "A panel needs at least 3 members, at least 1 of them with lived experience of seeking "
        f"sanctuary; it has {len(members)}, {lived} with lived experience.")
    assert p.convened is False


@pytest.mark.parametrize(("members", "allowed"), [
    ([("a", True), ("b", True), ("c", False), ("d", False)], True),
    ([("a", True), ("b", True), ("c", True), ("d", True), ("e", False)], True),
    ([("a", True), ("b", False), ("c", False), ("d", False)], False),  # only one lived
    ([("a", True), ("b", True), ("c", False)], False),  # only three
])
def test_a_stricter_rule_of_four_with_two(members: list[tuple[str, bool]], allowed: bool) -> None:
    p = panel(*members)
    if allowed:
        p.convene(4, 2, "lead")
        assert p.convened
    else:
        with refused(Conflict, "members", p):
            p.convene(4, 2, "lead")


def test_a_panel_convenes_once() -> None:
    p = panel(("amy", True), ("ben", False), ("cat", False))
    p.convene(3, 1, "lead")
    with refused(Conflict, "panel", p):
        p.convene(3, 1, "lead")


def test_before_convening_any_member_may_be_removed() -> None:
    p = panel(("amy", True), ("ben", False))
    p.remove_member("amy", 3, 1, "lead")
    assert list(p.members) == ["ben"]
    with refused(Conflict, "account", p):
        p.remove_member("amy", 3, 1, "lead")


def test_after_convening_a_removal_may_not_break_the_rule() -> None:
    p = panel(("amy", True), ("ben", False), ("cat", False), ("dan", False))
    p.convene(3, 1, "lead")
    with refused(Conflict, "members", p):
        p.remove_member("amy", 3, 1, "lead", "Moved away")  # the only member with lived experience
    p.remove_member("dan", 3, 1, "lead", "Taken ill")
    assert sorted(p.members) == ["amy", "ben", "cat"]
    with refused(Conflict, "members", p):
        p.remove_member("ben", 3, 1, "lead", "Moved away")  # would leave two
    with refused(Conflict, "account", p):
        p.remove_member("zed", 3, 1, "lead", "Never there")


def test_after_convening_a_stricter_rule_protects_its_second_lived_member() -> None:
    p = panel(("a", True), ("b", True), ("c", False), ("d", False), ("e", False))
    p.convene(4, 2, "lead")
    with refused(Conflict, "members", p):
        p.remove_member("b", 4, 2, "lead", "Moved away")
    p.remove_member("e", 4, 2, "lead", "Moved away")
    assert sorted(p.members) == ["a", "b", "c", "d"]


def test_before_convening_changes_need_no_reason_and_none_is_recorded() -> None:
    p = panel(("amy", False), ("ben", False))
    p.correct_member("amy", True, 3, 1, "lead")
    p.remove_member("ben", 3, 1, "lead")
    p.add_member("cat", None, False, "lead", 3, 1)
    assert p.members == {"amy": {"name": None, "lived_experience": True},
                         "cat": {"name": None, "lived_experience": False}}
    assert p.changes == []
    with refused(Conflict, "lived_experience", p):
        p.correct_member("amy", True, 3, 1, "lead")  # already so
    with refused(Conflict, "account", p):
        p.correct_member("zed", True, 3, 1, "lead")


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_after_convening_every_change_of_membership_needs_a_reason(reason: str | None) -> None:
    p = panel(("amy", True), ("ben", False), ("cat", False), ("dan", False))
    p.convene(3, 1, "lead")
    with refused(Invalid, "reason", p):
        p.add_member("eve", None, True, "lead", 3, 1, reason)
    with refused(Invalid, "reason", p):
        p.remove_member("dan", 3, 1, "lead", reason)
    with refused(Invalid, "reason", p):
        p.correct_member("ben", True, 3, 1, "lead", reason)


def test_after_convening_changes_are_recorded_with_their_reasons_and_the_rule_checked_again() -> None:
    p = panel(("amy", True), ("ben", False), ("cat", False))
    p.convene(3, 1, "lead")
    with refused(Conflict, "members", p):
        p.correct_member("amy", False, 3, 1, "lead", "Recorded wrongly")  # none would be left
    p.add_member("eve", None, True, "lead", 3, 1, "A second voice with lived experience")
    p.correct_member("amy", False, 3, 1, "lead", "Recorded wrongly")  # eve still meets the rule
    p.remove_member("cat", 3, 1, "lead", "Taken ill")
    with refused(Conflict, "members", p):
        p.remove_member("eve", 3, 1, "lead", "Moved away")  # the only one with lived experience now
    assert p.changes == [
        {"change": "added", "account": "eve", "lived_experience": True,
         "reason": "A second voice with lived experience", "by": "lead"},
        {"change": "corrected", "account": "amy", "lived_experience": False, "reason": "Recorded wrongly",
         "by": "lead"},
        {"change": "removed", "account": "cat", "lived_experience": False, "reason": "Taken ill",
         "by": "lead"}]
    assert {a: m["lived_experience"] for a, m in p.members.items()} == {"amy": False, "ben": False,
                                                                        "eve": True}


def test_membership_events_stored_before_reasons_read_as_without_one() -> None:
    added = {"account": "amy", "name": None, "lived_experience": True, "actor": "lead"}
    Panel.MemberAdded.upcast_v1_v2(added)
    removed = {"account": "amy", "actor": "lead"}
    Panel.MemberRemoved.upcast_v1_v2(removed)
    assert added["reason"] is None and removed["reason"] is None


def test_a_submission_is_assigned_once_and_a_resubmission_again() -> None:
    p = panel(("amy", True), ("ben", False), ("cat", False))
    p.assign("application-1", "103712", 2, "lead")
    assert p.assigned == {"application-1": "103712"}
    with refused(Conflict, "application", p):
        p.assign("application-1", "103712", 2, "lead")
    p.assign("application-1", "103712", 3, "lead")  # further evidence, resubmitted
    assert p.appraising == {("application-1", 2), ("application-1", 3)}


# -- appraisals: declaring before seeing -----------------------------------------------------


def test_one_appraisal_per_panel_application_and_submission() -> None:
    one = Appraisal.create_id("p", "a", 1)
    assert one == Appraisal.create_id("p", "a", 1)
    assert one not in {Appraisal.create_id("p", "b", 1), Appraisal.create_id("q", "a", 1),
                       Appraisal.create_id("p", "a", 2)}


def test_a_non_member_is_forbidden_everything() -> None:
    a = appraisal()
    for command in (
        lambda: a.declare("zed", False, "", "account:zed"),
        lambda: a.require_clear("zed"),
        lambda: a.judge("zed", "learn-1", "met", "Fine", "account:zed"),
        lambda: a.note("zed", "Strong", "", "", "account:zed"),
    ):
        with refused(Forbidden, None, a):
            command()
    assert a.may_see("zed") is False


def test_reading_or_judging_before_declaring_is_forbidden() -> None:
    a = appraisal()
    assert a.may_see("amy") is False
    with refused(Forbidden, None, a) as caught:
        a.require_clear("amy")
    assert "Declare" in caught.value.message
    with refused(Forbidden, None, a):
        a.judge("amy", "learn-1", "met", "Fine", "account:amy")
    with refused(Forbidden, None, a):
        a.note("amy", "Strong", "", "", "account:amy")


def test_a_clear_member_may_read_and_judge() -> None:
    a = appraisal()
    a.declare("amy", False, "", "account:amy")
    assert a.declarations == {"amy": {"conflicted": False, "interests": ""}}
    assert a.may_see("amy") is True
    a.require_clear("amy")
    a.judge("amy", "learn-1", "not_yet_met", "Only the head has trained.", "account:amy")
    a.judge("amy", "learn-1", "met", "The INSET log shows everyone.", "account:amy")  # changed her mind
    assert a.judgements == {
        "amy": {"learn-1": {"outcome": "met", "comment": "The INSET log shows everyone."}}}
    a.note("amy", "Pupil voice", "More subjects", "Who leads Refugee Week?", "account:amy")
    assert a.notes["amy"] == {"strengths": "Pupil voice", "improvements": "More subjects",
                              "questions": "Who leads Refugee Week?"}
    assert [e.actor for e in a.collect_events()][1:] == ["account:amy"] * 4


def test_a_conflicted_member_is_excluded() -> None:
    a = appraisal()
    a.declare("cat", True, "Governor at the school", "account:cat")
    assert a.declarations["cat"] == {"conflicted": True, "interests": "Governor at the school"}
    assert a.may_see("cat") is False
    with refused(Forbidden, None, a) as caught:
        a.require_clear("cat")
    assert "conflict of interest" in caught.value.message
    with refused(Forbidden, None, a):
        a.judge("cat", "learn-1", "met", "Fine", "account:cat")
    with refused(Forbidden, None, a):
        a.note("cat", "Strong", "", "", "account:cat")


def test_a_conflict_must_say_what_the_interests_are() -> None:
    a = appraisal()
    with refused(Invalid, "interests", a) as caught:
        a.declare("cat", True, "", "account:cat")
    assert set(caught.value.fields) == {"interests"}
    assert "cat" not in a.declarations


def test_declaring_twice_is_a_conflict() -> None:
    a = appraisal()
    a.declare("amy", False, "", "account:amy")
    with refused(Conflict, "declaration", a):
        a.declare("amy", True, "Actually my niece attends", "account:amy")
    assert a.declarations["amy"]["conflicted"] is False


# -- judgements ----------------------------------------------------------------------------------


def test_a_judgement_needs_a_known_criterion_an_outcome_and_a_comment() -> None:
    a = appraisal()
    a.declare("amy", False, "", "account:amy")
    with refused(Invalid, "criterion", a):
        a.judge("amy", "learn-9", "met", "Fine", "account:amy")
    with refused(Invalid, "outcome", a):
        a.judge("amy", "learn-1", "excellent", "Fine", "account:amy")
    with refused(Invalid, "comment", a):
        a.judge("amy", "learn-1", "met", "", "account:amy")
    assert a.judgements == {}


# -- consolidation -----------------------------------------------------------------------------------


@pytest.fixture
def ready() -> Appraisal:
    """amy and ben are clear and have judged; cat is conflicted."""
    a = appraisal()
    a.declare("amy", False, "", "account:amy")
    a.declare("ben", False, "", "account:ben")
    a.declare("cat", True, "Parent at the school", "account:cat")
    judge_all(a, "amy")
    judge_all(a, "ben")
    return a


def test_the_agreed_outcome_names_its_members(ready: Appraisal) -> None:
    criteria = {**all_met(), "share-8": {"outcome": "not_yet_met", "comment": "No local links yet."}}
    agree(ready, criteria, "further_evidence", ["ben", "amy"])
    assert ready.outcome == {"criteria": criteria, "overall": "further_evidence",
                             "members": ["amy", "ben"], "by": "lead", "composition": {
                                 "min_members": 1, "min_lived_experience": 0, "agreed_by": 2,
                                 "with_lived_experience": 1, "conflicted": 1, "met": True}}


@pytest.mark.parametrize("overall", OVERALL)
def test_each_overall_outcome_is_accepted(ready: Appraisal, overall: str) -> None:
    agree(ready, all_met(), overall, ["amy"])
    assert ready.outcome["overall"] == overall


def test_an_unknown_overall_outcome_is_invalid(ready: Appraisal) -> None:
    with refused(Invalid, "overall", ready):
        agree(ready, all_met(), "awarded", ["amy"])  # the decision's word, not the panel's


def test_consolidation_needs_every_criterion(ready: Appraisal) -> None:
    partial = all_met()
    del partial["learn-2"]
    with refused(Invalid, "criteria", ready) as caught:
        agree(ready, partial, "award", ["amy", "ben"])
    assert "learn-2" in caught.value.fields["criteria"][0]


@pytest.mark.parametrize(("code", "judged"), [
    ("embed-3", {"outcome": "met", "comment": ""}),
    ("embed-3", {"outcome": "maybe", "comment": "Hmm"}),
    ("learn-9", {"outcome": "met", "comment": "Unknown criterion"}),
])
def test_consolidation_needs_an_outcome_and_comment_per_known_criterion(
        ready: Appraisal, code: str, judged: dict) -> None:
    with refused(Invalid, f"criteria.{code}", ready):
        agree(ready, {**all_met(), code: judged}, "award", ["amy", "ben"])


def test_consolidation_needs_members_who_are_clear(ready: Appraisal) -> None:
    with refused(Invalid, "members", ready):
        agree(ready, all_met(), "award", ["amy", "cat"])  # cat is conflicted
    with refused(Invalid, "members", ready):
        agree(ready, all_met(), "award", ["amy", "zed"])  # zed is not on the panel
    b = appraisal()
    b.declare("amy", False, "", "account:amy")
    with refused(Invalid, "members", b):
        agree(b, all_met(), "award", ["amy", "ben"])  # ben has not declared
    with refused(Invalid, "members", ready):
        agree(ready, all_met(), "award", [])
    assert ready.outcome is None


def test_nothing_changes_after_the_outcome_is_agreed(ready: Appraisal) -> None:
    agree(ready, all_met(), "award", ["amy", "ben"])
    with refused(Conflict, "appraisal", ready):
        ready.judge("amy", "learn-1", "not_yet_met", "Second thoughts", "account:amy")
    with refused(Conflict, "appraisal", ready):
        ready.note("ben", "", "", "One more question", "account:ben")
    with refused(Conflict, "appraisal", ready):
        agree(ready, all_met(), "not_awarded", ["amy", "ben"])
    assert ready.outcome["overall"] == "award"


def test_no_declaration_after_the_outcome_is_agreed() -> None:
    a = appraisal(["amy", "ben", "cat", "dan"])
    for member in MEMBERS:
        a.declare(member, False, "", f"account:{member}")
    agree(a, all_met(), "award", MEMBERS)
    version = a.version
    try:
        a.declare("dan", False, "", "account:dan")
    except Conflict as refusal:
        assert refusal.field == "appraisal"
    assert a.version == version, "a declaration was recorded after the outcome was agreed"


# -- who has not finished ----------------------------------------------------------------------------


def test_outstanding_lists_who_has_not_finished() -> None:
    a = appraisal()
    assert a.outstanding() == MEMBERS  # nobody has declared
    a.declare("cat", True, "Works with the head teacher", "account:cat")
    assert a.outstanding() == ["amy", "ben"]  # a conflicted member has nothing more to do
    a.declare("amy", False, "", "account:amy")
    assert a.outstanding() == ["amy", "ben"]  # declared, not yet judged
    judge_all(a, "amy")
    assert a.outstanding() == ["ben"]
    a.declare("ben", False, "", "account:ben")
    for code in CRITERIA[:-1]:
        a.judge("ben", code, "met", "Fine", "account:ben")
    a.judge("ben", CRITERIA[0], "not_yet_met", "Rejudged", "account:ben")  # a second view of one
    assert a.outstanding() == ["ben"]  # one criterion still unjudged
    a.judge("ben", CRITERIA[-1], "met", "Fine", "account:ben")
    assert a.outstanding() == []


# -- the composition rule at the decision --------------------------------------------------------------


def declared(members: list[str], conflicted: tuple[str, ...] = ()) -> Appraisal:
    """Everyone declares (those in ``conflicted`` a conflict); the clear ones judge every criterion."""
    a = appraisal(members)
    for member in members:
        a.declare(member, member in conflicted, "Governor at the school" if member in conflicted else "",
                  f"account:{member}")
        if member not in conflicted:
            judge_all(a, member)
    return a


def test_three_clear_members_one_with_lived_experience_may_decide() -> None:
    a = declared(["amy", "ben", "cat", "dan"], conflicted=("dan",))
    agree(a, all_met(), "award", ["amy", "ben", "cat"], 3, 1, ("amy",))
    assert a.outcome["composition"] == {"min_members": 3, "min_lived_experience": 1, "agreed_by": 3,
                                        "with_lived_experience": 1, "conflicted": 1, "met": True}
    [agreed] = [e for e in a.collect_events() if type(e).__name__ == "OutcomeAgreed"]
    assert agreed.composition == a.outcome["composition"]  # the stored event carries the verdict


def test_two_clear_members_of_three_cannot_decide_and_are_told_what_to_do() -> None:
    a = declared(MEMBERS, conflicted=("cat",))
    with refused(Invalid, "members", a) as caught:
        agree(a, all_met(), "award", ["amy", "ben"], 3, 1, ("amy",))
    assert caught.value.message == (
        "The panel's decision needs at least 3 members clear of any conflict of interest, at least 1 of "
        "them with lived experience of seeking sanctuary; this outcome was agreed by 2, 1 with lived "
        "experience (1 declared a conflict of interest and took no part). Missing: 1 more member. Add a "
        "member to the panel, who then declares their interests and judges each criterion, and record "
        "the outcome with them.")
    assert caught.value.fields == {"members": [  # what a page shows beside the field
        "Missing: 1 more member. Add a member to the panel, who then declares their interests and "
        "judges each criterion."]}
    assert a.outcome is None


def test_without_lived_experience_among_those_clear_the_panel_cannot_decide() -> None:
    a = declared(MEMBERS, conflicted=("amy",))  # amy, the one with lived experience, is conflicted
    with refused(Invalid, "members", a) as caught:
        agree(a, all_met(), "award", ["ben", "cat"], 3, 1, ("amy",))
    assert "Missing: 1 more member with lived experience of seeking sanctuary." in caught.value.message
    b = declared(["amy", "ben", "cat", "dan"])
    with refused(Invalid, "members", b) as caught:
        agree(b, all_met(), "award", ["ben", "cat", "dan"], 3, 1, ("amy",))  # amy clear, but not named
    assert "Missing: 1 more member with lived experience" in caught.value.message
    assert "If 1 other clear member took part, name them too." in caught.value.message


def test_a_stricter_rule_counts_what_is_missing() -> None:
    a = declared(["amy", "ben"])
    with refused(Invalid, "members", a) as caught:
        agree(a, all_met(), "award", ["amy", "ben"], 4, 2, ("amy",))
    assert "agreed by 2, 1 with lived experience. Missing: 2 more members, at least 1 of them with lived " \
           "experience of seeking sanctuary." in caught.value.message


def test_a_member_added_later_joins_declares_judges_and_completes_the_decision() -> None:
    a = declared(MEMBERS, conflicted=("cat",))
    a.join("dan", "lead")
    assert a.members == [*MEMBERS, "dan"]
    assert a.outstanding() == ["dan"]
    with refused(Invalid, "members", a):
        agree(a, all_met(), "award", ["amy", "ben", "dan"], 3, 1, ("amy",))  # dan has not declared
    a.declare("dan", False, "", "account:dan")
    judge_all(a, "dan")
    agree(a, all_met(), "award", ["amy", "ben", "dan"], 3, 1, ("amy",))
    assert a.outcome["members"] == ["amy", "ben", "dan"] and a.outcome["composition"]["met"] is True
    with refused(Conflict, "appraisal", a):
        a.join("eve", "lead")  # too late: the outcome is agreed


def test_a_member_joins_once() -> None:
    a = appraisal()
    with refused(Conflict, "account", a):
        a.join("amy", "lead")


def test_an_outcome_stored_before_the_rule_was_checked_reads_as_not_checked() -> None:
    state = {"criteria": all_met(), "overall": "award", "members": ["amy"], "actor": "lead"}
    Appraisal.OutcomeAgreed.upcast_v1_v2(state)
    assert state["composition"] is None
    assert Appraisal.OutcomeAgreed.class_version == 2


# -- a member taken off the panel before the outcome ---------------------------------------------------


def replayed(a: Appraisal) -> Appraisal:
    """The appraisal as its stored events rebuild it."""
    events = a.collect_events()
    rebuilt = None
    for e in events:
        rebuilt = e.mutate(rebuilt)
    return rebuilt


def test_a_member_who_leaves_sees_and_judges_nothing_more_and_their_part_is_set_aside() -> None:
    a = declared(["amy", "ben", "cat", "eve"])
    a.note("eve", "Pupil voice", "", "", "account:eve")
    a.leave("eve", "lead")
    assert a.members == ["amy", "ben", "cat"]
    assert "eve" not in a.declarations and "eve" not in a.judgements and "eve" not in a.notes
    assert [(s["member"], len(s["judgements"]), s["notes"]["strengths"]) for s in a.set_aside] == [
        ("eve", len(CRITERIA), "Pupil voice")]
    assert a.may_see("eve") is False
    for command in (lambda: a.require_clear("eve"),
                    lambda: a.judge("eve", CRITERIA[0], "met", "Still here", "account:eve"),
                    lambda: a.note("eve", "More", "", "", "account:eve"),
                    lambda: a.declare("eve", False, "", "account:eve")):
        with refused(Forbidden, None, a):
            command()
    with refused(Conflict, "account", a):
        a.leave("eve", "lead")
    assert replayed(a).__dict__ == a.__dict__  # the stored MemberLeft rebuilds the same state


def test_a_member_who_left_is_not_waited_for_and_cannot_be_counted_in_the_decision() -> None:
    a = declared(["amy", "ben", "cat", "eve"], conflicted=("cat",))
    a.leave("ben", "lead")  # clear, had judged everything: that no longer counts
    assert a.outstanding() == []
    with refused(Invalid, "members", a) as caught:  # named anyway: not eligible
        agree(a, all_met(), "award", ["amy", "ben", "eve"], 3, 1, ("amy", "eve"))
    assert caught.value.fields == {"members": ["Not eligible: ben."]}
    with refused(Invalid, "members", a) as caught:  # the rule, checked again at the decision
        agree(a, all_met(), "award", ["amy", "eve"], 3, 1, ("amy", "eve"))
    assert "this outcome was agreed by 2, 2 with lived experience (1 declared a conflict" in \
        caught.value.message
    a.join("dan", "lead")
    assert a.outstanding() == ["dan"]
    a.declare("dan", False, "", "account:dan")
    judge_all(a, "dan")
    agree(a, all_met(), "award", ["amy", "dan", "eve"], 3, 1, ("amy", "eve"))
    assert a.outcome["composition"]["agreed_by"] == 3


def test_a_conflict_declared_by_a_member_who_left_no_longer_counts() -> None:
    a = declared(["amy", "ben", "cat", "dan"], conflicted=("dan",))
    a.leave("dan", "lead")
    assert a.composition({"amy", "ben", "cat"}, 3, 1, ("amy",))["conflicted"] == 0


def test_a_member_who_left_and_is_added_again_declares_afresh() -> None:
    a = declared(MEMBERS)
    a.leave("ben", "lead")
    a.join("ben", "lead")
    assert a.members == ["amy", "cat", "ben"] and a.outstanding() == ["ben"]
    with refused(Forbidden, None, a):
        a.judge("ben", CRITERIA[0], "met", "Before declaring again", "account:ben")
    a.declare("ben", False, "", "account:ben")
    assert a.judgements.get("ben") is None  # the earlier judgements stay set aside


def test_nobody_leaves_once_the_outcome_is_agreed() -> None:
    a = declared(MEMBERS)
    agree(a, all_met(), "award", MEMBERS, 3, 1, ("amy",))
    with refused(Conflict, "appraisal", a):
        a.leave("ben", "lead")
    assert a.members == MEMBERS
