"""Appraisal panels. Plain Python.

A panel meets once per cycle and stage (Coventry: drafts on 20 April, finals
on 10 June). Its membership must satisfy the authority's rule (by default at
least three members, one with lived experience of seeking sanctuary) before
it convenes. For each application assigned to it, an ``Appraisal`` records
every member's conflict declaration (before they may see anything), their
judgement per criterion with a comment, their strengths, areas for
improvement and questions, and the consolidated outcome with the members who
took it. There is no numeric score.

The rule holds at the decision too: the members who agree an outcome, each clear
of any conflict, must themselves meet it (a panel of three with one conflicted
cannot decide). The agreed outcome keeps the rule as it was checked. A member
added to the panel after an appraisal opened joins it, declares and judges; a member
taken off it leaves every appraisal not yet agreed, and what they declared, judged and
noted there is set aside: it no longer counts, and they may no longer see the school.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from eventsourcing.domain import Aggregate, event

from services.applications.accreditation import OUTCOMES, one_of
from shared.errors import Conflict, Forbidden, Invalid

_NAMESPACE = uuid.UUID("2f6b9d14-7c3a-4e51-8b0d-9a4c1e7f3b62")
OVERALL = ("award", "further_evidence", "not_awarded")


class Panel(Aggregate):
    @staticmethod
    def create_id(school_year: str, stage: str, **_: object) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"panel/{school_year}/{stage}")

    @event("Formed")
    def __init__(self, school_year: str, stage: str, meets_on: object, actor: str) -> None:
        self.school_year = school_year
        self.stage = stage
        self.meets_on = meets_on
        self.members: dict[str, dict] = {}  # account -> {"name", "lived_experience"}
        self.assigned: dict[str, str] = {}  # application id -> urn
        self.appraising: set[tuple[str, int]] = set()  # (application, submission version)
        self.convened = False
        self.changes: list[dict] = []  # changes of membership after convening, with their reasons

    def add_member(self, account: str, name: object, lived_experience: bool, actor: str,
                   min_members: int = 0, min_lived: int = 0, reason: object = None) -> None:
        if account in self.members:
            raise Conflict("Already a member of this panel.", "account")
        after = {**self.members, account: {"name": name, "lived_experience": lived_experience}}
        reason = self._after_convening(after, min_members, min_lived, reason)
        self._member_added(account=account, name=name, lived_experience=lived_experience,
                           reason=reason, actor=actor)

    def remove_member(self, account: str, min_members: int, min_lived: int, actor: str,
                      reason: object = None) -> None:
        self._require_member(account)
        rest = {a: m for a, m in self.members.items() if a != account}
        reason = self._after_convening(rest, min_members, min_lived, reason)
        self._member_removed(account=account, reason=reason, actor=actor)

    def correct_member(self, account: str, lived_experience: bool, min_members: int, min_lived: int,
                       actor: str, reason: object = None) -> None:
        """Correct whether a member has lived experience of seeking sanctuary."""
        self._require_member(account)
        if self.members[account]["lived_experience"] == lived_experience:
            raise Conflict("That is already recorded for this member.", "lived_experience")
        after = {**self.members, account: {**self.members[account], "lived_experience": lived_experience}}
        reason = self._after_convening(after, min_members, min_lived, reason)
        self._member_corrected(account=account, lived_experience=lived_experience, reason=reason,
                               actor=actor)

    def convene(self, min_members: int, min_lived: int, actor: str) -> None:
        """The composition rule is checked here: a panel that breaks it cannot sit."""
        if self.convened:
            raise Conflict("The panel has already convened.", "panel")
        _check_composition(self.members, min_members, min_lived)
        self._convened(actor=actor)

    def _after_convening(self, members: dict[str, dict], min_members: int, min_lived: int,
                         reason: object) -> object:
        """Once convened, a change of membership says why and must leave a panel that could
        still convene (the same rule, checked again); before, it is the panel being put
        together, and the rule waits for convening. The reason to record, or None."""
        if not self.convened:
            return None
        if reason is None or not str(reason).strip():
            raise Invalid("Say why the membership of a convened panel changes.",
                          {"reason": ["Enter the reason for the change"]})
        _check_composition(members, min_members, min_lived)
        return reason

    def _require_member(self, account: str) -> None:
        if account not in self.members:
            raise Conflict("Not a member of this panel.", "account")

    def assign(self, application: str, urn: str, submission: int, actor: str) -> None:
        """A submission comes to the panel once; a resubmission (further evidence) comes again."""
        if (application, submission) in self.appraising:
            raise Conflict("That submission is already assigned to this panel.", "application")
        self._assigned(application=application, urn=urn, submission=submission, actor=actor)

    def is_member(self, account: str) -> bool:
        return account in self.members

    class MemberAdded(Aggregate.Event):
        account: str
        name: object
        lived_experience: bool
        reason: object  # why, once the panel has convened (free text); None before
        actor: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["reason"] = None  # no reason was asked for

    @event(MemberAdded)
    def _member_added(self, account: str, name: object, lived_experience: bool, reason: object,
                      actor: str) -> None:
        self.members[account] = {"name": name, "lived_experience": lived_experience}
        self._changed("added", account, lived_experience, reason, actor)

    class MemberRemoved(Aggregate.Event):
        account: str
        reason: object  # why, once the panel has convened (free text); None before
        actor: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["reason"] = None  # no reason was asked for

    @event(MemberRemoved)
    def _member_removed(self, account: str, reason: object, actor: str) -> None:
        removed = self.members.pop(account)
        self._changed("removed", account, removed["lived_experience"], reason, actor)

    @event("LivedExperienceCorrected")
    def _member_corrected(self, account: str, lived_experience: bool, reason: object, actor: str) -> None:
        self.members[account]["lived_experience"] = lived_experience
        self._changed("corrected", account, lived_experience, reason, actor)

    def _changed(self, change: str, account: str, lived_experience: bool, reason: object,
                 actor: str) -> None:
        """Changes to a convened panel, with their reasons, as the lead reads them back."""
        if reason is not None:
            self.changes.append({"change": change, "account": account, "lived_experience": lived_experience,
                                 "reason": reason, "by": actor})

    @event("Convened")
    def _convened(self, actor: str) -> None:
        self.convened = True

    @event("ApplicationAssigned")
    def _assigned(self, application: str, urn: str, submission: int, actor: str) -> None:
        self.assigned[application] = urn
        self.appraising.add((application, submission))


def composition_problem(members: dict[str, dict], min_members: int, min_lived: int) -> str | None:
    """What is wrong with a panel of ``members`` under the composition rule; None when it is met."""
    try:
        _check_composition(members, min_members, min_lived)
    except Conflict as broken:
        return broken.message
    return None


def _missing(c: dict) -> str:
    """How many more clear members a decision needs, and how many with lived experience."""
    more = max(c["min_members"] - c["agreed_by"], c["min_lived_experience"] - c["with_lived_experience"])
    lived_more = max(0, c["min_lived_experience"] - c["with_lived_experience"])
    missing = f"{more} more member{'s' if more > 1 else ''}"
    if lived_more:
        missing += (" with" if lived_more == more else f", at least {lived_more} of them with") + \
            " lived experience of seeking sanctuary"
    return missing


def _check_composition(members: dict[str, dict], min_members: int, min_lived: int) -> None:
    lived = sum(1 for m in members.values() if m["lived_experience"])
    if len(members) < min_members or lived < min_lived:
        raise Conflict(
            f"A panel needs at least {min_members} members, at least {min_lived} of them with "
            f"lived experience of seeking sanctuary; it has {len(members)}, {lived} with lived "
            "experience.", "members")


class Appraisal(Aggregate):
    """One panel's appraisal of one application at one stage."""

    @staticmethod
    def create_id(panel: str, application: str, submission: int, **_: object) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"appraisal/{panel}/{application}/{submission}")

    @event("Opened")
    def __init__(self, panel: str, application: str, urn: str, stage: str, criteria: list[str],
                 members: list[str], submission: int, actor: str) -> None:
        self.panel = panel
        self.application = application
        self.urn = urn
        self.stage = stage
        self.criteria = list(criteria)
        self.members = list(members)
        self.submission = submission  # the submission version under appraisal
        self.declarations: dict[str, dict] = {}
        self.judgements: dict[str, dict[str, dict]] = {}  # member -> criterion -> judgement
        self.notes: dict[str, dict] = {}
        self.set_aside: list[dict] = []  # the part of each member who left before the outcome
        self.outcome: dict | None = None

    # -- members ------------------------------------------------------------------

    def declare(self, member: str, conflicted: bool, interests: str, actor: str) -> None:
        """Before seeing anything, each member declares any tie to the school."""
        self._require_open()
        self._require_member(member)
        if member in self.declarations:
            raise Conflict("You have already declared your interests for this application.",
                           "declaration")
        if conflicted and not interests:
            raise Invalid("Say what the conflict is.", {"interests": ["Describe the tie to the school."]})
        self._declared(member=member, conflicted=conflicted, interests=interests, actor=actor)

    def may_see(self, member: str) -> bool:
        declared = self.declarations.get(member)
        return declared is not None and not declared["conflicted"]

    def require_clear(self, member: str) -> None:
        """A member may read and judge only after declaring, and only if not conflicted."""
        self._require_member(member)
        declared = self.declarations.get(member)
        if declared is None:
            raise Forbidden("Declare any conflict of interest before you see this application.")
        if declared["conflicted"]:
            raise Forbidden("You declared a conflict of interest, so you are excluded from "
                            "this appraisal.")

    def judge(self, member: str, criterion: str, outcome: str, comment: str, actor: str) -> None:
        self._require_open()
        self.require_clear(member)
        if criterion not in self.criteria:
            raise Invalid("Unknown criterion.", {"criterion": [f"Must be one of {self.criteria}."]})
        one_of(outcome, OUTCOMES, "outcome")
        if not comment:
            raise Invalid("A judgement needs a comment.", {"comment": ["Say why."]})
        self._judged(member=member, criterion=criterion, outcome=outcome, comment=comment,
                     actor=actor)

    def note(self, member: str, strengths: str, improvements: str, questions: str,
             actor: str) -> None:
        self._require_open()
        self.require_clear(member)
        self._noted(member=member, strengths=strengths, improvements=improvements,
                    questions=questions, actor=actor)

    def join(self, member: str, actor: str) -> None:
        """A member added to the panel after this appraisal opened: they declare and judge too."""
        self._require_open()
        if member in self.members:
            raise Conflict("Already a member of the panel appraising this application.", "account")
        self._joined(member=member, actor=actor)

    def leave(self, member: str, actor: str) -> None:
        """A member taken off the panel before the outcome: out of this appraisal (no reading,
        no judging, not counted for the decision); their part is kept aside, for the record."""
        self._require_open()
        if member not in self.members:
            raise Conflict("Not a member of the panel appraising this application.", "account")
        self._left(member=member, actor=actor)

    # -- together -----------------------------------------------------------------

    def consolidate(self, criteria: dict[str, dict], overall: str, members: list[str],
                    min_members: int, min_lived: int, lived_experience: Collection[str],
                    actor: str) -> None:
        """The panel's agreed outcome per criterion and overall, and who agreed it.

        Those who agreed it, each clear of conflict, must meet the composition rule
        (``lived_experience``: the panel's members with lived experience of seeking
        sanctuary); the outcome records the rule and the counts as checked."""
        self._require_open()
        one_of(overall, OVERALL, "overall")
        missing = [c for c in self.criteria if c not in criteria]
        if missing:
            raise Invalid("Every criterion needs an outcome.", {"criteria": [f"Missing: {missing}."]})
        for code, judged in criteria.items():
            if code not in self.criteria or judged.get("outcome") not in OUTCOMES or not judged.get(
                    "comment"):
                raise Invalid("Each criterion needs met or not yet met, with a comment.",
                              {f"criteria.{code}": ["Give an outcome and a comment."]})
        unclear = [m for m in members if m not in self.members or not self.may_see(m)]
        if unclear:
            raise Invalid("Only members who declared and are not conflicted can agree the outcome.",
                          {"members": [f"Not eligible: {', '.join(sorted(unclear))}."]})
        if not members:
            raise Invalid("Name the members who took the decision.", {"members": ["At least one."]})
        composition = self.composition(set(members), min_members, min_lived, lived_experience)
        if not composition["met"]:
            missing = _missing(composition)
            raise Invalid(self._short_of(composition, missing, set(members)), {"members": [
                f"Missing: {missing}. Add a member to the panel, who then declares their interests and "
                "judges each criterion."]})
        self._consolidated(criteria=criteria, overall=overall, members=sorted(members),
                           composition=composition, actor=actor)

    def composition(self, members: set[str], min_members: int, min_lived: int,
                    lived_experience: Collection[str]) -> dict:
        """The composition rule checked against the clear members among ``members``."""
        clear = [m for m in members if m in self.members and self.may_see(m)]
        lived = sum(1 for m in clear if m in lived_experience)
        conflicted = sum(1 for d in self.declarations.values() if d["conflicted"])
        return {"min_members": min_members, "min_lived_experience": min_lived, "agreed_by": len(clear),
                "with_lived_experience": lived, "conflicted": conflicted,
                "met": len(clear) >= min_members and lived >= min_lived}

    def _short_of(self, c: dict, missing: str, members: set[str]) -> str:
        """What is missing, in words, and what the lead can do about it."""
        conflicts = (f" ({c['conflicted']} declared a conflict of interest and took no part)"
                     if c["conflicted"] else "")
        unnamed = [m for m in self.members if m not in members and self.may_see(m)]
        named_too = (f" If {len(unnamed)} other clear member{'s' if len(unnamed) > 1 else ''} took part, "
                     "name them too." if unnamed else "")
        return (f"The panel's decision needs at least {c['min_members']} members clear of any conflict of "
                f"interest, at least {c['min_lived_experience']} of them with lived experience of seeking "
                f"sanctuary; this outcome was agreed by {c['agreed_by']}, {c['with_lived_experience']} "
                f"with lived experience{conflicts}. Missing: {missing}. Add a member to the panel, who "
                f"then declares their interests and judges each criterion, and record the outcome with "
                f"them.{named_too}")

    def outstanding(self) -> list[str]:
        """Members who have not yet judged every criterion (or not yet declared)."""
        waiting = []
        for member in self.members:
            declared = self.declarations.get(member)
            if declared is None or (not declared["conflicted"] and
                                    len(self.judgements.get(member, {})) < len(self.criteria)):
                waiting.append(member)
        return waiting

    def _require_member(self, member: str) -> None:
        if member not in self.members:
            raise Forbidden("You are not a member of the panel appraising this application.")

    def _require_open(self) -> None:
        if self.outcome is not None:
            raise Conflict("The panel has already agreed its outcome.", "appraisal")

    @event("InterestsDeclared")
    def _declared(self, member: str, conflicted: bool, interests: str, actor: str) -> None:
        self.declarations[member] = {"conflicted": conflicted, "interests": interests}

    @event("CriterionJudged")
    def _judged(self, member: str, criterion: str, outcome: str, comment: str, actor: str) -> None:
        self.judgements.setdefault(member, {})[criterion] = {"outcome": outcome, "comment": comment}

    @event("NotesRecorded")
    def _noted(self, member: str, strengths: str, improvements: str, questions: str,
               actor: str) -> None:
        self.notes[member] = {"strengths": strengths, "improvements": improvements,
                              "questions": questions}

    @event("MemberJoined")
    def _joined(self, member: str, actor: str) -> None:
        self.members.append(member)

    @event("MemberLeft")
    def _left(self, member: str, actor: str) -> None:
        self.members.remove(member)
        self.set_aside.append({"member": member, "declaration": self.declarations.pop(member, None),
                               "judgements": self.judgements.pop(member, {}),
                               "notes": self.notes.pop(member, None), "by": actor})

    class OutcomeAgreed(Aggregate.Event):
        criteria: dict
        overall: str
        members: list[str]
        composition: dict | None  # the rule as checked; None: agreed before it was checked here
        actor: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["composition"] = None  # the rule was checked only when the panel convened

    @event(OutcomeAgreed)
    def _consolidated(self, criteria: dict, overall: str, members: list[str], composition: dict | None,
                      actor: str) -> None:
        self.outcome = {"criteria": criteria, "overall": overall, "members": members,
                        "composition": composition, "by": actor}
