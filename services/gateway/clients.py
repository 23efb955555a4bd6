"""The gateway's typed clients: each service's declared operations, called over RPC.

``self.clients.applications.submit(principal, urn, year, body)`` names the
operation it calls (``ApplicationsApi.submit`` in services/applications/api.py),
so a reader or a tool can follow it.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.accounts.api import AccountsApi
from services.applications.api import ApplicationsApi
from services.events.api import EventsApi
from services.library.api import LibraryApi
from services.notifications.api import NotificationsApi
from services.pledges.api import PledgesApi
from shared.operations import Call


@dataclass(frozen=True)
class Clients:
    accounts: AccountsApi
    pledges: PledgesApi
    applications: ApplicationsApi
    events: EventsApi
    library: LibraryApi
    notifications: NotificationsApi

    @classmethod
    def over(cls, call: Call) -> Clients:
        return cls(AccountsApi(call), PledgesApi(call), ApplicationsApi(call), EventsApi(call),
                   LibraryApi(call), NotificationsApi(call))

    def each(self) -> tuple:
        return (self.accounts, self.pledges, self.applications, self.events, self.library,
                self.notifications)
