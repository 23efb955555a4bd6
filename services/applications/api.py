"""Every operation of the applications service, declared once (see shared/operations.py).

Schools' coordinators act on their own school's application (``urn`` scopes the
rule); the lead runs the cycle, its panels and decisions; panel members act as
themselves, and the appraisal checks further that they are on its panel, have
declared and are not conflicted.
"""

from __future__ import annotations

import base64
import binascii

from services.applications import schemas, trail
from services.applications.application import Applications
from services.applications.certificate import certificate_of, render
from services.applications.portfolio import Upload
from shared.access import LEAD, PANEL_MEMBERS, SCHOOL_STAFF, Principal
from shared.errors import Invalid
from shared.operations import Operation
from shared.subject_access import PersonalDataApi

SCHOOL = ("urn",)
# who may ask for a file: the service's access rule then allows the school's coordinators, the
# lead, and panel members appraising the application who have declared no conflict
FILE_READERS = SCHOOL_STAFF | PANEL_MEMBERS
APPLICATION = ("urn", "year")
PANEL = ("year", "stage")
APPRAISAL = ("urn", "year", "stage")


def certificate_pdf(app: Applications, urn: str, year: str) -> dict:
    """The award certificate as a PDF, base64-encoded (RPC bodies are JSON); 409 until awarded."""
    authority = app.authority
    found = certificate_of(app.application(urn, year), authority.name, authority.lead_team)
    return {"pdf": base64.b64encode(render(found)).decode("ascii")}


def decision_trail_page(app: Applications, urn: str, year: str) -> dict:
    """The decision trail as a plain page to print with the panel's minutes."""
    return {"html": trail.render_html(trail.decision_trail(app, urn, year), app.authority.name)}


def uploads(files: list[dict]) -> list[Upload]:
    """Files as they crossed RPC (base64), back to bytes."""
    try:
        return [Upload(f["filename"], f["content_type"], base64.b64decode(f["content"], validate=True))
                for f in files]
    except (binascii.Error, ValueError):
        raise Invalid("A file did not arrive intact.", {"files": ["Not valid base64."]}) from None


def evidence_with_files(app: Applications, actor: str, urn: str, year: str, files: list[dict],
                        **evidence: str) -> dict:
    return app.add_evidence(actor, urn, year, files=uploads(files), **evidence)


def files_for_item(app: Applications, actor: str, urn: str, year: str, evidence_id: str,
                   files: list[dict]) -> dict:
    return app.add_files(actor, urn, year, evidence_id, uploads(files))


def file_for_reader(app: Applications, who: Principal, urn: str, year: str, sha256: str, kind: str) -> dict:
    """The file's reference; a thumbnail's bytes too (small), in base64."""
    found = app.evidence_file(who, urn, year, sha256, kind)
    if "content" in found:
        found["content"] = base64.b64encode(found["content"]).decode("ascii")
    return found


def visit_by_lead_or_member(app: Applications, who: Principal, urn: str, year: str, **visit: object) -> dict:
    """The lead records any visit; a panel member only one their final panel appraises."""
    member = None if who.has("lead") else who.account
    return app.record_visit(who.actor, urn, year, member=member, **visit)


class ApplicationsApi(PersonalDataApi):
    service = "applications"

    # -- the school ---------------------------------------------------------------
    pledge_standing = Operation(SCHOOL_STAFF, Applications.pledge_standing, SCHOOL,
                                output=schemas.PledgeStandingView, caller=None)
    start = Operation(SCHOOL_STAFF, Applications.start, SCHOOL, input=schemas.Start,
                      output=schemas.ApplicationView)
    record_audit = Operation(SCHOOL_STAFF, Applications.record_audit, APPLICATION,
                             input=schemas.AuditEntry, output=schemas.ApplicationView)
    add_evidence = Operation(SCHOOL_STAFF, evidence_with_files, APPLICATION,
                             input=schemas.Evidence, output=schemas.ApplicationView)
    add_files = Operation(SCHOOL_STAFF, files_for_item, (*APPLICATION, "evidence_id"),
                          input=schemas.FileBatch, output=schemas.ApplicationView)
    remove_file = Operation(SCHOOL_STAFF, Applications.remove_file, (*APPLICATION, "evidence_id", "sha256"),
                            output=schemas.ApplicationView)
    withdraw_evidence = Operation(SCHOOL_STAFF, Applications.withdraw_evidence,
                                  (*APPLICATION, "evidence_id"), output=schemas.ApplicationView)
    plan_action = Operation(SCHOOL_STAFF, Applications.plan_action, APPLICATION, input=schemas.Action,
                            output=schemas.ApplicationView)
    submit = Operation(SCHOOL_STAFF, Applications.submit, APPLICATION, input=schemas.Submission,
                       output=schemas.ApplicationView)
    withdraw = Operation(SCHOOL_STAFF, Applications.withdraw, APPLICATION, input=schemas.Withdrawal,
                         output=schemas.ApplicationView)
    application_view = Operation(SCHOOL_STAFF, Applications.application, APPLICATION,
                                 input=schemas.AsOf, output=schemas.ApplicationView, caller=None)
    history = Operation(SCHOOL_STAFF, lambda app, urn, year: {"items": app.history(urn, year)},
                        APPLICATION, output=schemas.History, caller=None)
    certificate = Operation(SCHOOL_STAFF, certificate_pdf, APPLICATION, output=schemas.Certificate,
                            caller=None)

    # -- the portfolio's files: the school, the lead, and the panel members clear to see them --
    evidence_file = Operation(FILE_READERS, file_for_reader, (*APPLICATION, "sha256"),
                              input=schemas.FileQuery, output=schemas.FileDownload, caller="principal")
    portfolio_manifest = Operation(FILE_READERS, Applications.portfolio_manifest, (*APPLICATION, "stage"),
                                   output=schemas.PortfolioManifest, caller="principal")
    mark_file_shows = Operation(LEAD, Applications.mark_file_shows, (*APPLICATION, "sha256"),
                                input=schemas.FileShows, output=schemas.ApplicationView)
    downloads = Operation(LEAD, lambda app, urn, year: {"items": app.downloads(urn, year)}, APPLICATION,
                          output=schemas.DownloadRecord, caller=None)

    # -- the lead: the cycle and each application ----------------------------------
    cycle_overview = Operation(LEAD, Applications.cycle_overview, ("year",),
                               output=schemas.CycleOverview, caller=None)
    grant_extension = Operation(LEAD, Applications.grant_extension, APPLICATION,
                                input=schemas.Extension, output=schemas.ApplicationView)
    schedule_visit = Operation(LEAD, Applications.schedule_visit, APPLICATION, input=schemas.VisitPlan,
                               output=schemas.ApplicationView)
    record_visit = Operation(LEAD | PANEL_MEMBERS, visit_by_lead_or_member, APPLICATION,
                             input=schemas.VisitRecord, output=schemas.ApplicationView, caller="principal")
    decide = Operation(LEAD, Applications.decide, APPLICATION, input=schemas.DecisionInput,
                       output=schemas.ApplicationView)
    decision_trail = Operation(LEAD, trail.decision_trail, APPLICATION, output=schemas.DecisionTrail,
                               caller=None)
    decision_trail_html = Operation(LEAD, decision_trail_page, APPLICATION, output=schemas.TrailPage,
                                    caller=None)

    # -- the lead: panels and appraisals ------------------------------------------------
    panel = Operation(LEAD, Applications.panel, PANEL, output=schemas.PanelView, caller=None)
    form_panel = Operation(LEAD, Applications.form_panel, PANEL, output=schemas.PanelView)
    add_panel_member = Operation(LEAD, Applications.add_panel_member, PANEL, input=schemas.PanelMember,
                                 output=schemas.PanelView)
    remove_panel_member = Operation(LEAD, Applications.remove_panel_member, (*PANEL, "account"),
                                    input=schemas.PanelMemberRemoval, output=schemas.PanelView)
    correct_panel_member = Operation(LEAD, Applications.correct_panel_member, (*PANEL, "account"),
                                     input=schemas.PanelMemberCorrection, output=schemas.PanelView)
    convene = Operation(LEAD, Applications.convene, PANEL, output=schemas.PanelView)
    assign = Operation(LEAD, Applications.assign, (*PANEL, "urn"), output=schemas.AppraisalView)
    appraisal = Operation(LEAD, lambda app, urn, year, stage: app.appraisal_view(
        app.appraisal(urn, year, stage)), APPRAISAL, output=schemas.AppraisalView, caller=None)
    agree_outcome = Operation(LEAD, Applications.agree_outcome, APPRAISAL, input=schemas.AgreedOutcome,
                              output=schemas.AppraisalView)
    release_feedback = Operation(LEAD, Applications.release_feedback, APPRAISAL,
                                 input=schemas.FeedbackRelease, output=schemas.ApplicationView)

    # -- panel members, as themselves --------------------------------------------------
    my_appraisals = Operation(PANEL_MEMBERS, lambda app, member: {"items": app.appraisals_for(member)},
                              output=schemas.MyAppraisals, caller="account")
    my_appraisal = Operation(PANEL_MEMBERS, Applications.member_appraisal, APPRAISAL,
                             output=schemas.MemberAppraisal, caller="account")
    declare = Operation(PANEL_MEMBERS, Applications.declare, APPRAISAL, input=schemas.Declaration,
                        output=schemas.AppraisalSummary, caller="account")
    judge = Operation(PANEL_MEMBERS, Applications.judge, APPRAISAL, input=schemas.Judgement,
                      output=schemas.AppraisalSummary, caller="account")
    note = Operation(PANEL_MEMBERS, Applications.note, APPRAISAL, input=schemas.Notes,
                     output=schemas.AppraisalSummary, caller="account")
    for_panel_member = Operation(PANEL_MEMBERS, Applications.for_panel_member, APPRAISAL,
                                 output=schemas.ApplicationView, caller="account")
