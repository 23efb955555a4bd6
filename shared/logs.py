"""Log lines an operator can search: what happened, how badly, and which request it belongs to.

``SANCTUARY_LOG_FORMAT=json`` (production, systemd) writes one JSON object a line; ``text``
(the default, for ``./run`` and a person at a terminal) writes plain lines. Either way a line
carries the request it belongs to (``request_id``): made at the gateway, passed on with every
RPC and in every integration event (as its correlation id), so one search finds everything one
request caused in every service. The request's trail (id, route, account) lives in a context
variable, one per green thread, set where a worker starts (shared/runtime.py).

A line never holds personal data: its keys are fixed (``FIELDS``), the account is an id, and
email addresses in a message are masked as a last guard. Under systemd each line starts with
its syslog priority (``<3>`` for an error), so ``journalctl -p err`` shows errors only.
Expected refusals (a 404, a 409 ...) are the services' answers, not failures: nameko's own
warning with a traceback for them is dropped (``ExpectedRefusals``); our one INFO line says it.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Mapping
from typing import Any, TextIO

from shared.errors import DomainError

FORMATS = ("text", "json")
# what a line may say besides time, level, service, logger and message: nothing else gets in
FIELDS = ("request_id", "causation_id", "route", "status", "duration_ms", "account")
# an id sent in X-Request-ID is taken as it is if it is a plain token (a UUID, a hex string ...)
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# an address's domain ends in a name, not a number: ``guest:**@127.0.0.1`` is a broker's address
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z][A-Za-z0-9-]*")
# sd-daemon(3): the priority systemd's journal reads from the start of a line
PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}

_trail: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar("trail", default=None)


def sane_id(value: Any) -> str | None:
    """``value`` if it is a plain token fit to name a request, else None."""
    return value if isinstance(value, str) and _SANE_ID.fullmatch(value) else None


def request_id_from(header: str | None) -> str:
    """The id a request is known by: the caller's ``X-Request-ID`` if sane, else a new one."""
    return sane_id(header) or uuid.uuid4().hex


def trail() -> Mapping[str, Any]:
    """The current request's fields (empty outside one)."""
    return _trail.get() or {}


def follow(**fields: Any) -> contextvars.Token:
    """Start a trail in this green thread; ``leave`` with the token it returns."""
    return _trail.set({k: v for k, v in fields.items() if v is not None})


def note(**fields: Any) -> None:
    """Add to the current trail (the account, once the request is authenticated)."""
    _trail.set({**trail(), **{k: v for k, v in fields.items() if v is not None}})


def leave(token: contextvars.Token) -> None:
    _trail.reset(token)


def mask(text: str) -> str:
    """Email addresses masked: a log line is not a place for them."""
    return _EMAIL.sub("[email]", text)


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The trail's fields, with those the call gave (``extra=``) winning."""
    found = {**trail(), **{k: getattr(record, k) for k in FIELDS if hasattr(record, k)}}
    return {k: found[k] for k in FIELDS if found.get(k) is not None}


class _Prefixed(logging.Formatter):
    def __init__(self, service: str, journal: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service = service
        self.journal = journal

    def prefix(self, record: logging.LogRecord) -> str:
        if not self.journal:
            return ""
        return f"<{PRIORITY.get(record.levelno, 3 if record.levelno > logging.WARNING else 6)}>"


class JsonFormatter(_Prefixed):
    """One JSON object a line: time (UTC), level, service, logger, message, the request's
    fields, and the traceback of a fault (inside the object: still one line)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": mask(record.getMessage()),
            **fields_of(record),
        }
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return self.prefix(record) + json.dumps(entry, default=str)


class TextFormatter(_Prefixed):
    """``time level logger [request] message`` for a person reading a terminal or a file."""

    def __init__(self, service: str, journal: bool = False) -> None:
        super().__init__(service, journal, fmt="%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        found = fields_of(record)
        shown = " ".join(f"{k}={found[k]}" for k in FIELDS if k in found and k != "request_id")
        request = f"[{found['request_id']}] " if "request_id" in found else ""
        record.message = f"{request}{mask(record.message)}{' ' + shown if shown else ''}"
        return self.prefix(record) + super().formatMessage(record)

    def formatException(self, exc_info: Any) -> str:  # noqa: N802 - logging's name
        return mask(super().formatException(exc_info))


class ExpectedRefusals(logging.Filter):
    """Drops nameko's WARNING-with-traceback for a worker that raised one of our domain errors
    (an RPC refused with a 404 or 409 is an answer, which our own INFO line reports). Faults,
    and anything not raised as a DomainError, pass untouched."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "nameko.containers" or not record.exc_info:
            return True
        return not isinstance(record.exc_info[1], DomainError)


def log_format(env: Mapping[str, str]) -> str:
    chosen = env.get("SANCTUARY_LOG_FORMAT", "text").strip().lower() or "text"
    if chosen not in FORMATS:
        raise ValueError(f"SANCTUARY_LOG_FORMAT must be 'json' or 'text', not {chosen!r}")
    return chosen


def to_journal(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Whether ``stream`` is systemd's journal: JOURNAL_STREAM names its device and inode."""
    device, _, inode = env.get("JOURNAL_STREAM", "").partition(":")
    try:
        found = os.fstat(stream.fileno())
        return (found.st_dev, found.st_ino) == (int(device), int(inode))
    except (ValueError, OSError, AttributeError):
        return False


def formatter(service: str, env: Mapping[str, str], stream: TextIO) -> logging.Formatter:
    kind = JsonFormatter if log_format(env) == "json" else TextFormatter
    return kind(service, journal=to_journal(stream, env))


def configure(service: str, env: Mapping[str, str] | None = None, stream: TextIO | None = None) -> None:
    """Every process's logging: one handler on stderr, in the chosen format and level."""
    env = os.environ if env is None else env
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(service, env, stream))
    handler.addFilter(ExpectedRefusals())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(env.get("SANCTUARY_LOG_LEVEL", "INFO").strip().upper() or "INFO")
