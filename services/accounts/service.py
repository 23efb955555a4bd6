"""The accounts nameko service: a thin RPC adapter around the Accounts application."""

from __future__ import annotations

import datetime as dt
import os

from services.accounts import schemas
from services.accounts.application import Accounts
from services.accounts.contract import ACCOUNTS
from services.accounts.mail import link_sender
from shared.access import Principal
from shared.authority import Authority
from shared.config import Settings
from shared.runtime import EventSourcedApp, ServiceBase, rpc
from shared.schema import load
from shared.secrets import load_secret
from shared.store import store_env
from shared.subject_access import PersonalDataService


def build(settings: Settings, authority: Authority) -> Accounts:
    hours = float(os.environ.get("SANCTUARY_SESSION_HOURS", "8"))
    return Accounts(env=store_env("accounts", settings),
                    secret_key=load_secret("session_key", settings.data_dir),
                    send_link=link_sender(settings, authority),
                    session_lifetime=dt.timedelta(hours=hours))


def _view(view: dict) -> dict:
    return schemas.AccountView().dump(view)


class AccountsService(ServiceBase, PersonalDataService):
    name = "accounts"
    application = EventSourcedApp(build, ACCOUNTS)

    @rpc
    def erase_person(self, principal: dict, data: dict) -> dict:
        data = load(schemas.Erasure(), data)
        return self.application.erase_person(Principal.from_dict(principal), data["subjects"],
                                             data["reason"])

    @rpc
    def authenticate(self, credential: str) -> dict:
        return self.application.authenticate(credential)

    @rpc
    def request_sign_in(self, data: dict) -> None:
        self.application.request_sign_in(load(schemas.SignInRequest(), data)["email"])

    @rpc
    def sign_in(self, data: dict) -> dict:
        return schemas.Session().dump(self.application.sign_in(load(schemas.SignInLink(), data)["link"]))

    @rpc
    def invite(self, principal: dict, data: dict) -> dict:
        data = load(schemas.Invite(), data)
        return _view(self.application.invite(Principal.from_dict(principal), **data))

    @rpc
    def grant(self, principal: dict, account_id: str, data: dict) -> dict:
        grant = load(schemas.Grant(), data)
        return _view(self.application.grant(Principal.from_dict(principal), account_id,
                                            grant["role"], grant.get("urn")))

    @rpc
    def revoke(self, principal: dict, account_id: str, data: dict) -> dict:
        grant = load(schemas.Grant(), data)
        return _view(self.application.revoke(Principal.from_dict(principal), account_id,
                                             grant["role"], grant.get("urn")))

    @rpc
    def close_account(self, principal: dict, account_id: str) -> dict:
        return _view(self.application.close_account(Principal.from_dict(principal), account_id))

    @rpc
    def issue_token(self, principal: dict, data: dict) -> dict:
        label = load(schemas.TokenRequest(), data)["label"]
        return schemas.NewToken().dump(self.application.issue_token(Principal.from_dict(principal), label))

    @rpc
    def revoke_token(self, principal: dict, token_id: str) -> None:
        self.application.revoke_token(Principal.from_dict(principal), token_id)

    @rpc
    def sign_out_everywhere(self, principal: dict) -> None:
        self.application.sign_out_everywhere(Principal.from_dict(principal))

    @rpc
    def account(self, principal: dict, account_id: str) -> dict:
        return _view(self.application.account(Principal.from_dict(principal), account_id))

    @rpc
    def accounts(self, principal: dict) -> dict:
        views = self.application.accounts(Principal.from_dict(principal))
        return schemas.AccountList().dump({"accounts": views})
