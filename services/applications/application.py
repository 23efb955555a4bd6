"""The applications application: the accreditation journey, panels and appraisals.

It learns each school's pledge standing from the pledges service's events (no
call across services at command time), and takes cycles, criteria and
deadlines from the authority's configuration.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.applications.accreditation import AwardApplication, Deadline, Stage, school_year_advice
from services.applications.panels import Appraisal, Panel, composition_problem
from services.applications.people import carried, panel_text
from services.applications.photos import PHOTOS, thumbnail
from services.applications.portfolio import (
    Checked,
    Download,
    Upload,
    as_shown,
    by_criterion,
    check_uploads,
    contents_page,
    zip_entries,
)
from services.applications.standing import PLEDGE_NEWS, PledgeStanding, TrainingRecord
from shared.access import Principal
from shared.authority import Authority, Cycle
from shared.clock import Clock, system_clock
from shared.envelope import IntegrationEvent
from shared.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from shared.files import FileStore
from shared.history import history_entry
from shared.personal import PersonalDataApplication, reveal
from shared.projection import AggregateProjection

# what this service keeps of pledge news: the school and dates, never people
KEPT = ("urn", "name", "signed_on", "renewed_on", "withdrawn_on", "lapses_on")
OVERALL_TO_DECISION = {"award": "awarded", "further_evidence": "further_evidence",
                       "not_awarded": "not_awarded"}


class Applications(PersonalDataApplication):
    name = "applications"

    def __init__(self, env: dict | None = None, *, authority: Authority,
                 clock: Clock | None = None, files: FileStore | None = None) -> None:
        super().__init__(env)
        self.authority = authority
        self.files = files  # the portfolio's files, by content hash (None: this process keeps none)
        self.rules = authority.pledge
        self.clock = clock or system_clock()
        self.index = AggregateProjection(self)

    def today(self) -> dt.date:
        return self.clock.today(self.authority.timezone)

    # -- policies (reactions to other services' events) ------------------------------

    def learn_pledge_news(self, news: IntegrationEvent) -> list[PledgeStanding]:
        """The aggregates changed by one piece of pledge news (saved by the caller).

        News this service has no use for changes nothing (but is still tracked)."""
        if news.type not in PLEDGE_NEWS:
            return []
        urn = news.payload["urn"]
        standing = self._find(PledgeStanding.create_id(urn)) or PledgeStanding(urn=urn)
        kept = {k: v for k, v in news.payload.items() if k in KEPT}  # no personal data here
        standing.learn(news.type, news.position, kept, news.actor)
        return [standing]

    def learn_attendance(self, news: IntegrationEvent) -> list[TrainingRecord]:
        """CPD attendance, from the events service: evidence for staff training."""
        p = news.payload
        record = self._find(TrainingRecord.create_id(p["urn"])) or TrainingRecord(urn=p["urn"])
        record.learn(p["booking"], p["title"], p["date"], p["attended"], news.position, news.actor)
        return [record]

    def training(self, urn: str) -> list[dict]:
        record = self._find(TrainingRecord.create_id(urn))
        return record.attended() if record else []

    # -- the school's commands ---------------------------------------------------------

    def start(self, actor: str, urn: str, school_year: str) -> dict:
        cycle = self._cycle(school_year)
        standing = self._find(PledgeStanding.create_id(urn))
        if standing is None or not standing.may_apply(self.today(), self.rules.lapse_years):
            raise Conflict("A school needs a signed, current pledge before it applies.", "pledge")
        previous = self._latest_award(urn)
        criteria = [c.code for c in self.authority.criteria(cycle.criteria_version).criteria]
        application = AwardApplication(
            urn=urn, school_name=standing.school_name or urn, school_year=school_year,
            criteria_version=cycle.criteria_version, criteria=criteria, has_draft=cycle.has_draft,
            renewal_of=str(previous.id) if previous else None,
            carried_actions=carried(previous.actions.values()) if previous else [], actor=actor,
            pledged_on=standing.pledged_on, started_on=self.today(),
            due={stage: _cycle_day(cycle, stage) for stage in cycle.stages})
        try:
            self.save(application)
        except IntegrityError:
            raise Conflict(f"The school already has an application for {school_year}.", "urn") from None
        return self.view(application)

    def record_audit(self, actor: str, urn: str, school_year: str, criterion: str, status: str,
                     practice: str = "", next_steps: str = "") -> dict:
        return self._change(urn, school_year, lambda a: a.record_audit(
            criterion, status, practice, next_steps, actor))

    def add_evidence(self, actor: str, urn: str, school_year: str, criterion: str, title: str,
                     detail: str = "", link: str | None = None, files: list[Upload] = ()) -> dict:
        """Evidence, with any files: all of them are taken, or (a 422 naming the file) none."""
        evidence_id = uuid.uuid4().hex[:12]
        application = self._get(urn, school_year)
        checked = self._check_uploads(application, files) if files else []
        application.add_evidence(evidence_id, criterion, title, detail, link, actor,
                                 [c.reference for c in checked])
        return self._store_and_save(application, checked)

    def add_files(self, actor: str, urn: str, school_year: str, evidence_id: str,
                  files: list[Upload]) -> dict:
        application = self._get(urn, school_year)
        checked = self._check_uploads(application, files)
        application.add_files(evidence_id, [c.reference for c in checked], actor)
        return self._store_and_save(application, checked)

    def remove_file(self, actor: str, urn: str, school_year: str, evidence_id: str, sha256: str) -> dict:
        return self._change(urn, school_year, lambda a: a.remove_file(evidence_id, sha256, actor))

    def _check_uploads(self, application: AwardApplication, files: list[Upload]) -> list[Checked]:
        application.check_open()  # refused before any file is read
        checked = check_uploads(files, self.authority.portfolio, application.portfolio_bytes())
        erased = {sha for a in self.index.all() if isinstance(a, AwardApplication) for sha in a.erased_files}
        for item in checked:
            if item.facts.sha256 in erased:  # deleted at a person's request: never kept again
                name = item.facts.filename
                raise Invalid(f"{name}: this file was deleted at the request of a person it shows.",
                              {"files": [f"{name}: this file was deleted at the request of a person it "
                                         "shows, and is not taken again."]})
        return checked

    def _store_and_save(self, application: AwardApplication, checked: list[Checked]) -> dict:
        """The bytes first, then the events naming them: an event never names a missing file."""
        for item in checked:
            self._file_store().put(item.content)
        self.save_changes(application)
        return self.view(application)

    def _file_store(self) -> FileStore:
        if self.files is None:
            raise Unavailable("This process keeps no portfolio files.")
        return self.files

    def withdraw_evidence(self, actor: str, urn: str, school_year: str, evidence_id: str) -> dict:
        return self._change(urn, school_year, lambda a: a.withdraw_evidence(evidence_id, actor))

    def plan_action(self, actor: str, urn: str, school_year: str, criterion: str, action: str,
                    owner: str, status: str = "planned", target_date: dt.date | None = None,
                    action_id: str | None = None) -> dict:
        action_id = action_id or uuid.uuid4().hex[:12]
        return self._change(urn, school_year, lambda a: a.plan_action(
            action_id, criterion, action, owner, target_date, status, actor))

    def submit(self, actor: str, urn: str, school_year: str, stage: str) -> dict:
        return self._change(urn, school_year, lambda a: a.submit(
            stage, self.today(), self._deadline(a, stage), actor))

    def withdraw(self, actor: str, urn: str, school_year: str, reason: str) -> dict:
        return self._change(urn, school_year, lambda a: a.withdraw(reason, actor, self.today()))

    # -- the lead's commands --------------------------------------------------------------

    def grant_extension(self, actor: str, urn: str, school_year: str, stage: str, until: dt.date,
                        reason: str, beyond_panel_meeting: bool = False) -> dict:
        meets_on = self._cycle(school_year).panel_meets_on(stage)
        return self._change(urn, school_year, lambda a: a.grant_extension(
            stage, until, reason, actor, meets_on, beyond_panel_meeting))

    def form_panel(self, actor: str, school_year: str, stage: str) -> dict:
        cycle = self._cycle(school_year)
        meets_on = cycle.draft_panel if stage == "draft" else cycle.final_panel
        panel = Panel(school_year=school_year, stage=stage, meets_on=meets_on, actor=actor)
        try:
            self.save(panel)
        except IntegrityError:
            raise Conflict(f"The {stage} panel for {school_year} is already formed.", "stage") from None
        return self.panel_view(panel)

    def add_panel_member(self, actor: str, school_year: str, stage: str, account: str,
                         lived_experience: bool, reason: str | None = None) -> dict:
        """A member added after appraisals opened joins those not yet agreed, to declare and judge.
        Once the panel has convened, the lead says why (see ``Panel``)."""
        panel, rule = self._panel(school_year, stage), self._cycle(school_year).panel
        panel.add_member(account, None, lived_experience, actor, rule.min_members,
                         rule.min_lived_experience, panel_text(panel, reason))
        joined = [a for a in self._open_appraisals(panel) if account not in a.members]
        for appraisal in joined:
            appraisal.join(account, actor)
        self.save_changes(panel, *joined)
        return self.panel_view(panel)

    def _open_appraisals(self, panel: Panel) -> list[Appraisal]:
        found = (self._find(Appraisal.create_id(str(panel.id), application, submission))
                 for application, submission in sorted(panel.appraising))
        return [a for a in found if a is not None and a.outcome is None]

    def remove_panel_member(self, actor: str, school_year: str, stage: str, account: str,
                            reason: str | None = None) -> dict:
        """The member leaves the panel and every appraisal of it not yet agreed: they read those
        schools' files no more, and their unfinished part no longer counts. An appraisal already
        agreed keeps them as one who decided it, and so they still read its files (``_reader``)."""
        panel, rule = self._panel(school_year, stage), self._cycle(school_year).panel
        panel.remove_member(account, rule.min_members, rule.min_lived_experience, actor,
                            panel_text(panel, reason))
        left = [a for a in self._open_appraisals(panel) if account in a.members]
        for appraisal in left:
            appraisal.leave(account, actor)
        self.save_changes(panel, *left)
        return self.panel_view(panel)

    def correct_panel_member(self, actor: str, school_year: str, stage: str, account: str,
                             lived_experience: bool, reason: str | None = None) -> dict:
        rule = self._cycle(school_year).panel
        return self._change_panel(school_year, stage, lambda p: p.correct_member(
            account, lived_experience, rule.min_members, rule.min_lived_experience, actor,
            panel_text(p, reason)))

    def convene(self, actor: str, school_year: str, stage: str) -> dict:
        rule = self._cycle(school_year).panel
        return self._change_panel(school_year, stage, lambda p: p.convene(
            rule.min_members, rule.min_lived_experience, actor))

    def assign(self, actor: str, school_year: str, stage: str, urn: str) -> dict:
        """Give a submitted application to the convened panel; its appraisal opens."""
        panel = self._panel(school_year, stage)
        application = self._get(urn, school_year)
        if not panel.convened:
            raise Conflict("Convene the panel before assigning applications.", "panel")
        submitted = [s for s in application.submissions if s["stage"] == stage]
        if not submitted:
            raise Conflict(f"The school has not submitted its {stage} application.", "stage")
        panel.assign(str(application.id), urn, submitted[-1]["version"], actor)
        appraisal = Appraisal(panel=str(panel.id), application=str(application.id), urn=urn,
                              stage=stage, criteria=application.criteria, members=list(panel.members),
                              submission=submitted[-1]["version"], actor=actor)
        self.save_changes(panel, appraisal)
        return self.appraisal_view(appraisal)

    def agree_outcome(self, actor: str, urn: str, school_year: str, stage: str,
                      criteria: dict[str, dict], overall: str, members: list[str]) -> dict:
        appraisal = self.appraisal(urn, school_year, stage)
        rule = self._cycle(school_year).panel
        lived = [a for a, m in self._panel(school_year, stage).members.items() if m["lived_experience"]]
        appraisal.consolidate(criteria, overall, members, rule.min_members, rule.min_lived_experience,
                              lived, actor)
        self.save_changes(appraisal)
        return self.appraisal_view(appraisal)

    def release_feedback(self, actor: str, urn: str, school_year: str, stage: str,
                         summary: str) -> dict:
        appraisal = self.appraisal(urn, school_year, stage)
        if appraisal.outcome is None:
            raise Conflict("The panel has not agreed its outcome yet.", "appraisal")
        return self._change(urn, school_year, lambda a: a.release_feedback(
            stage, appraisal.outcome["criteria"], summary, str(appraisal.id), actor))

    def schedule_visit(self, actor: str, urn: str, school_year: str, on: dt.date) -> dict:
        window = self._cycle(school_year).visit_window
        if window is not None and on not in window:
            raise Conflict(f"Visits are in {window.name} ({window.start:%-d %B} to "
                           f"{window.end:%-d %B %Y}).", "on")
        return self._change(urn, school_year, lambda a: a.schedule_visit(
            on, actor, self.authority.not_a_school_day(on)))

    def record_visit(self, actor: str, urn: str, school_year: str, attendees: list[str],
                     notes: str, member: str | None = None) -> dict:
        """By the lead, or by a member of the final panel who is clear to see the school."""
        if member is not None:
            try:
                appraisal = self.appraisal(urn, school_year, "final")
            except NotFound:
                raise Forbidden("Only the lead or a member of the school's final panel records "
                                "the visit.") from None
            appraisal.require_clear(member)
        return self._change(urn, school_year, lambda a: a.record_visit(self.today(), attendees, notes, actor))

    def decide(self, actor: str, urn: str, school_year: str, reasons: str,
               evidence_due: dt.date | None = None) -> dict:
        """Record the decision the final panel agreed, with the members who took it."""
        appraisal = self.appraisal(urn, school_year, "final")
        if appraisal.outcome is None:
            raise Conflict("The final panel has not agreed its outcome yet.", "appraisal")
        outcome = OVERALL_TO_DECISION[appraisal.outcome["overall"]]
        visit_required = self._cycle(school_year).needs_visit("final")
        return self._change(urn, school_year, lambda a: a.decide(
            outcome, reasons, evidence_due, self.today(), str(appraisal.id),
            appraisal.outcome["members"], actor, self.rules.lapse_years, visit_required))

    def mark_renewals_due(self) -> int:
        """Record, once each, the awards now within their renewal notice; returns how many."""
        today, marked = self.today(), 0
        for seen in self.index.all():
            if not isinstance(seen, AwardApplication) or not seen.award:
                continue
            application = self._find(seen.id)
            if application.renewal_due(today):
                try:
                    self.save_changes(application)
                    marked += 1
                except Conflict:  # another instance marked it at the same moment
                    pass
        return marked

    # -- panel members' commands ------------------------------------------------------------

    def declare(self, member: str, urn: str, school_year: str, stage: str, conflicted: bool,
                interests: str = "") -> dict:
        return self._change_appraisal(urn, school_year, stage, lambda a: a.declare(
            member, conflicted, interests, f"account:{member}"), member)

    def judge(self, member: str, urn: str, school_year: str, stage: str, criterion: str,
              outcome: str, comment: str) -> dict:
        return self._change_appraisal(urn, school_year, stage, lambda a: a.judge(
            member, criterion, outcome, comment, f"account:{member}"), member)

    def note(self, member: str, urn: str, school_year: str, stage: str, strengths: str = "",
             improvements: str = "", questions: str = "") -> dict:
        return self._change_appraisal(urn, school_year, stage, lambda a: a.note(
            member, strengths, improvements, questions, f"account:{member}"), member)

    # -- queries --------------------------------------------------------------------------

    def application(self, urn: str, school_year: str, as_of: dt.datetime | None = None) -> dict:
        return self.view(self._get(urn, school_year, as_of))

    def for_panel_member(self, member: str, urn: str, school_year: str, stage: str) -> dict:
        """The application as submitted, for a member who has declared and is not conflicted."""
        appraisal = self.appraisal(urn, school_year, stage)
        appraisal.require_clear(member)
        application = self._get(urn, school_year)
        submitted = next(s for s in application.submissions if s["version"] == appraisal.submission)
        view = self.view(application)
        gone = application.erased_files
        view["evidence"] = [{**e, "files": as_shown(submitted["files"].get(e["id"], []), gone)}  # as frozen
                            for e in view["evidence"] if e["id"] in submitted["evidence"]]
        view["audit"] = reveal(submitted["audit"])  # as submitted, not as edited since
        view["submission"] = submitted
        return view

    # -- the portfolio: reading it, the download record, retention ------------------------

    def evidence_file(self, who: Principal, urn: str, school_year: str, sha256: str,
                      kind: str = "file") -> dict:
        """One file's reference (or a photo's thumbnail, with its bytes), for someone the access
        rule allows; recorded. The file itself is read from the shared files folder by whoever
        sends it (the gateway), a chunk at a time."""
        application = self._get(urn, school_year)
        role, readable = self._reader(who, application)
        ref = application.held_files().get(sha256)
        if ref is None or (readable is not None and sha256 not in readable):
            raise NotFound("The application's portfolio has no such file.", "sha256")
        self._require_kept(application)
        if sha256 in application.erased_files:
            raise NotFound("The file was deleted: a person it shows asked for their personal data to be "
                           "erased.", "sha256")
        if kind == "thumbnail":
            if ref["content_type"] not in PHOTOS:
                raise NotFound("Only photos have thumbnails.", "sha256")
            small = thumbnail(self._file_store().read(sha256))
            self._record_download(application, who, role, kind, [ref])
            return {**ref, "content_type": "image/jpeg", "size": len(small), "content": small}
        self._record_download(application, who, role, kind, [ref])
        return dict(ref)

    def portfolio_manifest(self, who: Principal, urn: str, school_year: str, stage: str) -> dict:
        """What the zip of the portfolio as a submission froze it holds: its contents page, and
        each file by content hash with its place in the zip. Access is decided, and the download
        recorded, here; the zip is made by whoever sends it, from the shared files folder."""
        application = self._get(urn, school_year)
        role, submission = self._submission_for(who, application, stage)
        self._require_kept(application)
        evidence = reveal([{"id": k, **v} for k, v in application.evidence.items()
                           if k in submission["evidence"]])
        # deleted with a person erased: not in the zip, said so on its contents page
        files = {e: as_shown(refs, application.erased_files) for e, refs in submission["files"].items()}
        groups = by_criterion(evidence, files, self._criterion_labels(application))
        entries = zip_entries(groups)
        contents = contents_page(application.school_name, urn, school_year, submission, groups, entries)
        self._record_download(application, who, role, "zip", [ref for _, ref in entries])
        return {"filename": f"portfolio-{urn}-{school_year}-{stage}-{submission['version']}.zip",
                "contents": contents,
                "files": [{"path": path, "sha256": ref["sha256"], "size": ref["size"]}
                          for path, ref in entries]}

    def downloads(self, urn: str, school_year: str) -> list[dict]:
        """Every download of the application's files, oldest first: for the lead. A file deleted
        with a person erased is named as such, not by its name (it may name them)."""
        application = self._get(urn, school_year)
        application_id = str(application.id)
        found = [d for d in self.index.all() if isinstance(d, Download) and d.application == application_id]
        return [{**d.view(), "files": as_shown(d.files, application.erased_files)}
                for d in sorted(found, key=lambda d: d.at)]

    def mark_file_shows(self, actor: str, urn: str, school_year: str, sha256: str, name: str) -> dict:
        """The lead: the file shows ``name``; erasing that person (by name at the school) deletes it."""
        return self._change(urn, school_year, lambda a: a.mark_file_shows(sha256, name, actor))

    def erase_subject(self, subject: str) -> bool:
        """Shred the subject's key; then delete the files marked as showing only people now erased."""
        erased = super().erase_subject(subject)
        self.erase_files_showing(subject)
        return erased

    def erase_files_showing(self, subject: str) -> int:
        """Delete, and record deleting, each file marked as showing ``subject`` once everyone it
        is marked as showing is erased (read again: their names now read as erased). A file is
        its bytes: the markings of every application holding it count (the same photo in another
        year's, or another school's, portfolio shows the same people), the bytes are deleted once,
        and every application that held it records that it is gone. Repeating it changes
        nothing. Returns how many files were deleted."""
        found = [a for a in self.index.all() if isinstance(a, AwardApplication)]
        marked = {sha for a in found for sha, people in a.shown.items()
                  if any(p.subject == subject for p in people)}
        holders = [self._find(a.id) for a in found if marked & a.held_files().keys()]
        due = [sha for sha in sorted(marked) if _everyone_erased(sha, holders)
               and any(sha not in a.erased_files for a in holders if sha in a.held_files())]
        for sha256 in due:  # the bytes first: a record never says gone what is still there
            if self.files is not None:
                self.files.delete(sha256)
        for application in holders:
            application.erase_files(due, "system:erasure")
            self.save_changes(application)
        return len(due)

    def apply_retention(self) -> int:
        """Delete the files of each portfolio kept past the authority's retention rule, once,
        recording it; a file another application still holds is kept. Returns how many
        portfolios were deleted."""
        today, rules = self.today(), self.authority.portfolio
        seen = [a for a in self.index.all()
                if isinstance(a, AwardApplication) and a.portfolio_deleted is None]
        due = {a.id for a in seen
               if (until := a.kept_until(rules.kept_years_after_award, rules.kept_years_without_award))
               and today > until}
        kept = {sha for a in seen if a.id not in due for sha in a.held_files()}
        deleted = 0
        for application_id in sorted(due):
            application = self._find(application_id)
            gone = [sha for sha in sorted(application.held_files())
                    if sha not in kept and self.files is not None and self.files.delete(sha)]
            application.delete_portfolio(today, gone, "system:retention")
            try:
                self.save_changes(application)
                deleted += 1
            except Conflict:  # another instance recorded it at the same moment
                pass
        return deleted

    def _reader(self, who: Principal, application: AwardApplication) -> tuple[str, set[str] | None]:
        """How ``who`` may read the application's files: their role, and the files they may
        read (None: every file the application held)."""
        if who.has("lead"):
            return "lead", None
        if who.has("coordinator", application.urn):
            return "school", None
        appraisals = [a for a in self.index.all() if isinstance(a, Appraisal)
                      and a.application == str(application.id) and who.account in a.members]
        if not who.has("panel_member") or not appraisals:
            raise Forbidden("Only the school's coordinators, the lead and the panel appraising the "
                            "application may see its files.")
        readable: set[str] = set()
        for appraisal in appraisals:
            appraisal.require_clear(who.account)  # conflicted, or not declared: no file at all
            files = application.submitted_files(appraisal.submission)
            readable |= {f["sha256"] for refs in files.values() for f in refs}
        return "panel", readable

    def _submission_for(self, who: Principal, application: AwardApplication, stage: str) -> tuple[str, dict]:
        """The submission ``who`` reads at ``stage``: a panel member the one their appraisal is
        of, once clear; the school and the lead the latest."""
        if who.has("lead") or who.has("coordinator", application.urn):
            submitted = [s for s in application.submissions if s["stage"] == stage]
            if not submitted:
                raise NotFound(f"The school has not submitted its {stage} application.", "stage")
            return ("lead" if who.has("lead") else "school"), submitted[-1]
        if not who.has("panel_member"):
            raise Forbidden("Only the school's coordinators, the lead and the panel appraising the "
                            "application may see its files.")
        appraisal = self.appraisal(application.urn, application.school_year, stage)
        appraisal.require_clear(who.account)
        return "panel", next(s for s in application.submissions if s["version"] == appraisal.submission)

    def _require_kept(self, application: AwardApplication) -> None:
        if application.portfolio_deleted is not None:
            raise NotFound(f"The portfolio's files were deleted on {application.portfolio_deleted['on']} "
                           "under the retention rule.", "sha256")

    def _record_download(self, application: AwardApplication, who: Principal, role: str, kind: str,
                         files: list[dict]) -> None:
        self.save(Download(application=str(application.id), urn=application.urn,
                           school_year=application.school_year, kind=kind,
                           files=[{"sha256": f["sha256"], "filename": f["filename"]} for f in files],
                           by=who.actor, role=role, at=self.clock.now()))

    def _criterion_labels(self, application: AwardApplication) -> dict[str, str]:
        try:
            criteria = self.authority.criteria(application.criteria_version).criteria
            wording = {c.code: c.title for c in criteria}
        except KeyError:
            wording = {}
        return {code: f"{code} {wording[code]}" if code in wording else code for code in application.criteria}

    def appraisals_for(self, member: str) -> list[dict]:
        """A panel member's appraisals, with what is still to do."""
        found = [a for a in self.index.all() if isinstance(a, Appraisal) and member in a.members]
        return [self.appraisal_summary(a, member) for a in found]

    def member_appraisal(self, member: str, urn: str, school_year: str, stage: str) -> dict:
        """A member's own part in the appraisal of the school's latest submission: how far they
        have got, and their declaration, judgements and notes, to read back (and to change
        while the appraisal is open). It names the school: a member declares knowing which."""
        appraisal = self.appraisal(urn, school_year, stage)
        if member not in appraisal.members:
            raise Forbidden("You are not a member of the panel appraising this application.")
        return {**self.appraisal_summary(appraisal, member),
                "declaration": appraisal.declarations.get(member),
                "judgements": appraisal.judgements.get(member, {}),
                "notes": appraisal.notes.get(member)}

    def panel(self, school_year: str, stage: str) -> dict:
        """The stage's panel as the lead manages it; ``formed`` is false until it is formed."""
        cycle = self._cycle(school_year)
        if stage not in cycle.stages:
            raise NotFound(f"The {school_year} cycle has no {stage} stage.", "stage")
        panel = self._find(Panel.create_id(school_year, stage))
        if panel is not None:
            return self.panel_view(panel)
        return {"id": None, "school_year": school_year, "stage": stage, "formed": False,
                "meets_on": cycle.draft_panel if stage == "draft" else cycle.final_panel,
                "members": [], "convened": False, "assigned": [], "changes": [], "appraisals": [],
                "composition": self.composition(school_year, {})}

    def composition(self, school_year: str, members: dict[str, dict]) -> dict:
        """The composition rule's verdict on a panel of ``members``."""
        rule = self._cycle(school_year).panel
        problem = composition_problem(members, rule.min_members, rule.min_lived_experience)
        return {"met": problem is None, "problem": problem, "min_members": rule.min_members,
                "min_lived_experience": rule.min_lived_experience}

    def cycle_overview(self, school_year: str) -> dict:
        cycle = self._cycle(school_year)
        today = self.today()
        rows = [self.overview_row(a, cycle, today) for a in self.index.all()
                if isinstance(a, AwardApplication) and a.school_year == school_year]
        by_stage: dict[str, int] = {}
        for row in rows:
            by_stage[row["stage"]] = by_stage.get(row["stage"], 0) + 1
        return {"school_year": school_year, "today": today, "by_stage": by_stage,
                "applications": sorted(rows, key=lambda r: r["school_name"].lower())}

    def count_by_stage(self) -> dict[tuple[str, str], int]:
        """Applications per (school year, stage), for the operators' gauges."""
        counts: dict[tuple[str, str], int] = {}
        for a in self.index.all():
            if isinstance(a, AwardApplication):
                counts[(a.school_year, a.stage)] = counts.get((a.school_year, a.stage), 0) + 1
        return counts

    def deadlines_ahead(self) -> list[dict]:
        """Each configured deadline not yet passed: when it closes (the end of its day
        in the authority's time), and how many applications still owe that
        submission with no extension."""
        today, zone = self.today(), self.authority.timezone
        ahead = []
        for cycle in self.authority.cycles:
            for stage, day in (("draft", cycle.draft_deadline), ("final", cycle.final_deadline)):
                if day is None or day < today:
                    continue
                rows = self.cycle_overview(cycle.school_year)["applications"]
                owing = sum(1 for r in rows if r["next_submission"] == stage and r["extension"] is None)
                closes = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
                ahead.append({"school_year": cycle.school_year, "deadline": stage,
                              "closes_at": closes, "unsubmitted": owing})
        return ahead

    def history(self, urn: str, school_year: str) -> list[dict]:
        application = self._get(urn, school_year)
        return [history_entry(e) for e in self.events.get(application.id)]

    # -- views ---------------------------------------------------------------------------

    def view(self, a: AwardApplication) -> dict:
        evidence = [{"id": k, **{f: x for f, x in v.items() if f != "all_files"},
                     "files": as_shown(v["files"], a.erased_files)}  # deleted with a person erased: marked
                    for k, v in a.evidence.items()]
        return reveal({
            "id": str(a.id), "urn": a.urn, "school_name": a.school_name,
            "school_year": a.school_year, "criteria_version": a.criteria_version,
            "stage": a.stage, "renewal_of": a.renewal_of, "audit": a.audit, "evidence": evidence,
            "actions": list(a.actions.values()), "submissions": a.submissions,
            "extensions": a.extensions, "feedback": a.feedback, "visit": a.visit,
            "decision": a.decision, "award": a.award, "withdrawal": a.withdrawal,
            "portfolio_deleted": a.portfolio_deleted, "erased_files": list(a.erased_files),
            "missing": a.missing(), "next_submission": a.next_submission(),
            "cpd_attended": self.training(a.urn),
            "deadline": self._deadline(a, a.next_submission()).day if a.next_submission() else None,
            "advice": self.advice(a),
            "version": a.version,
        })

    def advice(self, a: AwardApplication) -> dict | None:
        """The school-year advice, for a first application that started sooner (a
        renewal follows years of work, so it is never warned)."""
        if a.renewal_of is not None:
            return None
        return school_year_advice(a.pledged_on, a.started_on,
                                  self.rules.advised_months_before_application)

    def panel_view(self, p: Panel) -> dict:
        """The panel, its members with the declarations each has made, and each appraisal."""
        appraisals = [self._find(Appraisal.create_id(str(p.id), application, submission))
                      for application, submission in sorted(p.appraising)]
        members = [{"account": account, "name": reveal(m["name"]),
                    "lived_experience": m["lived_experience"],
                    "declarations": [{"urn": a.urn, "submission": a.submission, **a.declarations[account]}
                                     for a in appraisals if account in a.declarations]}
                   for account, m in p.members.items()]
        return {"id": str(p.id), "school_year": p.school_year, "stage": p.stage, "formed": True,
                "meets_on": p.meets_on, "members": members, "convened": p.convened,
                "assigned": sorted(p.assigned.values()),
                "changes": [{**c, "reason": reveal(c["reason"])} for c in p.changes],
                "appraisals": [self.appraisal_progress(a) for a in appraisals],
                "composition": self.composition(p.school_year, p.members)}

    def appraisal_progress(self, a: Appraisal) -> dict:
        """One appraisal as its panel's page lists it; ``current`` when it is of the school's
        latest submission at that stage (a resubmission is appraised afresh)."""
        application = self._get_by_id(a.application)
        latest = [s["version"] for s in application.submissions if s["stage"] == a.stage][-1:]
        return {"urn": a.urn, "school_name": application.school_name, "submission": a.submission,
                "current": latest == [a.submission], "members": a.members,
                "outstanding": a.outstanding(),
                "outcome": a.outcome["overall"] if a.outcome else None}

    def appraisal_view(self, a: Appraisal) -> dict:
        return {"id": str(a.id), "urn": a.urn, "stage": a.stage, "members": a.members,
                "submission": a.submission, "declarations": a.declarations,
                "judgements": a.judgements, "notes": a.notes, "outcome": a.outcome,
                "outstanding": a.outstanding()}

    def appraisal_summary(self, a: Appraisal, member: str) -> dict:
        declared = a.declarations.get(member)
        application = self._get_by_id(a.application)
        return {"urn": a.urn, "school_name": application.school_name, "stage": a.stage,
                "school_year": application.school_year, "declared": declared is not None,
                "conflicted": bool(declared and declared["conflicted"]),
                "judged": len(a.judgements.get(member, {})), "criteria": len(a.criteria),
                "agreed": a.outcome is not None}

    def overview_row(self, a: AwardApplication, cycle: Cycle, today: dt.date) -> dict:
        due = a.next_submission()
        deadline = self._deadline(a, due).day if due else None
        extension = a.extensions.get(due or "")
        late = bool(deadline and today > deadline and not (extension and today <= extension["until"]))
        return {"urn": a.urn, "school_name": a.school_name, "stage": a.stage, "next_submission": due,
                "deadline": deadline, "late": late, "sooner_than_advised": self.advice(a) is not None,
                "extension": extension["until"] if extension else None}

    # -- internals ----------------------------------------------------------------------

    def _cycle(self, school_year: str) -> Cycle:
        try:
            return self.authority.cycle(school_year)
        except KeyError:
            raise NotFound(f"No {school_year} cycle is configured for "
                           f"{self.authority.name}.", "school_year") from None

    def _deadline(self, a: AwardApplication, stage: str | None) -> Deadline:
        cycle = self._cycle(a.school_year)
        if stage == "final" and a.stage == Stage.FURTHER_EVIDENCE:
            return Deadline("final", a.decision["evidence_due"])
        return Deadline(stage or "", _cycle_day(cycle, stage))

    def _latest_award(self, urn: str) -> AwardApplication | None:
        awarded = [a for a in self.index.all() if isinstance(a, AwardApplication)
                   and a.urn == urn and a.award is not None]
        return max(awarded, key=lambda a: a.award["awarded_on"], default=None)

    def _find(self, aggregate_id: uuid.UUID) -> Any:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def _get_by_id(self, aggregate_id: str) -> AwardApplication:
        return self.repository.get(uuid.UUID(aggregate_id))

    def _get(self, urn: str, school_year: str, as_of: dt.datetime | None = None) -> AwardApplication:
        aggregate_id = AwardApplication.create_id(urn, school_year)
        version = None
        if as_of is not None:
            versions = [e.originator_version for e in self.events.get(aggregate_id)
                        if e.timestamp <= as_of]
            if not versions:
                raise NotFound(f"No application by {urn} for {school_year} existed then.", "as_of")
            version = versions[-1]
        try:
            return self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise NotFound(f"No application by {urn} for {school_year}.", "urn") from None

    def _panel(self, school_year: str, stage: str) -> Panel:
        panel = self._find(Panel.create_id(school_year, stage))
        if panel is None:
            raise NotFound(f"No {stage} panel is formed for {school_year}.", "stage")
        return panel

    def appraisal(self, urn: str, school_year: str, stage: str) -> Appraisal:
        """The appraisal of the school's latest submission at that stage."""
        panel = self._panel(school_year, stage)
        application = self._get(urn, school_year)
        submitted = [s["version"] for s in application.submissions if s["stage"] == stage]
        appraisal = submitted and self._find(
            Appraisal.create_id(str(panel.id), str(application.id), submitted[-1]))
        if not appraisal:
            raise NotFound(f"The school's latest {stage} submission is not assigned to the panel.", "urn")
        return appraisal

    def _change(self, urn: str, school_year: str, command: Callable[[AwardApplication], Any]) -> dict:
        application = self._get(urn, school_year)
        command(application)
        self.save_changes(application)
        return self.view(application)

    def _change_panel(self, school_year: str, stage: str, command: Callable[[Panel], Any]) -> dict:
        panel = self._panel(school_year, stage)
        command(panel)
        self.save_changes(panel)
        return self.panel_view(panel)

    def _change_appraisal(self, urn: str, school_year: str, stage: str,
                          command: Callable[[Appraisal], Any], member: str) -> dict:
        appraisal = self.appraisal(urn, school_year, stage)
        if member not in appraisal.members:
            raise Forbidden("You are not a member of the panel appraising this application.")
        command(appraisal)
        self.save_changes(appraisal)
        return self.appraisal_summary(appraisal, member)

    def pledge_standing(self, urn: str) -> dict:
        standing = self._find(PledgeStanding.create_id(urn))
        if standing is None:
            raise NotFound(f"The applications service has heard nothing of URN {urn}.", "urn")
        return {
            "urn": urn,
            "school_name": standing.school_name,
            "pledged_on": standing.pledged_on,
            "may_apply": standing.may_apply(self.today(), self.rules.lapse_years),
            "news": {kind: n["position"] for kind, n in standing.news.items()},
        }


def _everyone_erased(sha256: str, applications: list[AwardApplication]) -> bool:
    """Whether the file is marked as showing someone, in any application holding it, and
    everyone it is marked as showing (in any of them) has been erased."""
    people = [p for a in applications if sha256 in a.held_files() for p in a.shown.get(sha256, [])]
    return bool(people) and all(p.erased for p in people)


def _cycle_day(cycle: Cycle, stage: str | None) -> dt.date | None:
    """The day the cycle sets for a submission (None: the school submits when ready)."""
    return cycle.draft_deadline if stage == "draft" else cycle.final_deadline
