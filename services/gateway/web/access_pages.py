"""The pages everyone shares: the start page, signing in by emailed link and
signing out, the accessibility statement and the stylesheets."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from services.accounts.domain import LINK_LIFETIME
from services.gateway.account_routes import check_sign_in_rate
from services.gateway.routes import TooManyRequests
from services.gateway.web.pages import (
    SESSION_COOKIE,
    STATIC,
    field_errors,
    home_for,
    page,
    principal_of,
    redirect,
    render,
)
from shared.access import PUBLIC, SIGNED_IN, Principal
from shared.clock import system_clock
from shared.errors import Invalid, NotFound, Unauthorized
from shared.runtime import settings_of

STATIC_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}
# Where someone asking for a sign-in link was going (a page they opened from an email, say):
# the emailed link, opened in the same browser, takes them there. As long as a link lasts.
NEXT_COOKIE, NEXT_PATH, NEXT_SECONDS = "sanctuary_next", "/sign-in", int(LINK_LIFETIME.total_seconds())
MAX_NEXT = 500
# what a browser would read as leaving the site, or silently drop: backslashes (read as
# slashes), whitespace and control characters (stripped, so "/\t/evil" is "//evil")
_UNSAFE_IN_NEXT = re.compile(r"[\\\s\x00-\x1f\x7f]")


def safe_next(target: str) -> str:
    """Only a path on this site: a sign-in link must not send anyone elsewhere. Checked as
    sent and as decoded (up to three times over), so %2F%2F and %5C are caught too."""
    if not target or len(target) > MAX_NEXT:
        return ""
    forms = [target]
    for _ in range(3):
        forms.append(unquote(forms[-1]))
    for form in forms:
        parts = urlsplit(form)
        if (parts.scheme or parts.netloc or not form.startswith("/") or form.startswith("//")
                or _UNSAFE_IN_NEXT.search(form)):
            return ""
    return target


class AccessPages:
    _call: Any
    config: Any

    @page("GET", "/", allow=PUBLIC)
    def start_page(self, request: Any) -> Response:
        principal = principal_of(request)
        if principal is not None and home_for(principal) != "/":
            return redirect(home_for(principal))
        return render(request, "start.html")

    @page("GET", "/accessibility", allow=PUBLIC)
    def accessibility_page(self, request: Any) -> Response:
        return render(request, "accessibility.html")

    @page("GET", "/sign-in", allow=PUBLIC)
    def sign_in_page(self, request: Any) -> Response:
        link, next_path = request.args.get("link", ""), safe_next(request.args.get("next", ""))
        if link:
            next_path = next_path or safe_next(request.cookies.get(NEXT_COOKIE, ""))
            return render(request, "sign_in_continue.html", link=link, next=next_path)
        return render(request, "sign_in.html", next=next_path)

    @page("POST", "/sign-in", allow=PUBLIC)
    def sign_in_request(self, request: Any) -> Response:
        email, next_path = request.form.get("email", "").strip(), safe_next(request.form.get("next", ""))
        try:
            if not email:
                raise Invalid("Enter your email address", {"email": ["Enter your email address"]})
            check_sign_in_rate(self.config, request)
            self.clients.accounts.request_sign_in(None, {"email": email})
        except Invalid as error:
            errors = field_errors(error)
            errors = {"email": "Enter an email address in the correct format, like name@example.org"
                      if "email" in errors and email else errors.get("email", "Enter your email address")}
            return render(request, "sign_in.html", status=422, errors=errors, values={"email": email},
                          next=next_path)
        except TooManyRequests as error:
            response = render(request, "sign_in.html", status=429, errors={"email": error.message},
                              values={"email": email}, next=next_path)
            response.headers["Retry-After"] = str(error.retry_after)
            return response
        response = render(request, "sign_in_sent.html", email=email)
        if next_path:
            secure = settings_of(self.config).public_url.startswith("https:")
            response.set_cookie(NEXT_COOKIE, next_path, max_age=NEXT_SECONDS, httponly=True, samesite="Lax",
                                path=NEXT_PATH, secure=secure)
        return response

    @page("POST", "/sign-in/continue", allow=PUBLIC)
    def sign_in_continue(self, request: Any) -> Response:
        link, next_path = request.form.get("link", ""), safe_next(request.form.get("next", ""))
        try:
            session = self.clients.accounts.sign_in(None, {"link": link})
        except (Unauthorized, Invalid):
            return render(request, "sign_in.html", status=401, values={}, next=next_path, errors={
                "email": "That sign-in link has expired or has been used. Enter your email address "
                         "to get a new one"})
        principal = Principal.from_dict(self.clients.accounts.authenticate(session["session"]))
        response = redirect(next_path or home_for(principal), f"You are signed in as {principal.name}.")
        secure = settings_of(self.config).public_url.startswith("https:")
        response.set_cookie(SESSION_COOKIE, session["session"], httponly=True, samesite="Lax",
                            secure=secure, path="/", max_age=_seconds_left(session["expires_at"]))
        response.delete_cookie(NEXT_COOKIE, path=NEXT_PATH)
        return response

    @page("POST", "/sign-out", allow=PUBLIC)
    def sign_out_page(self, request: Any) -> Response:
        """Ends the session on the server too: a copy of the cookie stops working. (An API
        token used as the cookie is only forgotten here: tokens are revoked, not signed out.)"""
        if request.credential.startswith("sess_"):
            self.clients.accounts.sign_out(request.credential)
        response = redirect("/", "You have signed out.")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @page("GET", "/sign-out-everywhere", allow=SIGNED_IN)
    def sign_out_everywhere_page(self, request: Any) -> Response:
        tokens = [t for t in self.clients.accounts.me(request.principal)["tokens"] if not t["revoked"]]
        return render(request, "sign_out_everywhere.html", tokens=tokens)

    @page("POST", "/sign-out-everywhere", allow=SIGNED_IN)
    def sign_out_everywhere_done(self, request: Any) -> Response:
        report = self.clients.accounts.sign_out_everywhere(request.principal)
        request.principal = None  # this browser's session has ended with the rest
        request.credential = ""
        response = render(request, "signed_out_everywhere.html", tokens=report["tokens_left"])
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @page("GET", "/static/<path:name>", allow=PUBLIC, anonymous=True)
    def static_file(self, request: Any, name: str) -> Response:
        path = safe_join(str(STATIC), name)
        if path is None or not name.endswith(tuple(STATIC_TYPES)):
            raise NotFound(f"There is no file {name!r}.")
        try:
            with open(path, "rb") as source:
                body = source.read()
        except OSError:
            raise NotFound(f"There is no file {name!r}.") from None
        response = Response(body, mimetype=STATIC_TYPES[name[name.rindex("."):]])
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response


def _seconds_left(expires_at: str) -> int:
    ends = dt.datetime.fromisoformat(expires_at)
    return max(0, int((ends - system_clock().now()).total_seconds()))  # sessions end by the clock
