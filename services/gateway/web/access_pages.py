"""The pages everyone shares: the start page, signing in by emailed link and
signing out, the accessibility statement and the stylesheets."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from werkzeug.security import safe_join
from werkzeug.wrappers import Response

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
from shared.access import PUBLIC, Principal
from shared.clock import system_clock
from shared.errors import Invalid, NotFound, Unauthorized
from shared.runtime import settings_of

STATIC_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


def safe_next(target: str) -> str:
    """Only a path on this site: a sign-in link must not send anyone elsewhere."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
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
            return render(request, "sign_in_continue.html", link=link, next=next_path)
        return render(request, "sign_in.html", next=next_path)

    @page("POST", "/sign-in", allow=PUBLIC)
    def sign_in_request(self, request: Any) -> Response:
        email, next_path = request.form.get("email", "").strip(), safe_next(request.form.get("next", ""))
        try:
            if not email:
                raise Invalid("Enter your email address", {"email": ["Enter your email address"]})
            self.clients.accounts.request_sign_in(None, {"email": email})
        except Invalid as error:
            errors = field_errors(error)
            errors = {"email": "Enter an email address in the correct format, like name@example.org"
                      if "email" in errors and email else errors.get("email", "Enter your email address")}
            return render(request, "sign_in.html", status=422, errors=errors, values={"email": email},
                          next=next_path)
        return render(request, "sign_in_sent.html", email=email)

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
        return response

    @page("POST", "/sign-out", allow=PUBLIC)
    def sign_out(self, request: Any) -> Response:
        response = redirect("/", "You have signed out.")
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
