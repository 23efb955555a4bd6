"""The notifications nameko service: its operations come from api.py; this builds the
application, hears every kind of news its policies react to, sends email through real
SMTP and reminds on schedule."""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable, Iterable
from typing import Any

import eventlet
import kombu.exceptions
from nameko.dependency_providers import Config
from nameko.exceptions import RemoteError, UnknownService
from nameko.timer import timer

from services.events.api import EventsApi
from services.notifications.api import NotificationsApi
from services.notifications.application import Notifications
from services.notifications.policies import REACTIONS, react
from services.notifications.sending import Unreachable
from services.pledges.api import PledgesApi
from shared.authority import Authority
from shared.config import Settings
from shared.consumer import consume, integration_handler
from shared.erasure import PersonalDataService
from shared.errors import Unavailable
from shared.mail import Mailer, SmtpSettings
from shared.messaging import RpcProxy
from shared.metrics import Metric, gauge
from shared.runtime import EventSourcedApp, ServiceBase, rpc, serve, settings_of
from shared.secrets import load_secret
from shared.store import store_env


def build(settings: Settings, authority: Authority) -> Notifications:
    # a claim older than this is taken to have died with its sender (tests shorten it)
    claim = dt.timedelta(seconds=float(os.environ.get("SANCTUARY_CLAIM_TIMEOUT_SECONDS", "300")))
    # rebuilding this service from the others' history: mail for events that happened
    # before this instant is recorded as held back, not sent again
    after = os.environ.get("SANCTUARY_NOTIFICATIONS_SEND_AFTER")
    app = Notifications(
        env=store_env("notifications", settings),
        authority=authority,
        mail_from=settings.mail_from,
        mail_domain=settings.mail_domain,
        claim_timeout=claim,
        send_after=dt.datetime.fromisoformat(after) if after else None,
        public_url=settings.public_url,
        link_key=load_secret("link_key", settings.data_dir),  # signs claim and unsubscribe links
    )
    app.mailer = Mailer(SmtpSettings.from_env())
    return app


def gauges(app: Notifications) -> Iterable[Metric]:
    counts = {(status,): n for status, n in app.counts().items()}
    yield gauge("sanctuary_notifications", "Notifications by delivery status", counts, ["status"])


def asked(proxy: Any, service: str, timeout: float) -> Callable[..., Any]:
    """Call ``operation`` of another service; an answer that does not come in time, or a
    service that is down, is Unreachable: the caller tries again later."""

    def ask(operation: str, *args: Any) -> Any:
        timer = eventlet.Timeout(timeout)
        try:
            return getattr(proxy, operation)(*args)
        except eventlet.Timeout as fired:
            if fired is not timer:
                raise
            raise Unreachable(f"the {service} service did not answer in {timeout:.0f} s") from None
        except (UnknownService, RemoteError, Unavailable, kombu.exceptions.OperationalError,
                ConnectionError) as error:  # Unavailable: its store is away
            raise Unreachable(f"the {service} service could not answer: {error!r}") from None
        finally:
            timer.cancel()

    return ask


class AccountsOverRpc:
    """Whom to address, asked of the accounts service when a notification is sent."""

    def __init__(self, proxy: Any, timeout: float) -> None:
        self.ask = asked(proxy, "accounts", timeout)

    def contacts(self, accounts: list[str] | None, role: str | None) -> list[dict]:
        return self.ask("contacts", accounts, role)


def _handler() -> Callable:
    def hear(self: NotificationsService, body: dict) -> None:
        # asked, not told: an address to write to comes from the service that holds it, not the bus
        timeout = settings_of(self.config).rpc_timeout
        pledges, events = asked(self.pledges, "pledges", timeout), asked(self.events, "events", timeout)
        consume(self.application, body, functools.partial(
            react, self.application, pledges=PledgesApi(lambda _, op, *args: pledges(op, *args)),
            events=EventsApi(lambda _, op, *args: events(op, *args))))

    return hear


@serve(NotificationsApi)
class NotificationsService(ServiceBase, PersonalDataService):
    name = "notifications"
    application = EventSourcedApp(build, gauges=gauges)
    accounts = RpcProxy("accounts")
    config = Config()
    pledges = RpcProxy("pledges")
    events = RpcProxy("events")

    # one handler (and so one queue) per kind of news, as nameko's event handlers go
    for _origin, _type in REACTIONS:
        locals()[f"on_{_origin}_{_type}"] = integration_handler(_origin, _type)(_handler())

    @timer(interval=2)
    def send_due(self) -> None:
        people = AccountsOverRpc(self.accounts, settings_of(self.config).rpc_timeout)
        self.application.send_due(self.application.mailer, people)

    @timer(interval=60, eager=True)
    def remind(self) -> None:
        self.application.remind()

    @rpc
    def health(self) -> dict:
        return {**ServiceBase.health(self), "notifications": self.application.counts()}
