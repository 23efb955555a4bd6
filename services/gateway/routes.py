"""JSON routes for the gateway: one declaration gives the nameko HTTP entrypoint,
input validation, error mapping and the route's OpenAPI entry."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import eventlet
from marshmallow import Schema
from nameko.exceptions import RemoteError
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from shared.errors import DomainError, Invalid, Unavailable
from shared.schema import load

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    summary: str
    tag: str
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    errors: tuple[int, ...] = field(default_factory=tuple)


ROUTES: list[RouteSpec] = []


def json_response(status: int, payload: Any) -> Response:
    return Response(json.dumps(payload, default=str), status=status, mimetype="application/json")


def error_response(error: DomainError) -> Response:
    return json_response(error.status, error.to_dict())


class JsonWsgiApp(WsgiApp):
    """nameko's WSGI app, but an unknown path or method gets a JSON error too."""

    def __call__(self, environ: dict, start_response: Any) -> Any:
        try:
            self.url_map.bind_to_environ(environ).match()
        except HTTPException as exc:
            return json_response(exc.code, {"error": exc.name, "message": exc.description})(
                environ, start_response)
        return super().__call__(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self) -> JsonWsgiApp:
        return JsonWsgiApp(self)


class JsonRoute(HttpRequestHandler):
    """An HTTP entrypoint that speaks JSON and maps errors to statuses."""

    server = JsonWebServer()

    def __init__(self, spec: RouteSpec, **kwargs: Any) -> None:
        self.spec = spec
        super().__init__(spec.method, spec.path, **kwargs)

    def handle_request(self, request: Any) -> Response:
        request.shallow = False  # nameko's server hands us a request that may not read its body
        try:
            request.data_in = self._input(request)
        except DomainError as error:
            return error_response(error)
        return super().handle_request(request)

    def _input(self, request: Any) -> dict:
        if self.spec.query is not None:
            return load(self.spec.query(), request.args.to_dict())
        if self.spec.body is None:
            return {}
        if (request.content_length or 0) > MAX_BODY_BYTES:
            raise DomainError(f"The request body is larger than {MAX_BODY_BYTES} bytes.", "_body")
        try:
            data = json.loads(request.get_data(cache=True) or b"{}")
        except ValueError:
            raise Invalid("The request body is not valid JSON.", {"_body": ["Not valid JSON."]}) from None
        load(self.spec.body(), data)  # fail fast here; the owning service checks again
        return data

    def response_from_result(self, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        return json_response(self.spec.status, result)

    def response_from_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DomainError):
            return error_response(exc)
        if isinstance(exc, HTTPException):
            return json_response(exc.code, {"error": exc.name, "message": exc.description})
        if isinstance(exc, eventlet.Timeout):
            return error_response(Unavailable("A service did not answer in time; try again."))
        log.error("unexpected error on %s %s", self.spec.method, self.spec.path,
                  exc_info=(type(exc), exc, exc.__traceback__))
        detail = "A service failed" if isinstance(exc, RemoteError) else "The gateway failed"
        return json_response(500, {"error": "InternalError",
                                   "message": f"{detail}; the error has been logged."})


def route(method: str, path: str, summary: str, tag: str, **options: Any) -> Any:
    """Declare a gateway route (werkzeug path syntax, e.g. ``/schools/<urn>``)."""
    spec = RouteSpec(method, path, summary, tag, **options)
    ROUTES.append(spec)
    return JsonRoute.decorator(spec)
