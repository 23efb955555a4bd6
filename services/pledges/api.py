"""Every operation of the pledges service, declared once (see shared/operations.py)."""

from __future__ import annotations

from services.pledges import schemas
from services.pledges.application import Pledges
from shared.access import ANY_COORDINATOR, LEAD, PUBLIC, SCHOOL_STAFF, Principal, Rule, require
from shared.operations import Operation
from shared.subject_access import PersonalDataApi

SCHOOL = ("urn",)

# A registration names its school in its body, not in a parameter. The gateway checks the rule
# with the body's URN (the school's staff); the service's check sees no URN, so there any
# coordinator passes and the registration itself checks the URN (see ``register_school_of``).
REGISTRANTS = Rule(SCHOOL_STAFF.describes, lambda p, c: (
    SCHOOL_STAFF if "urn" in c else LEAD | ANY_COORDINATOR).test(p, c))


def register_school_of(app: Pledges, who: Principal, **school: object) -> dict:
    actor = require(SCHOOL_STAFF, who, urn=school["urn"]).actor
    return app.register_school(actor, **school)


def change_coordinator_to(app: Pledges, actor: str, urn: str, **coordinator: object) -> dict:
    return app.change_coordinator(actor, urn, coordinator)


def schools_seen_by(app: Pledges, who: Principal, status: str | None = None) -> dict:
    """Every school for the lead; a coordinator sees only their own."""
    views = app.schools(status)
    if not who.has("lead"):
        views = [v for v in views if v["urn"] in who.scopes("coordinator")]
    return {"schools": views}


class PledgesApi(PersonalDataApi):
    service = "pledges"

    # -- schools and their pledges -----------------------------------------------------
    register_school = Operation(REGISTRANTS, register_school_of, input=schemas.RegisterSchool,
                                output=schemas.SchoolView, caller="principal")
    express_interest = Operation(SCHOOL_STAFF, Pledges.express_interest, SCHOOL,
                                 input=schemas.ExpressInterest, output=schemas.SchoolView)
    record_commitment = Operation(SCHOOL_STAFF, Pledges.record_commitment, SCHOOL,
                                  input=schemas.RecordCommitment, output=schemas.SchoolView)
    sign_pledge = Operation(SCHOOL_STAFF, Pledges.sign_pledge, SCHOOL, input=schemas.SignPledge,
                            output=schemas.SchoolView)
    renew_pledge = Operation(SCHOOL_STAFF, Pledges.renew_pledge, SCHOOL, input=schemas.RenewPledge,
                             output=schemas.SchoolView)
    withdraw_pledge = Operation(SCHOOL_STAFF, Pledges.withdraw_pledge, SCHOOL,
                                input=schemas.WithdrawPledge, output=schemas.SchoolView)
    set_newsletter = Operation(SCHOOL_STAFF, Pledges.set_newsletter, SCHOOL, input=schemas.Newsletter,
                               output=schemas.SchoolView)
    change_coordinator = Operation(SCHOOL_STAFF, change_coordinator_to, SCHOOL,
                                   input=schemas.ChangeCoordinator, output=schemas.SchoolView)
    school = Operation(SCHOOL_STAFF, Pledges.school, SCHOOL, output=schemas.SchoolView, caller=None)
    schools = Operation(LEAD | ANY_COORDINATOR, schools_seen_by, input=schemas.SchoolQuery,
                        output=schemas.SchoolList, caller="principal")
    history = Operation(SCHOOL_STAFF, lambda app, urn: {"urn": urn, "history": app.history(urn)}, SCHOOL,
                        output=schemas.SchoolHistory, caller=None)

    # -- sharing the news of an award: opt-in, the school's own choice ------------------
    share_award = Operation(SCHOOL_STAFF, Pledges.share_award, SCHOOL, input=schemas.ShareAward,
                            output=schemas.SharingView)
    stop_sharing = Operation(SCHOOL_STAFF, Pledges.stop_sharing, SCHOOL, output=schemas.SharingView)
    sharing = Operation(SCHOOL_STAFF, Pledges.sharing, SCHOOL, output=schemas.SharingView, caller=None)
    awarded_schools = Operation(PUBLIC, lambda app: {"schools": app.awarded_schools()},
                                output=schemas.AwardedSchools, caller=None)
    awarded_feed = Operation(PUBLIC, lambda app: app.awarded_feed().decode(), caller=None)
