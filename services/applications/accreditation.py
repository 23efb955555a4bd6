"""A school's application for the award, from audit to decision. Plain Python.

The journey: audit each criterion and plan actions; submit a draft (where the
authority has a draft stage) by its deadline, or later only with an extension
the lead grants; receive feedback per criterion once released; submit the
final application and portfolio; a visit; the decision (awarded, further
evidence by a date, or not awarded this cycle). An award lasts three years;
renewal starts a new application from the old one's action plan.

Each submission freezes which evidence it included, so a panel's decision can
always be traced to the evidence it saw. Dates must make sense: a visit falls on
a school day and is recorded only once its day has come; an extension past the
stage's panel meeting is granted only knowingly; where the authority says so,
the decision waits for the visit. Names and free text about people are personal
values (services/applications/people.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from eventsourcing.domain import Aggregate, event

from services.applications.people import free_text, named, owners_named, reason_kept, visit_named
from shared.errors import Conflict, Invalid

_NAMESPACE = uuid.UUID("8a1c6e2f-4b7d-4c3e-9f10-2d5e8b7a6c41")

AUDIT_STATUSES = ("not_started", "developing", "met")
ACTION_STATUSES = ("planned", "in_progress", "done")
OUTCOMES = ("met", "not_yet_met")
DECISIONS = ("awarded", "further_evidence", "not_awarded")


class Stage:
    STARTED = "started"  # auditing, planning, gathering evidence
    DRAFT_SUBMITTED = "draft_submitted"
    DRAFT_FEEDBACK = "draft_feedback"  # feedback released; the school responds
    FINAL_SUBMITTED = "final_submitted"
    VISIT_SCHEDULED = "visit_scheduled"
    VISITED = "visited"
    FURTHER_EVIDENCE = "further_evidence"  # decided: more evidence by a date
    AWARDED = "awarded"
    NOT_AWARDED = "not_awarded"
    WITHDRAWN = "withdrawn"
    CLOSED = (AWARDED, NOT_AWARDED, WITHDRAWN)


@dataclass(frozen=True)
class Deadline:
    """A submission deadline: the whole of that day, in the authority's time."""

    stage: str
    day: dt.date | None  # None: no deadline (apply when ready)


def one_of(value: str, choices: tuple[str, ...], field: str) -> None:
    if value not in choices:
        raise Invalid(
            f"{value!r} is not a valid {field}.", {field: [f"Must be one of {', '.join(choices)}."]}
        )


def _distinct(files: list[dict]) -> list[dict]:
    """File references, each content once (the same photo chosen twice is one file)."""
    seen: dict[str, dict] = {}
    for ref in files:
        seen.setdefault(ref["sha256"], {k: ref[k] for k in ("sha256", "filename", "content_type", "size")})
    return list(seen.values())


RENEWAL_NOTICE_MONTHS = 3  # schools are told this long before their award expires


def _months_before(day: dt.date, months: int) -> dt.date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the month's last day if it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def school_year_advice(pledged_on: dt.date | None, started_on: dt.date, months: int) -> dict | None:
    """The lead's advice that a school takes at least ``months`` between its pledge
    and its application, when an application started sooner: a warning, never a bar."""
    if pledged_on is None or months <= 0:
        return None
    advised_from = add_months(pledged_on, months)
    if started_on >= advised_from:
        return None
    return {"advised_months": months, "pledged_on": pledged_on, "started_on": started_on,
            "advised_from": advised_from,
            "message": f"This application started before the advised time: the pledge was signed on "
                       f"{pledged_on:%-d %B %Y}, and schools are advised to take at least {months} "
                       f"months (a whole school year) to learn and embed before applying, that is "
                       f"from {advised_from:%-d %B %Y}. The school may still apply."}


class AwardApplication(Aggregate):
    @staticmethod
    def create_id(urn: str, school_year: str, **_: object) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"application/{urn}/{school_year}")

    class Started(Aggregate.Created):
        """Version 2 names the owners of carried actions as personal values; version 3
        records the day each submission is due, as the service set it at the start: other
        services are told it (and keep it) rather than work it out again."""

        urn: str
        school_name: str
        school_year: str
        criteria_version: str
        criteria: list[str]
        has_draft: bool
        renewal_of: str | None
        carried_actions: list[dict]
        actor: str
        pledged_on: dt.date | None
        started_on: dt.date | None
        due: dict[str, dt.date | None] | None

        class_version = 3
        upcast_v1_v2 = staticmethod(owners_named)  # carried actions' owners were kept in clear

        @staticmethod
        def upcast_v2_v3(state: dict) -> None:
            state.setdefault("pledged_on", None)  # absent from the earliest events
            state.setdefault("started_on", None)
            state["due"] = None  # not recorded then: published as it was (see contract.py)

    @event(Started)
    def __init__(
        self,
        urn: str,
        school_name: str,
        school_year: str,
        criteria_version: str,
        criteria: list[str],
        has_draft: bool,
        renewal_of: str | None,
        carried_actions: list[dict],
        actor: str,
        pledged_on: dt.date | None = None,  # the pledge it rests on
        started_on: dt.date | None = None,  # the school's day it started, by the service's clock
        due: dict[str, dt.date | None] | None = None,  # stage -> its due day (None: no fixed day)
    ) -> None:
        self.urn = urn
        self.pledged_on = pledged_on
        self.started_on = started_on or self.created_on.date()
        self.school_name = school_name
        self.school_year = school_year
        self.criteria_version = criteria_version
        self.criteria = list(criteria)
        self.has_draft = has_draft
        self.renewal_of = renewal_of
        self.stage = Stage.STARTED
        self.audit = {code: {"status": "not_started", "practice": "", "next_steps": ""} for code in criteria}
        self.evidence: dict[str, dict] = {}
        self.actions = {a["id"]: dict(a) for a in carried_actions}
        self.submissions: list[dict] = []
        self.extensions: dict[str, dict] = {}
        self.feedback: dict[str, dict] = {}
        self.evidence_seen: dict[str, int] = {}  # stage -> how much evidence there was at its feedback
        self.visit: dict | None = None
        self.decision: dict | None = None
        self.award: dict | None = None
        self.withdrawal: dict | None = None
        self.portfolio_deleted: dict | None = None  # the retention rule's deletion, once done
        self.shown: dict[str, list] = {}  # sha256 -> the people (Personal names) the lead marked it shows
        self.erased_files: list[str] = []  # deleted because everyone they show was erased

    # -- the school's work ----------------------------------------------------------

    def record_audit(self, criterion: str, status: str, practice: str, next_steps: str, actor: str) -> None:
        self._require_open()
        self._require_criterion(criterion)
        one_of(status, AUDIT_STATUSES, "status")
        self._audit_recorded(
            urn=self.urn,
            school_year=self.school_year,
            criterion=criterion,
            status=status,
            practice=practice,
            next_steps=next_steps,
            actor=actor,
        )

    def add_evidence(
        self, evidence_id: str, criterion: str, title: str, detail: str, link: str | None, actor: str,
        files: list[dict] | None = None,
    ) -> None:
        """``files``: references to files already checked and stored (sha256, filename,
        content_type, size)."""
        self._require_open()
        self._require_criterion(criterion)
        if evidence_id in self.evidence:
            raise Conflict("That evidence is already recorded.", "evidence")
        self._evidence_added(
            urn=self.urn,
            school_year=self.school_year,
            evidence_id=evidence_id,
            criterion=criterion,
            title=title,
            detail=detail,
            link=link,
            stage=self.stage,
            actor=actor,
            files=_distinct(files or []),
        )

    def add_files(self, evidence_id: str, files: list[dict], actor: str) -> None:
        """More files for an evidence item: the next submission includes them, those made
        before do not. A file the item already has is kept once."""
        self._require_open()
        item = self._live_item(evidence_id)
        held = {f["sha256"] for f in item["files"]}
        new = [f for f in _distinct(files) if f["sha256"] not in held]
        if new:
            self._files_added(urn=self.urn, school_year=self.school_year, evidence_id=evidence_id,
                              files=new, actor=actor)

    def remove_file(self, evidence_id: str, sha256: str, actor: str) -> None:
        """Take a file out of an item for future submissions; a submission that included it
        keeps it (its bytes are kept until the retention rule allows deleting them)."""
        self._require_open()
        item = self._live_item(evidence_id)
        if sha256 not in {f["sha256"] for f in item["files"]}:
            raise Conflict("The evidence has no such file.", "sha256")
        self._file_removed(urn=self.urn, school_year=self.school_year, evidence_id=evidence_id,
                           sha256=sha256, actor=actor)

    def _live_item(self, evidence_id: str) -> dict:
        item = self.evidence.get(evidence_id)
        if item is None or item["withdrawn"]:
            raise Conflict("No such evidence: it was never added, or it was withdrawn.", "evidence_id")
        return item

    def withdraw_evidence(self, evidence_id: str, actor: str) -> None:
        """Take evidence out of future submissions; what was submitted stays as submitted."""
        self._require_open()
        item = self.evidence.get(evidence_id)
        if item is None or item["withdrawn"]:
            raise Conflict("No such evidence to withdraw.", "evidence")
        self._evidence_withdrawn(
            urn=self.urn, school_year=self.school_year, evidence_id=evidence_id, actor=actor
        )

    def plan_action(
        self,
        action_id: str,
        criterion: str,
        action: str,
        owner: str,
        target_date: dt.date | None,
        status: str,
        actor: str,
    ) -> None:
        self._require_open()
        self._require_criterion(criterion)
        one_of(status, ACTION_STATUSES, "status")
        self._action_planned(
            urn=self.urn,
            school_year=self.school_year,
            action_id=action_id,
            criterion=criterion,
            action=action,
            owner=named(self.urn, owner),
            target_date=target_date,
            status=status,
            actor=actor,
        )

    # -- submissions and deadlines ------------------------------------------------------

    def grant_extension(self, stage: str, until: dt.date, reason: str, actor: str,
                        panel_meets_on: dt.date | None = None, beyond_panel_meeting: bool = False) -> None:
        """An extension past the day the stage's panel meets is granted only if the lead
        says they know (``beyond_panel_meeting``): that panel will not see the submission."""
        self._require_open()
        if stage not in self.stages_due():
            raise Invalid(
                "There is no such submission to extend.", {"stage": [f"Must be one of {self.stages_due()}."]}
            )
        # a resubmission of further evidence is appraised when it comes, not at the cycle's meeting
        beyond = (panel_meets_on is not None and until > panel_meets_on
                  and self.stage != Stage.FURTHER_EVIDENCE)
        if beyond and not beyond_panel_meeting:
            raise Invalid(
                f"The extension runs to {until:%A %-d %B %Y}, after the {stage} panel meets on "
                f"{panel_meets_on:%A %-d %B %Y}, so that panel will not see this submission. To grant "
                "it anyway, confirm that you know (beyond_panel_meeting: true).",
                {"beyond_panel_meeting": ["Confirm the extension runs past the panel meeting."],
                 "until": [f"After the {stage} panel meets ({panel_meets_on:%-d %B %Y})."]},
            )
        self._extension_granted(
            urn=self.urn, school_year=self.school_year, stage=stage, until=until,
            reason=free_text(self.urn, reason), beyond_panel_meeting=beyond, actor=actor,
        )

    def stages_due(self) -> list[str]:
        return ["draft", "final"] if self.has_draft else ["final"]

    def submit(self, stage: str, on: dt.date, deadline: Deadline, actor: str) -> None:
        expected = self.next_submission()
        if expected is None:
            raise Conflict(f"Nothing can be submitted while the application is {self.stage}.", "stage")
        if stage != expected:
            raise Conflict(f"The next submission is the {expected} application.", "stage")
        late = deadline.day is not None and on > deadline.day
        extension = self.extensions.get(stage)
        if late and not (extension and on <= extension["until"]):
            raise Conflict(
                f"The {stage} deadline was {deadline.day:%A %-d %B %Y}; the lead can "
                "grant this school an extension.",
                "deadline",
            )
        included = sorted(e for e, item in self.evidence.items() if not item["withdrawn"])
        if not included:
            raise Conflict("Add evidence before submitting.", "evidence")
        self._submitted(
            urn=self.urn,
            school_year=self.school_year,
            stage=stage,
            on=on,
            evidence=included,
            audit=dict(self.audit),
            under_extension=late,
            actor=actor,
            files={e: list(self.evidence[e]["files"]) for e in included if self.evidence[e]["files"]},
        )

    def next_submission(self) -> str | None:
        if self.stage == Stage.STARTED:
            return "draft" if self.has_draft else "final"
        if self.stage in (Stage.DRAFT_FEEDBACK, Stage.FURTHER_EVIDENCE):
            return "final"
        return None

    # -- the panel's and the lead's part ----------------------------------------------------

    def release_feedback(
        self, stage: str, criteria: dict[str, dict], summary: str, appraisal: str, actor: str
    ) -> None:
        """Feedback per criterion (met / not yet met, with a comment) becomes visible.

        Draft feedback comes before the final submission; final feedback may come
        with or after the decision (Coventry: by the start of Autumn 1)."""
        if stage == "draft" and self.stage != Stage.DRAFT_SUBMITTED:
            raise Conflict("There is no draft submission awaiting feedback.", "stage")
        if stage == "final" and (
            self.stage == Stage.WITHDRAWN or not any(s["stage"] == "final" for s in self.submissions)
        ):
            raise Conflict("There is no final submission to give feedback on.", "stage")
        self._check_outcomes(criteria)
        self._feedback_released(
            urn=self.urn,
            school_year=self.school_year,
            stage=stage,
            criteria=criteria,
            summary=summary,
            appraisal=appraisal,
            actor=actor,
        )

    def schedule_visit(self, on: dt.date, actor: str, closed: str | None = None) -> None:
        """``closed``: why ``on`` is not a school day in the authority's calendar, if it is not."""
        if self.stage not in (Stage.FINAL_SUBMITTED, Stage.VISIT_SCHEDULED):
            raise Conflict("A visit follows the final submission.", "stage")
        if closed:
            raise Invalid(f"{on:%A %-d %B %Y} is not a school day ({closed}): a visit is on a school day.",
                          {"on": [f"Not a school day: {closed}."]})
        self._visit_scheduled(urn=self.urn, school_year=self.school_year, on=on, actor=actor)

    def record_visit(self, today: dt.date, attendees: list[str], notes: str, actor: str) -> None:
        """The visit as it went, recorded on or after its day."""
        if self.stage != Stage.VISIT_SCHEDULED:
            raise Conflict("Schedule the visit before recording it.", "stage")
        on = self.visit["on"]
        if today < on:
            raise Invalid(f"The visit is on {on:%A %-d %B %Y}: record it on or after that day (or "
                          "schedule it again, for the day it happens).",
                          {"on": [f"The visit's day ({on:%-d %B %Y}) has not come yet."]})
        self._visit_recorded(
            urn=self.urn, school_year=self.school_year, on=on,
            attendees=[named(self.urn, name) for name in attendees], notes=free_text(self.urn, notes),
            actor=actor,
        )

    def decide(
        self,
        outcome: str,
        reasons: str,
        evidence_due: dt.date | None,
        on: dt.date,
        appraisal: str,
        panel_members: list[str],
        actor: str,
        award_years: int = 3,
        visit_required: bool = False,
    ) -> None:
        """``visit_required``: the authority's final stage waits for the visit to be recorded."""
        if self.stage not in (Stage.FINAL_SUBMITTED, Stage.VISIT_SCHEDULED, Stage.VISITED):
            raise Conflict("A decision follows the final submission.", "stage")
        one_of(outcome, DECISIONS, "outcome")
        if visit_required and not (self.visit and self.visit["recorded"]):
            when = (f"it is scheduled for {self.visit['on']:%A %-d %B %Y}; record it once it has "
                    "happened" if self.visit else "schedule it, then record it once it has happened")
            raise Invalid(f"The decision waits for the school's visit: {when}.",
                          {"visit": ["The visit has not been recorded."]})
        if (outcome == "further_evidence") != (evidence_due is not None):
            raise Invalid(
                "Further evidence needs a date, and only then.",
                {"evidence_due": ["Give the date by which the evidence is due."]},
            )
        expires = add_years(on, award_years) if outcome == "awarded" else None
        self._decided(
            urn=self.urn,
            school_year=self.school_year,
            outcome=outcome,
            reasons=reasons,
            evidence_due=evidence_due,
            on=on,
            expires_on=expires,
            appraisal=appraisal,
            panel_members=panel_members,
            actor=actor,
        )

    def renewal_due(self, today: dt.date, notice_months: int = RENEWAL_NOTICE_MONTHS) -> bool:
        """True the first time an award is within its renewal notice; records it."""
        if self.award is None or self.award.get("renewal_due_on") is not None:
            return False
        expires = self.award["expires_on"]
        if today < _months_before(expires, notice_months):
            return False
        self._renewal_fell_due(
            urn=self.urn, school_year=self.school_year, on=today, expires_on=expires, actor="system:renewals"
        )
        return True

    def mark_file_shows(self, sha256: str, name: str, actor: str) -> None:
        """The lead records that a file shows the person ``name`` (at this school): once
        everyone a file is marked as showing has been erased, the file is deleted. Marking the
        same person twice changes nothing."""
        if sha256 not in self.held_files():
            raise Conflict("The application's portfolio has no such file.", "sha256")
        if sha256 in self.erased_files:
            raise Conflict("The file was deleted already.", "sha256")
        person = named(self.urn, name)
        if any(p.subject == person.subject for p in self.shown.get(sha256, [])):
            return
        self._file_shows(urn=self.urn, school_year=self.school_year, sha256=sha256, person=person,
                         actor=actor)

    def erase_files(self, files: list[str], actor: str) -> None:
        """Record that ``files`` were deleted because the people they show were erased (once each;
        a file this application never held is not its to record)."""
        held = self.held_files()
        new = [sha for sha in dict.fromkeys(files) if sha in held and sha not in self.erased_files]
        if new:
            self._files_erased(urn=self.urn, school_year=self.school_year, files=new, actor=actor)

    def delete_portfolio(self, on: dt.date, files: list[str], actor: str) -> None:
        """Record that the retention rule deleted the portfolio's files (``files``: those
        deleted from the store; others are still held by another application)."""
        if self.portfolio_deleted is not None:
            raise Conflict("The portfolio was deleted already.", "portfolio")
        self._portfolio_deleted(urn=self.urn, school_year=self.school_year, on=on, files=files, actor=actor)

    def withdraw(self, reason: str, actor: str, on: dt.date | None = None) -> None:
        """``on``: the service's day (a rehearsal's too), from which the retention rule counts."""
        self._require_open()
        self._withdrawn(urn=self.urn, school_year=self.school_year, reason=free_text(self.urn, reason),
                        actor=actor, on=on)

    # -- queries -----------------------------------------------------------------------

    def submitted_files(self, version: int) -> dict[str, list[dict]]:
        """Evidence id -> the files as that submission froze them."""
        return next(s["files"] for s in self.submissions if s["version"] == version)

    def held_files(self) -> dict[str, dict]:
        """Every file the application has named, in any item or submission: sha256 -> reference."""
        held = {f["sha256"]: f for item in self.evidence.values() for f in item["all_files"]}
        for submission in self.submissions:
            held.update({f["sha256"]: f for refs in submission["files"].values() for f in refs})
        return held

    def portfolio_bytes(self) -> int:
        """The size of the live portfolio: each distinct file in items not withdrawn, once."""
        live = {f["sha256"]: f["size"] for item in self.evidence.values() if not item["withdrawn"]
                for f in item["files"] if f["sha256"] not in self.erased_files}
        return sum(live.values())

    def kept_until(self, years_after_award: int, years_without_award: int) -> dt.date | None:
        """The last day the portfolio is kept: the award's expiry plus ``years_after_award``;
        without an award, the decision (or, withdrawn, the last change) plus
        ``years_without_award``; None while the application is still open."""
        if self.award is not None:
            return add_years(self.award["expires_on"], years_after_award)
        if self.stage == Stage.NOT_AWARDED:
            return add_years(self.decision["on"], years_without_award)
        if self.stage == Stage.WITHDRAWN:  # the day it was withdrawn (before version 3: its event's time)
            return add_years(self.withdrawal.get("on") or self.modified_on.date(), years_without_award)
        return None

    def missing(self) -> dict[str, list[str]]:
        """What each criterion still lacks, in plain words."""
        gaps: dict[str, list[str]] = {}
        live = [e for e in self.evidence.values() if not e["withdrawn"]]
        for code in self.criteria:
            lacking = []
            if self.audit[code]["status"] != "met":
                lacking.append(f"audit status is {self.audit[code]['status'].replace('_', ' ')}")
            if not any(e["criterion"] == code for e in live):
                lacking.append("no evidence yet")
            if self._found_not_yet_met(code) and not self._answered(code):
                lacking.append("the panel found it not yet met")
            if lacking:
                gaps[code] = lacking
        return gaps

    def _latest_feedback(self) -> str | None:
        """The stage whose feedback is the latest released (a final one replaces the draft's)."""
        return next((stage for stage in ("final", "draft") if stage in self.feedback), None)

    def _found_not_yet_met(self, code: str) -> bool:
        stage = self._latest_feedback()
        judged = self.feedback[stage]["criteria"].get(code) if stage else None
        return bool(judged and judged["outcome"] == "not_yet_met")

    def _answered(self, code: str) -> bool:
        """The school has added evidence for the criterion since the latest feedback."""
        since = list(self.evidence.values())[self.evidence_seen.get(self._latest_feedback(), 0):]
        return any(e["criterion"] == code and not e["withdrawn"] for e in since)

    def check_open(self) -> None:
        """Refuse (409) unless the school may still change its application."""
        self._require_open()

    def _require_open(self) -> None:
        if self.stage in Stage.CLOSED:
            raise Conflict(f"The application is {self.stage.replace('_', ' ')}.", "stage")

    def _require_criterion(self, code: str) -> None:
        if code not in self.criteria:
            raise Invalid("Unknown criterion.", {"criterion": [f"Must be one of {self.criteria}."]})

    def _check_outcomes(self, criteria: dict[str, dict]) -> None:
        missing = [c for c in self.criteria if c not in criteria]
        if missing:
            raise Invalid("Every criterion needs an outcome.", {"criteria": [f"Missing: {missing}."]})
        for code, judged in criteria.items():
            self._require_criterion(code)
            if judged.get("outcome") not in OUTCOMES or not judged.get("comment"):
                raise Invalid(
                    "Each criterion needs met or not yet met, with a comment.",
                    {f"criteria.{code}": ["Give an outcome and a comment."]},
                )

    # -- events ----------------------------------------------------------------------

    @event("AuditRecorded")
    def _audit_recorded(
        self,
        urn: str,
        school_year: str,
        criterion: str,
        status: str,
        practice: str,
        next_steps: str,
        actor: str,
    ) -> None:
        self.audit[criterion] = {"status": status, "practice": practice, "next_steps": next_steps}

    class EvidenceAdded(Aggregate.Event):
        """Version 2 carries the item's files (references: sha256, filename, content_type, size)."""

        urn: str
        school_year: str
        evidence_id: str
        criterion: str
        title: str
        detail: str
        link: str | None
        stage: str
        actor: str
        files: list[dict]

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["files"] = []  # evidence was a title, a description and a link

    @event(EvidenceAdded)
    def _evidence_added(
        self,
        urn: str,
        school_year: str,
        evidence_id: str,
        criterion: str,
        title: str,
        detail: str,
        link: str | None,
        stage: str,
        actor: str,
        files: list[dict],
    ) -> None:
        self.evidence[evidence_id] = {
            "criterion": criterion,
            "title": title,
            "detail": detail,
            "link": link,
            "added_at_stage": stage,
            "withdrawn": False,
            "files": list(files),
            "all_files": list(files),  # removed ones too: a submission may still hold them
        }

    @event("FilesAdded")
    def _files_added(self, urn: str, school_year: str, evidence_id: str, files: list[dict],
                     actor: str) -> None:
        item = self.evidence[evidence_id]
        item["files"] = [*item["files"], *files]
        item["all_files"] = [*item["all_files"], *files]

    @event("FileRemoved")
    def _file_removed(self, urn: str, school_year: str, evidence_id: str, sha256: str, actor: str) -> None:
        item = self.evidence[evidence_id]
        item["files"] = [f for f in item["files"] if f["sha256"] != sha256]

    @event("FileShowsPerson")
    def _file_shows(self, urn: str, school_year: str, sha256: str, person: object, actor: str) -> None:
        self.shown[sha256] = [*self.shown.get(sha256, []), person]

    @event("FilesErased")
    def _files_erased(self, urn: str, school_year: str, files: list[str], actor: str) -> None:
        self.erased_files = [*self.erased_files, *files]

    @event("PortfolioDeleted")
    def _portfolio_deleted(self, urn: str, school_year: str, on: dt.date, files: list[str],
                           actor: str) -> None:
        self.portfolio_deleted = {"on": on, "files": len(files)}

    @event("EvidenceWithdrawn")
    def _evidence_withdrawn(self, urn: str, school_year: str, evidence_id: str, actor: str) -> None:
        self.evidence[evidence_id]["withdrawn"] = True

    class ActionPlanned(Aggregate.Event):
        urn: str
        school_year: str
        action_id: str
        criterion: str
        action: str
        owner: object  # Personal (a name); in clear before version 2
        target_date: dt.date | None
        status: str
        actor: str

        class_version = 2
        upcast_v1_v2 = staticmethod(owners_named)

    @event(ActionPlanned)
    def _action_planned(
        self,
        urn: str,
        school_year: str,
        action_id: str,
        criterion: str,
        action: str,
        owner: object,
        target_date: dt.date | None,
        status: str,
        actor: str,
    ) -> None:
        self.actions[action_id] = {
            "id": action_id,
            "criterion": criterion,
            "action": action,
            "owner": owner,
            "target_date": target_date,
            "status": status,
        }

    class ExtensionGranted(Aggregate.Event):
        urn: str
        school_year: str
        stage: str
        until: dt.date
        reason: object  # Personal (free text); in clear before version 2
        beyond_panel_meeting: bool  # the lead confirmed it runs past the stage's panel meeting
        actor: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            reason_kept(state)
            state["beyond_panel_meeting"] = False  # not asked before: recorded as not confirmed

    @event(ExtensionGranted)
    def _extension_granted(
        self, urn: str, school_year: str, stage: str, until: dt.date, reason: object,
        beyond_panel_meeting: bool, actor: str
    ) -> None:
        self.extensions[stage] = {"until": until, "reason": reason, "granted_by": actor,
                                  "beyond_panel_meeting": beyond_panel_meeting}

    class Submitted(Aggregate.Event):
        """Version 2 freezes each included item's files by content hash (evidence id ->
        references), so files added or removed later do not change what was submitted."""

        urn: str
        school_year: str
        stage: str
        on: dt.date
        evidence: list[str]
        audit: dict
        under_extension: bool
        actor: str
        files: dict[str, list[dict]]

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["files"] = {}  # no evidence had files then

    @event(Submitted)
    def _submitted(
        self,
        urn: str,
        school_year: str,
        stage: str,
        on: dt.date,
        evidence: list[str],
        audit: dict,
        under_extension: bool,
        actor: str,
        files: dict[str, list[dict]],
    ) -> None:
        self.submissions.append(
            {
                "stage": stage,
                "on": on,
                "evidence": evidence,
                "files": files,
                "under_extension": under_extension,
                "audit": audit,
                "by": actor,
                "version": len(self.submissions) + 1,
            }
        )
        self.stage = Stage.DRAFT_SUBMITTED if stage == "draft" else Stage.FINAL_SUBMITTED

    @event("FeedbackReleased")
    def _feedback_released(
        self, urn: str, school_year: str, stage: str, criteria: dict, summary: str, appraisal: str, actor: str
    ) -> None:
        self.feedback[stage] = {"criteria": criteria, "summary": summary, "appraisal": appraisal}
        self.evidence_seen[stage] = len(self.evidence)
        if stage == "draft":
            self.stage = Stage.DRAFT_FEEDBACK

    @event("VisitScheduled")
    def _visit_scheduled(self, urn: str, school_year: str, on: dt.date, actor: str) -> None:
        self.visit = {"on": on, "attendees": [], "notes": "", "recorded": False}
        self.stage = Stage.VISIT_SCHEDULED

    class VisitRecorded(Aggregate.Event):
        urn: str
        school_year: str
        on: dt.date
        attendees: list  # of Personal (names); in clear before version 2
        notes: object  # Personal (free text); in clear before version 2
        actor: str

        class_version = 2
        upcast_v1_v2 = staticmethod(visit_named)

    @event(VisitRecorded)
    def _visit_recorded(
        self, urn: str, school_year: str, on: dt.date, attendees: list, notes: object, actor: str
    ) -> None:
        self.visit = {"on": on, "attendees": attendees, "notes": notes, "recorded": True}
        self.stage = Stage.VISITED

    @event("Decided")
    def _decided(
        self,
        urn: str,
        school_year: str,
        outcome: str,
        reasons: str,
        evidence_due: dt.date | None,
        on: dt.date,
        expires_on: dt.date | None,
        appraisal: str,
        panel_members: list[str],
        actor: str,
    ) -> None:
        self.decision = {
            "outcome": outcome,
            "reasons": reasons,
            "evidence_due": evidence_due,
            "on": on,
            "appraisal": appraisal,
            "panel_members": panel_members,
            "by": actor,
        }
        if outcome == "awarded":
            self.award = {"awarded_on": on, "expires_on": expires_on}
        if outcome == "further_evidence":  # the school's own date replaces any final extension
            self.extensions.pop("final", None)
        self.stage = {
            "awarded": Stage.AWARDED,
            "further_evidence": Stage.FURTHER_EVIDENCE,
            "not_awarded": Stage.NOT_AWARDED,
        }[outcome]

    @event("RenewalDue")
    def _renewal_fell_due(
        self, urn: str, school_year: str, on: dt.date, expires_on: dt.date, actor: str
    ) -> None:
        self.award = {**self.award, "renewal_due_on": on}

    class Withdrawn(Aggregate.Event):
        urn: str
        school_year: str
        reason: object  # Personal (free text); in clear before version 2
        actor: str
        on: dt.date | None  # the day by the service's clock; version 3 (None: the event's time says)

        class_version = 3
        upcast_v1_v2 = staticmethod(reason_kept)

        @staticmethod
        def upcast_v2_v3(state: dict) -> None:
            state["on"] = None

    @event(Withdrawn)
    def _withdrawn(self, urn: str, school_year: str, reason: object, actor: str, on: dt.date | None) -> None:
        self.withdrawal = {"reason": reason, "by": actor, "on": on}
        self.stage = Stage.WITHDRAWN
