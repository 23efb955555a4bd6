"""The accounts nameko service: its operations come from api.py; this builds the application
and sends the sign-in emails that are due again."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable

import eventlet
from nameko.timer import timer

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

log = logging.getLogger(__name__)


class Background:
    """Jobs run after the request that asked for them has been answered; at most
    ``size`` at once (more wait for a place, so a flood cannot exhaust the store)."""

    def __init__(self, size: int = 10) -> None:
        self.pool = eventlet.GreenPool(size)

    def __call__(self, job: Callable[[], None]) -> None:
        self.pool.spawn_n(self._run, job)

    @staticmethod
    def _run(job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:  # noqa: BLE001 - the request was answered: log it, never its address
            log.error("a sign-in request failed after it was answered", exc_info=True)


def build(settings: Settings, authority: Authority) -> Accounts:
    hours = float(os.environ.get("SANCTUARY_SESSION_HOURS", "8"))
    return Accounts(env=store_env("accounts", settings),
                    secret_key=load_secret("session_key", settings.data_dir),
                    send_link=link_sender(settings, authority),
                    send_invitation=invitation_sender(settings, authority),
                    session_lifetime=dt.timedelta(hours=hours),
                    links_per_hour=settings.sign_in_links_per_address,
                    later=Background())


@serve(AccountsApi)
class AccountsService(ServiceBase, PersonalDataService):
    name = "accounts"
    application = EventSourcedApp(build, ACCOUNTS)

    @timer(interval=5)
    def deliver_sign_in_mail(self) -> None:
        """Sign-in emails whose first attempt failed (an SMTP outage), tried again."""
        self.application.deliver_due()
