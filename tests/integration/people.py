"""The accounts service as the notifications sender asks it, in process: a real accounts
application on the test's store, asked through the operation the service declares
(``AccountsApi.contacts``), so names and addresses come from where they live."""

from __future__ import annotations

from services.accounts.api import AccountsApi
from services.accounts.application import Accounts
from shared.access import Principal
from tests.components import Store

LEAD = Principal("a-lead", "Lena Lead", frozenset({("lead", None)}))


class AccountsInProcess:
    def __init__(self, store: Store) -> None:
        self.accounts = Accounts(env=store.env("accounts"), secret_key="k" * 40)
        self.asked = 0

    def add(self, email: str, name: str, role: str) -> str:
        """A new account holding ``role``; its id."""
        view = self.accounts.invite(None, email, name, [{"role": role}], actor="system:test")
        return view["id"]

    def close(self, account: str) -> None:
        self.accounts.close_account(LEAD, account)

    def contacts(self, accounts: list[str] | None, role: str | None) -> list[dict]:
        self.asked += 1
        return AccountsApi.contacts.invoke(self.accounts, accounts, role)

    def stop(self) -> None:
        self.accounts.close()
