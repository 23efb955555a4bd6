"""Reading a running system's mail as its people would: each person's mailbox in the sink,
the links in an email, followed in a browser's way (the person's credential in the session
cookie, as pages expect), and the bus's news put on it again to see nothing comes twice."""

from __future__ import annotations

import json
import re
import uuid
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

import kombu
import requests
from nameko.standalone.events import get_event_exchange

from sanctuary.mail_sink import read_folder
from services.gateway.web.pages import SESSION_COOKIE
from services.notifications.service import NotificationsService
from shared.consumer import handler_queues
from tests.components import MANAGEMENT_TIMEOUT, RABBIT_API, RABBIT_AUTH
from tests.e2e.conftest import Api, E2ESystem, Person, wait_for

MAIL_TIMEOUT = 60.0
WHY = "You are getting this email because"


def subject(message: EmailMessage) -> str:
    """The subject as one line (a long one is folded on the wire, and read back with the
    fold's leading space)."""
    return " ".join(str(message["Subject"]).split())


def plain(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def mailbox(system: E2ESystem, address: str) -> list[EmailMessage]:
    """Every email that reached ``address`` so far, in order."""
    return [m for m in read_folder(system.mail_dir)
            if address in [a.strip() for a in str(m["To"]).split(",")]]


def arrived(system: E2ESystem, address: str, title: str, count: int = 1) -> list[EmailMessage]:
    """Waits for ``count`` emails with that subject in the mailbox; returns them."""
    def found() -> list[EmailMessage] | None:
        got = [m for m in mailbox(system, address) if subject(m) == title]
        return got if len(got) >= count else None
    try:
        return wait_for(found, MAIL_TIMEOUT, f"{title!r} to {address}")
    except AssertionError as missing:
        others = [subject(m) for m in mailbox(system, address)]
        raise AssertionError(f"{missing}; the mailbox holds {others}") from None


def link(message: EmailMessage, label: str) -> str:
    """The link after ``label:`` in the email's text."""
    found = re.search(rf"{re.escape(label)}: (\S+)", plain(message))
    assert found, f"no {label!r} link in:\n{plain(message)}"
    return found.group(1)


def follow(url: str, who: Person | None) -> requests.Response:
    """GET a link from an email in a browser: signed in (the person's credential as the
    session cookie) or not."""
    cookies = {SESSION_COOKIE: who.token} if who is not None else {}
    return requests.get(url, cookies=cookies, headers={"Accept": "text/html"}, timeout=20,
                        allow_redirects=False)


def settled(lead: Api) -> dict:
    """The delivery log once nothing is waiting to go (nor being sent)."""
    def done() -> dict | None:
        body = lead.ok(lead.get("/notifications"))
        return body if not {"pending", "sending"} & set(body["counts"]) else None
    return wait_for(done, MAIL_TIMEOUT, "the sender to have nothing left to send")


class Tap:
    """A queue of our own on one service's exchange, keeping the news of some types."""

    def __init__(self, system: E2ESystem, origin: str, *types: str) -> None:
        self.system, self.origin = system, origin
        self.connection = kombu.Connection(system.amqp_uri)
        self.exchange = get_event_exchange(origin, {})
        self.queue = kombu.Queue(f"e2e-tap-{uuid.uuid4().hex[:8]}", exchange=self.exchange,
                                 bindings=[kombu.binding(self.exchange, routing_key=t) for t in types],
                                 durable=False, auto_delete=True)
        self.bound = self.queue(self.connection.channel())
        self.bound.declare()

    def take(self, kind: str) -> dict:
        """The body of the first news of ``kind`` (waiting for it)."""
        def got() -> dict | None:
            message = self.bound.get(no_ack=True)
            return json.loads(message.body) if message is not None else None
        while True:
            body = wait_for(got, MAIL_TIMEOUT, f"{self.origin} news of {kind}")
            if body["type"] == kind:
                return body

    def again(self, body: dict) -> None:
        """Publish the same news again, as a redelivery would bring it, and wait until the
        notifications service has taken it off its queue and done with it."""
        with kombu.Connection(self.system.amqp_uri) as connection:
            connection.Producer().publish(
                json.dumps(body), exchange=self.exchange, routing_key=body["type"], declare=[self.exchange],
                content_type="application/json", delivery_mode=2,
                message_id=f"{body['origin']}:{body['position']}")
        [queue] = [q for q in handler_queues(NotificationsService) if q.startswith(
            f"evt-{self.origin}-{body['type']}--")]
        vhost = quote(self.system.amqp_uri.rsplit("/", 1)[-1], safe="")

        def drained() -> bool:
            stats = requests.get(f"{RABBIT_API}/queues/{vhost}/{quote(queue, safe='')}", auth=RABBIT_AUTH,
                                 timeout=MANAGEMENT_TIMEOUT).json()
            return stats.get("messages", 1) == 0 and stats.get("messages_unacknowledged", 1) == 0
        wait_for(drained, MAIL_TIMEOUT, f"{queue} to be drained")

    def close(self) -> None:
        self.connection.release()


def of(messages: list[EmailMessage], title: str) -> list[Any]:
    return [m for m in messages if subject(m) == title]
