"""Every operation of the pledges service, declared once (see shared/operations.py)."""

from __future__ import annotations

from services.pledges import schemas
from services.pledges.application import Pledges
from shared.access import ANY_COORDINATOR, LEAD, PUBLIC, SCHOOL_STAFF, Principal
from shared.operations import Operation
from shared.subject_access import PersonalDataApi

SCHOOL = ("urn",)
JOIN_REQUEST = ("request_id",)

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
    # the rule sees the URN in the body: a coordinator registers only their own school
    register_school = Operation(SCHOOL_STAFF, Pledges.register_school, input=schemas.RegisterSchool,
                                output=schemas.SchoolView)
    express_interest = Operation(SCHOOL_STAFF, Pledges.express_interest, SCHOOL,
                                 input=schemas.ExpressInterest, output=schemas.SchoolView)
    record_commitment = Operation(SCHOOL_STAFF, Pledges.record_commitment, SCHOOL,
                                  input=schemas.RecordCommitment, output=schemas.SchoolView)
    sign_pledge = Operation(SCHOOL_STAFF, Pledges.sign_pledge, SCHOOL, input=schemas.SignPledge,
                            output=schemas.SchoolView)
    # a pledge signed before, from the lead's earlier records (no thanks, no starter pack)
    import_pledge = Operation(LEAD, Pledges.import_pledge, SCHOOL, input=schemas.ImportPledge,
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

    # -- schools asking to join: public, kept private until the lead accepts -------------
    ask_to_join = Operation(PUBLIC, Pledges.ask_to_join, input=schemas.AskToJoin,
                            output=schemas.JoinReceived, caller=None)
    join_requests = Operation(LEAD, lambda app, status=None: {"requests": app.join_requests(status)},
                              input=schemas.JoinQuery, output=schemas.JoinRequestList, caller=None)
    join_request = Operation(LEAD, Pledges.join_request, JOIN_REQUEST, output=schemas.JoinRequestView,
                             caller=None)
    accept_join_request = Operation(LEAD, Pledges.accept_join_request, JOIN_REQUEST,
                                    output=schemas.JoinRequestView)
    decline_join_request = Operation(LEAD, Pledges.decline_join_request, JOIN_REQUEST,
                                     input=schemas.DeclineJoin, output=schemas.JoinRequestView)
    # the notifications service, writing to the person who asked (no address on the bus)
    join_request_notice = Operation(None, Pledges.join_request_notice, JOIN_REQUEST,
                                    output=schemas.JoinNotice, caller=None)
    # the notifications service, writing to a school's coordinator (no contact on the bus)
    coordinator_contact = Operation(None, Pledges.coordinator_contact, SCHOOL,
                                    output=schemas.CoordinatorContact, caller=None)
