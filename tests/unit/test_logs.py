"""Log lines (shared/logs.py): one JSON object a line with fixed keys and the request's trail,
no personal data, the journal's priority when the stream is systemd's, plain text for ./run."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from pathlib import Path

import pytest

from shared.errors import NotFound
from shared.logs import (
    FIELDS,
    ExpectedRefusals,
    JsonFormatter,
    TextFormatter,
    configure,
    follow,
    leave,
    log_format,
    note,
    request_id_from,
    to_journal,
)

ALLOWED = {"time", "level", "service", "logger", "message", "exception", *FIELDS}


def record(message: str, level: int = logging.INFO, exc_info: object = None,
           **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("sanctuary.test", level, __file__, 1, message, (), exc_info)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def fault() -> tuple:
    try:
        raise RuntimeError("the disk is full")
    except RuntimeError:
        return sys.exc_info()


def test_a_line_is_one_json_object_with_the_requests_fields() -> None:
    token = follow(request_id="req-1", route="POST /schools/<urn>/pledge")
    note(account="a1b2")
    try:
        line = JsonFormatter("pledges").format(record("refused it", status=409, duration_ms=3.2))
    finally:
        leave(token)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "INFO" and entry["service"] == "pledges" and entry["message"] == "refused it"
    assert entry["request_id"] == "req-1" and entry["route"] == "POST /schools/<urn>/pledge"
    assert entry["status"] == 409 and entry["duration_ms"] == 3.2 and entry["account"] == "a1b2"
    assert entry["time"].endswith("+00:00")


def test_outside_a_request_there_is_no_request_id() -> None:
    entry = json.loads(JsonFormatter("relay").format(record("published")))
    assert "request_id" not in entry and "account" not in entry


def test_a_fault_keeps_its_traceback_inside_the_one_line() -> None:
    line = JsonFormatter("accounts").format(record("failed", logging.ERROR, fault()))
    entry = json.loads(line)
    assert "\n" not in line
    assert "RuntimeError: the disk is full" in entry["exception"] and "Traceback" in entry["exception"]


def test_no_key_beyond_the_fixed_ones_and_no_email_address() -> None:
    """Whatever a call passes (a name, an email, a token) never becomes a key; an address
    written into a message is masked."""
    made = record("no valid address for ann@school.example.org", email="ann@school.example.org",
                  person="Ann Head", token="secret-token", contact="01234 567890")
    entry = json.loads(JsonFormatter("notifications").format(made))
    assert set(entry) <= ALLOWED
    assert "ann@school.example.org" not in json.dumps(entry)
    assert entry["message"] == "no valid address for [email]"
    assert "Ann Head" not in json.dumps(entry) and "secret-token" not in json.dumps(entry)
    broker = JsonFormatter("x").format(record("Connected to amqp://guest:**@127.0.0.1:5672/v"))
    assert json.loads(broker)["message"] == "Connected to amqp://guest:**@127.0.0.1:5672/v"


def test_the_text_format_says_the_same_for_a_person() -> None:
    token = follow(request_id="req-2")
    try:
        line = TextFormatter("gateway").format(record("answered", status=200, email="x@y.example.org"))
    finally:
        leave(token)
    assert "INFO sanctuary.test [req-2] answered status=200" in line
    assert "x@y.example.org" not in line


@pytest.mark.parametrize(("level", "priority"), [
    (logging.DEBUG, "<7>"), (logging.INFO, "<6>"), (logging.WARNING, "<4>"), (logging.ERROR, "<3>"),
    (logging.CRITICAL, "<2>")])
def test_under_systemd_each_line_starts_with_its_priority(level: int, priority: str) -> None:
    line = JsonFormatter("events", journal=True).format(record("something", level))
    assert line.startswith(priority) and json.loads(line[len(priority):])["message"] == "something"
    assert TextFormatter("events", journal=True).format(record("x", level)).startswith(priority)
    assert not JsonFormatter("events").format(record("something", level)).startswith("<")


def test_the_journal_is_recognised_by_its_stream_not_by_the_variable_alone(tmp_path: Path) -> None:
    with open(tmp_path / "stream", "w") as stream:
        found = os.fstat(stream.fileno())
        assert to_journal(stream, {"JOURNAL_STREAM": f"{found.st_dev}:{found.st_ino}"})
        assert not to_journal(stream, {"JOURNAL_STREAM": f"{found.st_dev}:{found.st_ino + 1}"})
        assert not to_journal(stream, {})
        assert not to_journal(io.StringIO(), {"JOURNAL_STREAM": "1:2"})


def test_configure_with_journal_stream_writes_prefixed_json(tmp_path: Path) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    with open(tmp_path / "journal", "w") as stream:
        found = os.fstat(stream.fileno())
        try:
            configure("library", {"SANCTUARY_LOG_FORMAT": "json", "SANCTUARY_LOG_LEVEL": "INFO",
                                  "JOURNAL_STREAM": f"{found.st_dev}:{found.st_ino}"}, stream)
            logging.getLogger("sanctuary.x").error("broken")
            logging.getLogger("sanctuary.x").debug("not shown")
        finally:
            root.handlers[:], _ = saved
            root.setLevel(saved[1])
    [line] = (tmp_path / "journal").read_text().splitlines()
    assert line.startswith("<3>{") and json.loads(line[3:])["service"] == "library"


def test_the_format_is_json_or_text_and_nothing_else() -> None:
    assert log_format({}) == "text" and log_format({"SANCTUARY_LOG_FORMAT": "JSON"}) == "json"
    with pytest.raises(ValueError, match="SANCTUARY_LOG_FORMAT"):
        log_format({"SANCTUARY_LOG_FORMAT": "xml"})


def test_a_sane_request_id_is_kept_and_anything_else_replaced() -> None:
    assert request_id_from("3f2a-01.x:y_z") == "3f2a-01.x:y_z"
    for bad in (None, "", "a b", "x" * 200, "id\nforged line", "<script>", "-starts-with-dash"):
        made = request_id_from(bad)
        assert made != bad and len(made) == 32


def test_nameko_warning_for_an_expected_refusal_is_dropped_and_a_fault_kept() -> None:
    def nameko(exc: BaseException) -> logging.LogRecord:
        return logging.LogRecord("nameko.containers", logging.WARNING, __file__, 1,
                                 "(expected) error handling worker %s: %s", ("w", exc),
                                 (type(exc), exc, None))
    refusals = ExpectedRefusals()
    assert not refusals.filter(nameko(NotFound("no such school")))
    assert refusals.filter(nameko(RuntimeError("a real fault")))
    assert refusals.filter(record("refused", exc_info=(NotFound, NotFound("x"), None)))  # ours stay
