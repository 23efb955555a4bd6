"""Links in emails that work without signing in: claiming an offered CPD place, and
unsubscribing from optional mail. Plain Python.

Each is a token signed with the service's link key (itsdangerous), bound to what it is
for and to whom: a claim link to one offer (the booking and the moment the offer
lapses) and one person (their subject id, never their address); an unsubscribe link to
one person and one kind of optional mail. A claim link expires with the claim window;
it works once because the offer it names can be claimed once. The token travels in the
query string, which the gateway keeps out of its logs.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeSerializer

from shared.errors import Conflict, NotFound

CLAIM, UNSUBSCRIBE = "claim", "unsubscribe"
CLAIM_PATH, UNSUBSCRIBE_PATH = "/offers/claim", "/unsubscribe"


class Links:
    def __init__(self, key: str, public_url: str) -> None:
        self.signer = URLSafeSerializer(key, salt="sanctuary-email-links")
        self.public_url = public_url.rstrip("/")

    def page(self, path: str) -> str:
        """A page of the service, as a link in an email."""
        return f"{self.public_url}{path}"

    def claim(self, code: str, booking: str, person: str, expires_at: str) -> str:
        token = self.signer.dumps({"for": CLAIM, "code": code, "booking": booking, "person": person,
                                   "expires_at": expires_at})
        return f"{self.public_url}{CLAIM_PATH}?{urlencode({'token': token})}"

    def unsubscribe(self, recipient: str, category: str) -> str:
        token = self.signer.dumps({"for": UNSUBSCRIBE, "recipient": recipient, "category": category})
        return f"{self.public_url}{UNSUBSCRIBE_PATH}?{urlencode({'token': token})}"

    def read(self, token: str, purpose: str, now: dt.datetime | None = None) -> dict:
        """What a token is for, if it is ours, for ``purpose`` and (a claim) not yet lapsed."""
        try:
            data = self.signer.loads(token)
        except BadSignature:
            raise NotFound("This link is not valid: check you copied the whole of it from the email.",
                           "token") from None
        if not isinstance(data, dict) or data.get("for") != purpose:
            raise NotFound("This link is not valid here.", "token")
        if purpose == CLAIM and now is not None and now >= dt.datetime.fromisoformat(data["expires_at"]):
            raise Conflict("This offer has lapsed: the place has gone to the next person on the waiting "
                           "list.", "token")
        return data
