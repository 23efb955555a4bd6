"""The accounts nameko service: its operations come from api.py; this builds the application."""

from __future__ import annotations

import datetime as dt
import os

from services.accounts.api import AccountsApi
from services.accounts.application import Accounts
from services.accounts.contract import ACCOUNTS
from services.accounts.mail import invitation_sender, link_sender
from shared.authority import Authority
from shared.config import Settings
from shared.erasure import PersonalDataService
from shared.runtime import EventSourcedApp, ServiceBase, serve
from shared.secrets import load_secret
from shared.store import store_env


def build(settings: Settings, authority: Authority) -> Accounts:
    hours = float(os.environ.get("SANCTUARY_SESSION_HOURS", "8"))
    return Accounts(env=store_env("accounts", settings),
                    secret_key=load_secret("session_key", settings.data_dir),
                    send_link=link_sender(settings, authority),
                    send_invitation=invitation_sender(settings, authority),
                    session_lifetime=dt.timedelta(hours=hours))


@serve(AccountsApi)
class AccountsService(ServiceBase, PersonalDataService):
    name = "accounts"
    application = EventSourcedApp(build, ACCOUNTS)
