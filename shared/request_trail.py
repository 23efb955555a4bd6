"""Every nameko worker of ours follows the request it works for (shared/logs.py).

The request id rides in nameko's context data (``request_id``): the gateway's web server puts
it there for each HTTP request (services/gateway/routes.py), and nameko copies a worker's
context data into the headers of every RPC it makes, so the typed clients and ``serve``
carry it without a word. A consumer takes it from the integration event it handles (its
``correlation_id``; the event's own id is then the cause of what it does). A timer's run
starts a trail of its own.

Each worker says in one line what became of it: an RPC answered or refused (INFO, no
traceback), an event handled. A fault is logged by nameko itself, at ERROR with its
traceback, while the trail is still set.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.web.handlers import HttpRequestHandler

from shared.consumer import IntegrationEventHandler
from shared.errors import DomainError
from shared.logs import follow, leave, note, request_id_from, sane_id

log = logging.getLogger(__name__)

REQUEST_ID = "request_id"  # the key in nameko's context data (an AMQP header ``nameko.request_id``)
QUIET = {"health"}  # RPCs asked every few seconds by monitoring: their lines are DEBUG


class RequestTrail(DependencyProvider):
    """Sets the worker's trail before it runs, reports it after, clears it at teardown."""

    def __init__(self) -> None:
        self._started: dict[int, tuple[float, Any]] = {}

    def worker_setup(self, worker_ctx: Any) -> None:
        entrypoint = worker_ctx.entrypoint
        if isinstance(entrypoint, IntegrationEventHandler):
            body = worker_ctx.args[0] if worker_ctx.args and isinstance(worker_ctx.args[0], dict) else {}
            cause = sane_id(body.get("id"))
            request_id = sane_id(body.get("correlation_id")) or cause or request_id_from(None)
            route = f"{entrypoint.source_service}.{entrypoint.event_type}"
        else:
            request_id = request_id_from(worker_ctx.data.get(REQUEST_ID))
            cause = request_id
            route = _route(worker_ctx)
        worker_ctx.data[REQUEST_ID] = request_id  # passed on with every RPC this worker makes
        token = follow(request_id=request_id, causation_id=cause, route=route)
        self._started[id(worker_ctx)] = (time.perf_counter(), token)

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started, _ = self._started.get(id(worker_ctx), (time.perf_counter(), None))
        took = {"duration_ms": round((time.perf_counter() - started) * 1000, 1)}
        entrypoint = worker_ctx.entrypoint
        error = exc_info[1] if exc_info else None
        if isinstance(entrypoint, HttpRequestHandler):
            return  # the gateway's route says it, with the response's status
        if isinstance(error, DomainError):  # an answer, not a failure: one line, no traceback
            level = logging.WARNING if error.status >= 500 else logging.INFO
            log.log(level, "refused %s: %s %s", _route(worker_ctx), error.status, type(error).__name__,
                    extra={**took, "status": error.status})
        elif error is not None:
            return  # a fault: nameko has logged it at ERROR with its traceback
        elif isinstance(entrypoint, IntegrationEventHandler):
            log.info("handled %s", _route(worker_ctx), extra=took)
        elif isinstance(entrypoint, Rpc):
            quiet = entrypoint.method_name in QUIET
            log.log(logging.DEBUG if quiet else logging.INFO, "answered %s", _route(worker_ctx), extra=took)

    def worker_teardown(self, worker_ctx: Any) -> None:
        _, token = self._started.pop(id(worker_ctx), (None, None))
        if token is not None:
            leave(token)


def _route(worker_ctx: Any) -> str:
    entrypoint = worker_ctx.entrypoint
    if isinstance(entrypoint, HttpRequestHandler):
        return f"{entrypoint.method} {entrypoint.url}"
    if isinstance(entrypoint, IntegrationEventHandler):
        return f"{entrypoint.source_service}.{entrypoint.event_type}"
    return f"{worker_ctx.service_name}.{entrypoint.method_name}"


def note_account(principal: Any) -> None:
    """The acting account's id on the trail (never its name)."""
    account = principal.get("account") if isinstance(principal, dict) else getattr(principal, "account", None)
    note(account=account)
