"""Server-rendered pages: the same services and access rules as the JSON routes,
answered in HTML for people in a browser.

A page is declared like a JSON route (``@page("GET", "/school/<urn>", allow=...)``).
The session travels in an HttpOnly, SameSite=Lax cookie; every form carries a
token derived from that session, so another site cannot post on someone's
behalf. Someone not signed in gets a random form cookie of their own instead,
and their forms (signing in) a token derived from it, so another site cannot
sign them in as someone else either (login CSRF). Errors become pages: not
signed in goes to the sign-in page, a refusal or a missing thing gets a plain
page saying so, a refused form is shown again with an error summary naming
each field (GOV.UK pattern).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jinja2
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from services.gateway.routes import BROKER_DOWN, NOT_FOUND_PAGES, JsonRoute, RouteSpec, check_path
from services.gateway.web import filters
from shared.access import Principal, Rule, require
from shared.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthorized, Unavailable
from shared.files import megabytes
from shared.metrics import REFUSALS
from shared.request_trail import note_account
from shared.runtime import settings_of

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
STATIC = HERE / "static"
SESSION_COOKIE = "sanctuary_session"
FLASH_COOKIE = "sanctuary_flash"
FORM_COOKIE = "sanctuary_form"  # for someone not signed in: what their form tokens derive from
_NONCE = re.compile(r"^[0-9a-f]{32}$")
MAX_FORM_BYTES = 64 * 1024

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,  # a missing value is a bug the browser tests should see
    trim_blocks=True,
    lstrip_blocks=True,
)
filters.install(TEMPLATES)


# -- who is asking --------------------------------------------------------------


def csrf_token(credential: str) -> str:
    """A form token bound to the session: only a page we served knows it."""
    return hashlib.sha256(b"sanctuary-form\0" + credential.encode()).hexdigest()[:32]


def form_token(request: Any) -> str | None:
    """The token this visitor's forms must carry; None if they have nothing to derive it
    from (not signed in, and no form cookie: a form they never loaded from us)."""
    credential = getattr(request, "credential", "")
    if credential:
        return csrf_token(credential)
    nonce = getattr(request, "form_nonce", "") or request.cookies.get(FORM_COOKIE, "")
    return csrf_token("anonymous\0" + nonce) if _NONCE.match(nonce) else None


def _ensure_form_nonce(request: Any) -> str | None:
    """A new form cookie's value, if this anonymous visitor needs one."""
    if getattr(request, "credential", "") or form_token(request) is not None:
        return None
    request.form_nonce = secrets.token_hex(16)
    return request.form_nonce


def principal_of(request: Any) -> Principal | None:
    data = getattr(request, "principal", None)
    return Principal.from_dict(data) if data else None


def home_for(principal: Principal | None) -> str:
    """Where someone lands after signing in: their own part of the service."""
    if principal is None:
        return "/"
    if principal.has("lead"):
        return "/lead"
    schools = sorted(principal.scopes("coordinator"))
    if schools:
        return f"/school/{schools[0]}"
    if principal.has("panel_member"):
        return "/panel"
    return "/"


def navigation(principal: Principal | None) -> list[dict]:
    """The header's links: each role's own pages."""
    if principal is None:
        return [{"href": "/cpd", "text": "CPD programme"}, {"href": "/sign-in", "text": "Sign in"}]
    links = []
    if principal.has("lead"):
        links += [{"href": "/lead", "text": "Cycle"}, {"href": "/lead/schools", "text": "Schools"},
                  {"href": "/lead/people", "text": "People"}, {"href": "/lead/panels", "text": "Panels"},
                  {"href": "/lead/cpd", "text": "CPD"}, {"href": "/lead/emails", "text": "Emails"},
                  {"href": "/lead/messages", "text": "Messages"},
                  {"href": "/lead/exports", "text": "Exports"}]
    for urn in sorted(principal.scopes("coordinator")):
        links += [{"href": f"/school/{urn}", "text": "Your school"},
                  {"href": f"/school/{urn}/cpd", "text": "CPD"}]
    if principal.has("panel_member"):
        links.append({"href": "/panel", "text": "Your appraisals"})
    return links


# -- answering --------------------------------------------------------------------


def render(request: Any, template: str, status: int = 200, **context: Any) -> Response:
    principal = principal_of(request)
    new_nonce = _ensure_form_nonce(request)
    flash = unquote(request.cookies.get(FLASH_COOKIE, "")) if request is not None else ""
    body = TEMPLATES.get_template(template).render(
        principal=principal, navigation=navigation(principal), flash=flash,
        csrf=form_token(request) or "", current_path=request.path,
        errors=context.pop("errors", {}), values=context.pop("values", {}), **context)
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"  # pages carry personal data
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    if new_nonce:
        response.set_cookie(FORM_COOKIE, new_nonce, httponly=True, samesite="Lax", path="/",
                            secure=getattr(request, "secure_cookies", False))
    return response


def redirect(location: str, message: str = "") -> Response:
    """See other (303), after a form worked; ``message`` is shown once on the next page."""
    response = Response(status=303, headers={"Location": location})
    if message:
        response.set_cookie(FLASH_COOKIE, quote(message), max_age=60, httponly=True, samesite="Lax",
                            path="/")
    return response


def error_page(request: Any, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", status=status, title=title, message=message)


def bare_error_page(status: int, environ: dict) -> Response:
    """For a path no page or route matches: nobody has been recognised yet."""
    request = Request(environ)
    request.principal, request.credential = None, ""
    if status == 405:
        return error_page(request, 405, "There is a problem", "This page cannot be used like that.")
    return error_page(request, 404, "Page not found",
                      "If you typed the web address, check it is correct. "
                      "If you pasted it, check you copied the entire address.")


NOT_FOUND_PAGES.append(bare_error_page)


def field_errors(error: DomainError) -> dict[str, str]:
    """One message per field, as the error summary and the fields show them."""
    if isinstance(error, Invalid) and error.fields:
        return dict(_flatten(error.fields))
    return {error.field or "form": error.message}


def _flatten(fields: Mapping[str, Any], prefix: str = "") -> Any:
    for name, messages in fields.items():
        key = f"{prefix}{name}"
        if isinstance(messages, Mapping):
            yield from _flatten(messages, f"{key}.")
        elif isinstance(messages, list | tuple) and messages and isinstance(messages[0], Mapping):
            for index, item in enumerate(messages):
                yield from _flatten(item, f"{key}.{index}.")
        else:
            yield key, messages[0] if isinstance(messages, list | tuple) else str(messages)


def submit(request: Any, action: Callable[[], Any], done: str, message: str,
           again: Callable[[dict[str, str]], Response]) -> Response:
    """Run a form's command: on success, go to ``done`` saying ``message``; when the
    command is refused for its input (422) or the state (409), show the form again
    (``again(errors)``) with what was wrong, and nothing has changed."""
    try:
        action()
    except (Invalid, Conflict) as error:
        return again(field_errors(error))
    return redirect(done, message)


def form_date(form: Mapping[str, str], name: str, label: str, required: bool = True) -> str | None:
    """An ISO date from a GOV.UK date input (``name-day``, ``name-month``, ``name-year``)."""
    parts = [form.get(f"{name}-{part}", "").strip() for part in ("day", "month", "year")]
    if not any(parts):
        if required:
            raise Invalid(f"Enter {label}", {name: [f"Enter {label}"]})
        return None
    try:
        day, month, year = (int(part) for part in parts)
        return dt.date(year, month, day).isoformat()
    except ValueError:
        raise Invalid(f"{label[0].upper()}{label[1:]} must be a real date",
                      {name: [f"{label[0].upper()}{label[1:]} must be a real date"]}) from None


# -- the entrypoint ---------------------------------------------------------------


class PageRoute(JsonRoute):
    """Like a JSON route, on the same web server, but answers in HTML. Errors are
    turned into pages inside the worker (``page``), where the request is known;
    what escapes it (a worker that could not start) gets a bare page."""

    def response_from_exception(self, exc: Exception) -> Response:
        log.error("page %s %s failed outside its handler", self.spec.method, self.spec.path,
                  exc_info=(type(exc), exc, exc.__traceback__))
        return Response("<!DOCTYPE html><html lang=\"en-GB\"><title>Sorry, there is a problem"
                        "</title><h1>Sorry, there is a problem with the service</h1></html>",
                        status=500, mimetype="text/html")


def page(method: str, path: str, allow: Rule, anonymous: bool = False,
         max_bytes: int = MAX_FORM_BYTES, by_link: bool = False) -> Any:
    """Declare a page (werkzeug path syntax) and who may see it. POSTs are forms:
    their token is checked before the handler runs, and they read ``request.form``.
    ``anonymous`` pages (stylesheets) never ask the accounts service who is asking.
    ``max_bytes``: the largest form body read (a form that uploads files sets its own).
    ``by_link``: the form acts on a signed, single-purpose link from an email, whose own
    token is the proof (a mail program's one-click unsubscribe POSTs with no form token)."""
    spec = RouteSpec(method, path, "page", "pages", allow)

    def decorate(handler: Callable) -> Any:
        @functools.wraps(handler)
        def guarded(self: Any, request: Any, **values: str) -> Response:
            try:
                return _guarded(self, handler, spec, request, values, anonymous, max_bytes, by_link)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a page
                return page_for_error(request, spec, exc)

        return PageRoute.decorator(spec)(guarded)

    return decorate


def _guarded(service: Any, handler: Callable, spec: RouteSpec, request: Any,
             values: dict[str, str], anonymous: bool, max_bytes: int = MAX_FORM_BYTES,
             by_link: bool = False) -> Response:
    request.credential = "" if anonymous else request.cookies.get(SESSION_COOKIE, "")
    request.secure_cookies = settings_of(service.config).public_url.startswith("https:")
    request.principal = service.authenticate(request) if request.credential else None
    note_account(request.principal)
    if request.principal is None and not spec.allow.public:
        raise Unauthorized("Sign in to continue.")
    check_path(values)
    require(spec.allow, request.principal, values)
    if spec.method == "POST":
        if (request.content_length or 0) > max_bytes:  # refused unread, before werkzeug's bare 413
            return error_page(request, 413, "There is a problem",
                              f"What was sent is {megabytes(request.content_length)}: this form takes at "
                              f"most {megabytes(max_bytes)} at once. Nothing was changed.")
        request.max_content_length = max_bytes
        if not _readable_form(request):
            return error_page(request, 400, "There is a problem",
                              "The form was not sent as a browser sends it. Nothing was changed.")
        expected, sent = form_token(request), request.form.get("csrf", "")
        if not by_link and (expected is None or not hmac.compare_digest(sent, expected)):
            return error_page(request, 400, "This form has expired",
                              "Go back, reload the page and try again. Nothing was changed.")
    return handler(service, request, **values)


def _readable_form(request: Any) -> bool:
    """A URL-encoded form is ASCII (a browser percent-encodes the rest); anything else
    would reach werkzeug's parser as an error it reports as "too large"."""
    body = request.get_data(cache=True)  # kept: request.form parses it from here
    if request.mimetype != "application/x-www-form-urlencoded":
        return True
    return body.isascii()


def page_for_error(request: Any, spec: RouteSpec, exc: Exception) -> Response:
    if isinstance(exc, (DomainError, HTTPException)):  # refused, or not served: one line, no traceback
        status = (exc.status if isinstance(exc, DomainError) else exc.code) or 400
        what = "could not serve" if status >= 500 else "refused"
        log.log(logging.WARNING if status >= 500 else logging.INFO, "%s page %s %s: %s %s", what,
                spec.method, spec.path, status, type(exc).__name__)
    if isinstance(exc, Unauthorized):
        target = request.full_path.rstrip("?") if request.method == "GET" else "/"
        response = redirect(f"/sign-in?next={quote(target)}", "Sign in to continue.")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    if isinstance(exc, Forbidden):
        REFUSALS.labels(route=f"{spec.method} {spec.path}", status="403").inc()
        return error_page(request, 403, "You cannot use this page", exc.message)
    if isinstance(exc, NotFound):
        return error_page(request, 404, "Page not found", exc.message)
    if isinstance(exc, (Unavailable, *BROKER_DOWN)):
        return error_page(request, 503, "Sorry, the service is unavailable",
                          "Part of the service did not answer in time. Try again in a minute.")
    if isinstance(exc, DomainError):
        return error_page(request, exc.status, "There is a problem", exc.message)
    if isinstance(exc, HTTPException):
        return error_page(request, exc.code or 400, "There is a problem", exc.description or "")
    log.error("unexpected error on page %s %s", spec.method, spec.path,
              exc_info=(type(exc), exc, exc.__traceback__))
    return error_page(request, 500, "Sorry, there is a problem with the service",
                      "Try again later. The problem has been logged.")
