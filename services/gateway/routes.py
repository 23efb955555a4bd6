"""JSON routes for the gateway: one declaration gives the nameko HTTP entrypoint,
input validation, error mapping and the route's OpenAPI entry."""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import amqp.exceptions
import eventlet
import kombu.exceptions
from marshmallow import Schema
from nameko.exceptions import RemoteError
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from shared.access import Rule, require
from shared.errors import DomainError, Forbidden, Invalid, NotFound, TooLarge, Unauthorized, Unavailable
from shared.logs import follow, leave, request_id_from
from shared.metrics import HTTP_REQUESTS, HTTP_SECONDS, REFUSALS
from shared.operations import Operation
from shared.request_trail import REQUEST_ID, note_account
from shared.schema import load, schema_of

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32  # arrays and objects within each other; no schema of ours goes past a few
MAX_NUMBER_CHARS = 30  # digits (and sign, point, exponent) in one JSON number
# path values with a shape of their own: anything else names no such thing (404)
PATH_PATTERNS = {"urn": r"^\d{6}$", "year": r"^\d{4}-\d{2}$"}


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    summary: str
    tag: str
    allow: Rule
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    errors: tuple[int, ...] = field(default_factory=tuple)


ROUTES: list[RouteSpec] = []


def json_response(status: int, payload: Any) -> Response:
    return Response(json.dumps(payload, default=str), status=status, mimetype="application/json")


def error_response(error: DomainError) -> Response:
    response = json_response(error.status, error.to_dict())
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


class TooManyRequests(DomainError):
    """This client asked too often (the gateway's own: it never crosses RPC)."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# Sent with every answer. Pages ship no script at all, so none may run; nothing is
# framed (clickjacking); a page's address, which may name a school, is not sent on.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
                          "interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; "
               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"


# where the WSGI app keeps a request's id for the route and its worker (shared/logs.py)
REQUEST_ID_KEY = "sanctuary.request_id"


def with_security_headers(start_response: Any, request_id: str = "") -> Any:
    """Every answer's security headers, and the request's id (``X-Request-ID``) to quote."""
    def start(status: str, headers: list, exc_info: Any = None) -> Any:
        names = {name.lower() for name, _ in headers}
        kind = next((value for name, value in headers if name.lower() == "content-type"), "")
        added = [(k, v) for k, v in SECURITY_HEADERS.items() if k.lower() not in names]
        if request_id and "x-request-id" not in names:
            added.append(("X-Request-ID", request_id))
        if "content-security-policy" not in names:
            policy = PAGE_POLICY if kind.startswith("text/html") else OTHER_POLICY
            added.append(("Content-Security-Policy", policy))
        return start_response(status, headers + added, exc_info) if exc_info else \
            start_response(status, headers + added)
    return start


BROKER_DOWN = (kombu.exceptions.OperationalError, amqp.exceptions.ConnectionError, ConnectionError)

# The page a person in a browser gets for a path nothing matches: the web pages build on this
# module, so they hand it in (web/pages.py) rather than this module importing them back.
NOT_FOUND_PAGES: list[Callable[[int, dict], Response]] = []


class JsonWsgiApp(WsgiApp):
    """nameko's WSGI app, but an unknown path or method gets a JSON error too."""

    def __call__(self, environ: dict, start_response: Any) -> Any:
        # the caller's X-Request-ID if it is a sane token (a proxy's, a client's), else a new one
        environ[REQUEST_ID_KEY] = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        start_response = with_security_headers(start_response, environ[REQUEST_ID_KEY])
        try:
            self.url_map.bind_to_environ(environ).match()
        except HTTPException as exc:
            if _wants_html(environ) and NOT_FOUND_PAGES:  # a person in a browser: a page, not JSON
                return NOT_FOUND_PAGES[0](exc.code, environ)(environ, start_response)
            response = json_response(exc.code, {"error": exc.name, "message": exc.description})
            if getattr(exc, "valid_methods", None):
                response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
            return response(environ, start_response)
        return super().__call__(environ, start_response)


def _wants_html(environ: dict) -> bool:
    accept = environ.get("HTTP_ACCEPT", "")
    return "text/html" in accept and "application/json" not in accept


class JsonWebServer(WebServer):
    def get_wsgi_app(self) -> JsonWsgiApp:
        return JsonWsgiApp(self)

    def context_data_from_headers(self, request: Any) -> dict:
        """The worker's context data: only the request's id (nameko passes it on with every RPC)."""
        return {REQUEST_ID: request.environ.get(REQUEST_ID_KEY)}


class JsonRoute(HttpRequestHandler):
    """An HTTP entrypoint that speaks JSON and maps errors to statuses."""

    server = JsonWebServer()

    def __init__(self, spec: RouteSpec, **kwargs: Any) -> None:
        self.spec = spec
        super().__init__(spec.method, spec.path, **kwargs)

    def handle_request(self, request: Any) -> Response:
        request.shallow = False  # nameko's server hands us a request that may not read its body
        started = time.perf_counter()
        method, path = self.spec.method, self.spec.path
        token = follow(request_id=request.environ.get(REQUEST_ID_KEY), route=f"{method} {path}")
        try:
            response = super().handle_request(request)
            took = time.perf_counter() - started
            HTTP_SECONDS.labels(path, method).observe(took)
            HTTP_REQUESTS.labels(path, method, str(response.status_code)).inc()
            principal = getattr(request, "principal", None)
            log.log(logging.WARNING if response.status_code >= 500 else logging.INFO, "%s %s answered %s",
                    method, path, response.status_code,
                    extra={"status": response.status_code, "duration_ms": round(took * 1000, 1),
                           "account": principal.get("account") if isinstance(principal, dict) else None})
            return response
        finally:
            leave(token)

    def response_from_result(self, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        return json_response(self.spec.status, result)

    def response_from_exception(self, exc: Exception) -> Response:
        if isinstance(exc, (DomainError, HTTPException)):
            return refusal(self.spec, exc)
        if isinstance(exc, eventlet.Timeout):
            return error_response(Unavailable("A service did not answer in time; try again."))
        if isinstance(exc, BROKER_DOWN):  # RabbitMQ restarting: a 503 to retry, not a 500 to report
            log.warning("the broker is unreachable on %s %s: %r", self.spec.method, self.spec.path, exc)
            return error_response(Unavailable("The system is briefly unavailable; try again in a minute."))
        log.error("unexpected error on %s %s", self.spec.method, self.spec.path,
                  exc_info=(type(exc), exc, exc.__traceback__))
        detail = "A service failed" if isinstance(exc, RemoteError) else "The gateway failed"
        return json_response(500, {"error": "InternalError",
                                   "message": f"{detail}; the error has been logged."})


def refusal(spec: RouteSpec, exc: DomainError | HTTPException) -> Response:
    """A request refused (4xx) or not served (503): one line in the log, no traceback."""
    if isinstance(exc, HTTPException):
        exc = TooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.", "_body") \
            if exc.code == 413 else DomainError(exc.description or exc.name)
        if not isinstance(exc, TooLarge):
            exc.status = 400
    if isinstance(exc, (Unauthorized, Forbidden)):
        REFUSALS.labels(route=f"{spec.method} {spec.path}", status=str(exc.status)).inc()
    if exc.status >= 500:
        log.warning("could not serve %s %s: %s %s", spec.method, spec.path, exc.status, type(exc).__name__)
    else:
        log.info("refused %s %s: %s %s", spec.method, spec.path, exc.status, type(exc).__name__)
    return error_response(exc)


def check_path(path: dict[str, str]) -> None:
    for name, value in path.items():
        pattern = PATH_PATTERNS.get(name)
        if pattern and not re.match(pattern, value):
            raise NotFound(f"There is no {name} {value!r}: it is not of the right form.", name)


def read_input(spec: RouteSpec, request: Any) -> dict:
    """The validated query or JSON body (raw: the owning service loads it again)."""
    if spec.query is not None:
        return load(schema_of(spec.query), request.args.to_dict())
    if spec.body is None and spec.method == "GET":
        return {}
    request.max_content_length = MAX_BODY_BYTES  # also bounds bodies sent without a length
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise TooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.", "_body")
    data = parse_json(request.get_data(cache=True).strip() or b"{}")
    if spec.body is None:  # nothing to read: an empty object is fine, anything else is a mistake
        if data != {}:
            raise Invalid("This request takes no body (or an empty object).",
                          {"_body": ["Send no body, or {}."]})
        return {}
    load(schema_of(spec.body), data)
    return data


class _Refused(ValueError):
    """What is wrong with a body, in words for the person who sent it."""


def parse_json(raw: bytes) -> Any:
    """JSON as strictly as anything downstream needs it: UTF-8, not nested deeply, no
    duplicate keys, finite numbers of sane size, no lone surrogates. Anything else is
    a 422 naming the problem (never a 500 from deep inside a service)."""
    try:
        text = raw.decode("utf-8")
        _check_depth(text)
        data = json.loads(text, object_pairs_hook=_object, parse_constant=_constant,
                          parse_int=_number(int), parse_float=_number(float))
        _check_text(data)
    except _Refused as problem:
        raise Invalid(f"The request body is refused: {problem}", {"_body": [str(problem)]}) from None
    except UnicodeDecodeError:
        raise Invalid("The request body is not valid UTF-8.", {"_body": ["Not valid UTF-8."]}) from None
    except (ValueError, RecursionError):
        raise Invalid("The request body is not valid JSON.", {"_body": ["Not valid JSON."]}) from None
    return data


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_depth(text: str) -> None:
    depth = 0
    for token in _TOKENS.finditer(text):
        mark = token.group()
        if mark in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(f"arrays and objects are nested more than {MAX_DEPTH} deep.")
        elif mark in "]}":
            depth -= 1


def _object(pairs: list[tuple[str, Any]]) -> dict:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise _Refused(f"the key {twice!r} appears twice in one object.")
    return data


def _constant(name: str) -> None:
    raise _Refused(f"{name} is not a JSON number.")


def _number(kind: type) -> Any:
    def parse(text: str) -> int | float:
        if len(text) > MAX_NUMBER_CHARS:
            raise _Refused(f"a number has more than {MAX_NUMBER_CHARS} characters.")
        value = kind(text)
        if value in (float("inf"), float("-inf")):
            raise _Refused(f"the number {text} is too large.")
        return value
    return parse


def _check_text(data: Any) -> None:
    """No string holds a lone surrogate (half a character; it cannot be stored or sent)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise _Refused("a string holds a lone surrogate (\\ud800-\\udfff), which is not a character.")
        elif isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item


def route(method: str, path: str, summary: str, tag: str, allow: Rule | None = None, *,
          op: Operation | None = None, **options: Any) -> Any:
    """Declare a gateway route (werkzeug path syntax, e.g. ``/schools/<urn>``).

    A route that forwards to one operation names it (``op=``) and takes its access
    rule and schemas from that declaration; any other says who may use it
    (``allow=``). The handler's service must offer ``authenticate(request)``; the rule
    sees the path values and, where the body names a school, its URN.
    """
    if op is not None:
        allow = op.allow
        options.setdefault("query" if method == "GET" else "body", op.input)
        options.setdefault("response", op.output)
    if allow is None:
        raise ValueError(f"{method} {path}: say who may use it (allow=) or name its operation (op=)")
    spec = RouteSpec(method, path, summary, tag, allow, **options)
    ROUTES.append(spec)

    def decorate(handler: Callable) -> Any:
        @functools.wraps(handler)
        def guarded(self: Any, request: Any, **path: str) -> Any:
            try:
                # who first (401), then what (422), then whether they may (403)
                request.principal = None if allow.public else self.authenticate(request)
                note_account(request.principal)
                if request.principal is None and not allow.public:
                    require(allow, None)
                check_path(path)
                request.data_in = read_input(spec, request)
                require(allow, request.principal, {**request.data_in, **path})
                return handler(self, request, **path)
            except (DomainError, HTTPException) as refused:  # answered here: the worker did not fail
                return refusal(spec, refused)

        return JsonRoute.decorator(spec)(guarded)

    return decorate
