"""Pages reached from links in emails that work without signing in: claiming an offered
CPD place, and unsubscribing from optional mail (RFC 8058 one-click included).

The link's signed token is the key: the notifications service, which signed it, reads it;
no session is asked for or used (``anonymous``), so a stale cookie cannot get in the way.
Opening a link only shows what it is for; acting on it is a POST (a button on the page, or
a mail program's one-click unsubscribe), so a mail scanner that fetches every link claims
nothing and unsubscribes nobody. Tokens travel in the query string, which the web server's
request log writes without its values; the pages ask browsers not to pass their address on.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.web.pages import page, render
from services.notifications.links import CLAIM_PATH, UNSUBSCRIBE_PATH
from shared.access import PUBLIC
from shared.errors import Conflict

_QUERY_VALUE = re.compile(r"(?<=[?&])([^=&\s\"]+)=[^&\s\"]*")


class QueryValuesHidden(logging.Filter):
    """The request log without query values: a claim or unsubscribe token, a sign-in link's
    code. The names stay, so the log still says what kind of request it was."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = _QUERY_VALUE.sub(r"\1=[hidden]", message), ()
        return True


# eventlet's WSGI server, as nameko runs it, logs every request line here
logging.getLogger("nameko.web.server").addFilter(QueryValuesHidden())


def _token(request: Any) -> str:
    return request.form.get("token") or request.args.get("token", "")


def _private(response: Response) -> Response:
    """The page's address holds the token: browsers must not send it on as a referrer."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


class LinkPages:
    clients: Any

    # -- claiming an offered place --------------------------------------------------------------

    @page("GET", CLAIM_PATH, allow=PUBLIC, anonymous=True)
    def claim_page(self, request: Any) -> Response:
        token = _token(request)
        offer = self.clients.notifications.offer(None, {"token": token})
        return _private(render(request, "links/claim.html", offer=offer, token=token, problem=""))

    @page("POST", CLAIM_PATH, allow=PUBLIC, anonymous=True, by_link=True)
    def claim(self, request: Any) -> Response:
        token = _token(request)
        offer = self.clients.notifications.offer(None, {"token": token})
        if offer["lapsed"]:
            return _private(render(request, "links/claim.html", status=409, offer=offer, token=token,
                                   problem=""))
        try:
            self.clients.events.claim_by_link(offer["code"], offer["booking"], offer["person"],
                                              offer["expires_at"])
        except Conflict as refused:
            return _private(render(request, "links/claim.html", status=409, offer=offer, token=token,
                                   problem=refused.message))
        return _private(render(request, "links/claimed.html", offer=offer))

    # -- unsubscribing -------------------------------------------------------------------------

    @page("GET", UNSUBSCRIBE_PATH, allow=PUBLIC, anonymous=True)
    def unsubscribe_page(self, request: Any) -> Response:
        token = _token(request)
        choice = self.clients.notifications.unsubscription(None, {"token": token})
        return _private(render(request, "links/unsubscribe.html", choice=choice, token=token,
                               already=choice["done"]))

    @page("POST", UNSUBSCRIBE_PATH, allow=PUBLIC, anonymous=True, by_link=True)
    def unsubscribe(self, request: Any) -> Response:
        """The page's button, or a mail program's one-click POST (``List-Unsubscribe=One-Click``)."""
        token = _token(request)
        choice = self.clients.notifications.unsubscribe(None, {"token": token})
        return _private(render(request, "links/unsubscribe.html", choice={**choice, "done": True},
                               token=token, already=choice["done"]))
