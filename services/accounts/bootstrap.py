"""Creating an account without signing in: how the first local lead gets in.

Run by the operator on the machine that holds the accounts store
(``sanctuary add-account``); recorded as done by ``system:cli``.
"""

from __future__ import annotations

import uuid

from services.accounts.application import Accounts, email_key
from services.accounts.domain import Account
from shared.config import Settings
from shared.errors import Conflict
from shared.secrets import load_secret
from shared.store import store_env

CLI_ACTOR = "system:cli"


def open_accounts(settings: Settings) -> Accounts:
    return Accounts(env=store_env("accounts", settings),
                    secret_key=load_secret("session_key", settings.data_dir))


def add_account(settings: Settings, email: str, name: str, grants: list[dict],
                token_label: str | None = None) -> tuple[dict, str | None]:
    """Create the account (or find it, if the address has one) and optionally an API token."""
    accounts = open_accounts(settings)
    try:
        try:
            view = accounts.invite(None, email, name, grants, actor=CLI_ACTOR)
        except Conflict:
            view = accounts.view(accounts.repository.get(Account.create_id(email_key(email))))
        token = None
        if token_label:
            principal = accounts.principal(accounts.repository.get(uuid.UUID(hex=view["id"])))
            token = accounts.issue_token(principal, token_label)["token"]
        return view, token
    finally:
        accounts.close()
