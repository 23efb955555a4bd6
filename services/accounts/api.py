"""Every operation of the accounts service, declared once (see shared/operations.py)."""

from __future__ import annotations

from services.accounts import schemas
from services.accounts.application import Accounts
from shared.access import LEAD, PUBLIC, SIGNED_IN
from shared.operations import Operation
from shared.personal import reveal
from shared.subject_access import PersonalDataApi

ACCOUNT = ("account_id",)


def _contacts(app: Accounts, accounts: list[str] | None = None, role: str | None = None) -> list[dict]:
    """The name and address of each open account asked for by id, or holding ``role``: for the
    notifications service to address mail when it sends it (addresses never travel on the bus)."""
    wanted = {str(a).replace("-", "").lower() for a in accounts or ()}
    found = [a for a in app.accounts_unchecked() if not a.closed and (
        a.id.hex in wanted or (role is not None and any(r == role for r, _ in a.grants)))]
    return [{"account": a.id.hex, "name": reveal(a.name), "email": reveal(a.email)}
            for a in sorted(found, key=lambda a: a.id.hex)]


class AccountsApi(PersonalDataApi):
    service = "accounts"

    # -- the system: the gateway asks who is calling ------------------------------
    authenticate = Operation(None, Accounts.authenticate, ("credential",), caller=None)
    identify = Operation(None, Accounts.identify, ("credential",), caller=None)  # and until when
    # the notifications service: whom to address, asked when it sends
    contacts = Operation(None, _contacts, ("accounts", "role"), caller=None)

    # -- signing in ---------------------------------------------------------------
    # answered at once, the same for every address; the link is recorded and sent after
    request_sign_in = Operation(PUBLIC, Accounts.ask_for_link, input=schemas.SignInRequest,
                                caller=None)
    sign_in = Operation(PUBLIC, Accounts.sign_in, input=schemas.SignInLink, output=schemas.Session,
                        caller=None)
    sign_out = Operation(None, Accounts.sign_out, ("credential",), caller=None)
    sign_out_everywhere = Operation(SIGNED_IN, Accounts.sign_out_everywhere, caller="principal",
                                    output=schemas.SignedOutEverywhere)

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
