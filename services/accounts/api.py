"""Every operation of the accounts service, declared once (see shared/operations.py)."""

from __future__ import annotations

from services.accounts import schemas
from services.accounts.application import Accounts
from shared.access import LEAD, PUBLIC, SIGNED_IN
from shared.operations import Operation
from shared.subject_access import PersonalDataApi

ACCOUNT = ("account_id",)


class AccountsApi(PersonalDataApi):
    service = "accounts"

    # -- the system: the gateway asks who is calling ------------------------------
    authenticate = Operation(None, Accounts.authenticate, ("credential",), caller=None)

    # -- signing in ---------------------------------------------------------------
    request_sign_in = Operation(PUBLIC, Accounts.request_sign_in, input=schemas.SignInRequest,
                                caller=None)
    sign_in = Operation(PUBLIC, Accounts.sign_in, input=schemas.SignInLink, output=schemas.Session,
                        caller=None)
    sign_out_everywhere = Operation(SIGNED_IN, Accounts.sign_out_everywhere, caller="principal")

    # -- my own account -----------------------------------------------------------
    me = Operation(SIGNED_IN, lambda app, who: app.account(who, who.account), caller="principal",
                   output=schemas.AccountView)
    issue_token = Operation(SIGNED_IN, Accounts.issue_token, input=schemas.TokenRequest,
                            output=schemas.NewToken, caller="principal")
    revoke_token = Operation(SIGNED_IN, Accounts.revoke_token, ("token_id",), caller="principal")

    # -- the lead's ---------------------------------------------------------------
    accounts = Operation(LEAD, lambda app, who: {"accounts": app.accounts(who)}, caller="principal",
                         output=schemas.AccountList)
    account = Operation(LEAD, Accounts.account, ACCOUNT, output=schemas.AccountView, caller="principal")
    invite = Operation(LEAD, Accounts.invite, input=schemas.Invite, output=schemas.Invited,
                       caller="principal")
    grant = Operation(LEAD, Accounts.grant, ACCOUNT, input=schemas.Grant, output=schemas.AccountView,
                      caller="principal")
    revoke = Operation(LEAD, Accounts.revoke, ACCOUNT, input=schemas.Grant, output=schemas.AccountView,
                       caller="principal")
    close_account = Operation(LEAD, Accounts.close_account, ACCOUNT, output=schemas.AccountView,
                              caller="principal")
    erase_person = Operation(LEAD, Accounts.erase_person, input=schemas.Erasure,
                             output=schemas.ErasureView, caller="principal")
    record_lived_experience = Operation(LEAD, Accounts.record_lived_experience, ACCOUNT,
                                        input=schemas.LivedExperience, output=schemas.AccountView,
                                        caller="principal")
