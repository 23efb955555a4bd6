"""``sanctuary audit history`` and ``trail``, ``sanctuary replay`` and ``sanctuary rebuild``: run
by an auditor or operator on the machine that holds the stores (``audit verify`` and ``digest``
are in sanctuary/verify.py, ``audit reseal`` in sanctuary/reseal.py)."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import json
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

from shared.authority import load_authority
from shared.bus import BusPublisher
from shared.clock import UK
from shared.config import Settings
from shared.errors import DomainError
from shared.history import history_entry
from shared.projection import AggregateProjection
from shared.schema import jsonable

BATCH = 1000


def open_service(name: str) -> tuple[Any, Any]:
    """The service's application on its store, and its public contract (or None)."""
    from sanctuary.services import SERVICES

    if name not in SERVICES or name == "gateway":
        raise SystemExit(f"sanctuary: no service {name!r} with a store")
    settings = Settings.from_env()
    authority = load_authority(settings.authority_file)
    module_name, class_name = SERVICES[name].split(":")
    module = importlib.import_module(module_name)
    app = module.build(settings, authority)
    return app, getattr(module, class_name).application.contract


def history(name: str, aggregate: str, as_of: str | None, form: str) -> int:
    try:
        aggregate_id = uuid.UUID(aggregate)
        instant = dt.datetime.fromisoformat(as_of) if as_of else None
    except ValueError as error:
        raise SystemExit(f"sanctuary: {error}") from None
    app, _ = open_service(name)
    entries = [history_entry(e) for e in app.events.get(aggregate_id)]
    if instant is not None:
        if instant.tzinfo is None:  # a date or a local time: UK time, as people mean it
            instant = instant.replace(tzinfo=app.authority.timezone if hasattr(app, "authority") else UK)
        entries = [e for e in entries if e["at"] <= instant]
    if not entries:
        print(f"sanctuary: {name} has no events for {aggregate_id}", file=sys.stderr)
        return 1
    rows = jsonable(entries)
    if form == "json":
        print(json.dumps(rows, indent=2))
    elif form == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["version", "at", "actor", "event", "details"])
        for row in rows:
            writer.writerow(
                [row["version"], row["at"], row["actor"], row["event"], json.dumps(row["details"])]
            )
        print(out.getvalue(), end="")
    else:
        for row in rows:
            details = json.dumps(row["details"])
            print(f"{row['at']}  v{row['version']:<4} {row['event']:<22} by {row['actor']}  {details}")
    return 0 if rows else 1


def trail(urn: str, year: str, html_file: str | None) -> int:
    from services.applications.trail import decision_trail, render_html

    app, _ = open_service("applications")
    try:
        found = decision_trail(app, urn, year)
    except DomainError as error:
        raise SystemExit(f"sanctuary: {error}") from None
    if html_file:
        with open(html_file, "w", encoding="utf-8") as page:
            page.write(render_html(found, app.authority.name))
        print(f"written {html_file}")
    else:
        print(json.dumps(jsonable(found), indent=2))
    return 0


def replay(name: str, start: int, stop: int | None) -> int:
    """Publish a range of the log again; consumers are idempotent, so nothing changes twice."""
    app, contract = open_service(name)
    if contract is None:
        raise SystemExit(f"sanctuary: {name} publishes nothing")
    settings = Settings.from_env()
    authority = load_authority(settings.authority_file)
    publisher = BusPublisher(settings.amqp_uri, contract.origin)
    last = stop or app.recorder.max_notification_id() or 0
    published = 0
    with Progress("replayed", last - start + 1) as progress:
        for notification in _log(app, start, last):
            event = contract.envelope(
                app.mapper.to_domain_event(notification), notification.id, authority.slug
            )
            if event is not None:
                publisher.publish(event)
                published += 1
            progress.step()
    publisher.close()
    print(f"{published} integration events published from positions {start} to {last}")
    return 0


def rebuild(name: str) -> int:
    """Rebuild the service's read model from its whole log and say how fast."""
    app, _ = open_service(name)
    total = app.recorder.max_notification_id() or 0
    projection = AggregateProjection(app)
    with Progress("applied", total) as progress:
        while True:
            before = projection.position
            projection.catch_up_batch()
            progress.advance(projection.position - before)
            if projection.position == before:
                break
    print(f"{len(projection.aggregates)} aggregates rebuilt from {total} events")
    return 0


def _log(app: Any, start: int, stop: int) -> Iterator[Any]:
    position = start - 1
    while position < stop:
        batch = app.recorder.select_notifications(start=position + 1, limit=BATCH, stop=stop)
        if not batch:
            return
        yield from batch
        position = batch[-1].id


class Progress:
    """A progress line on stderr while it runs; the rate at the end."""

    def __init__(self, verb: str, total: int) -> None:
        self.verb, self.total, self.done = verb, max(total, 0), 0
        self.label = ""  # what it is doing now, shown after the count
        self.started = self.shown = time.monotonic()

    def __enter__(self) -> Progress:
        return self

    def step(self) -> None:
        self.advance(1)

    def advance(self, count: int) -> None:
        self.done += count
        if time.monotonic() - self.shown > 0.5:
            self.shown = time.monotonic()
            width = 30
            filled = width * self.done // self.total if self.total else width
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                             f"{self.label:<20}")
            sys.stderr.flush()

    def __exit__(self, *_: object) -> None:
        seconds = time.monotonic() - self.started
        rate = self.done / seconds if seconds else float("inf")
        sys.stderr.write(f"\r{self.done} {self.verb} in {seconds:.2f} s ({rate:,.0f} a second)\n")
