"""Replay and rebuild speed against a raw read of the same notification log.

    .venv/bin/python -m bench.replay [--quick] [--schools 2000]

In process, on a temporary SQLite pledges store filled first with ``schools``
schools taking the whole pledge path (registered, interest, two commitments,
signed: five events each, personal data encrypted as in service). Then, over
that one log, each timed as the median of a few passes, in events per second:

- raw read: ``recorder.select_notifications`` pages of 1,000 from the first
  position to the last; rows only, nothing decoded;
- decode floor (the reference for rebuild and replay): the same pages, each
  page's subject keys read in one query, every event JSON-decoded and its
  personal values decrypted (the store's transcoder), no domain event made and
  no application logic: what any rebuild must do at least;
- rebuild: what ``sanctuary rebuild`` does: an ``AggregateProjection``
  applying the whole log batch by batch (decode, decrypt, ``mutate``);
- aggregate replay: every school read back from its own events with
  ``repository.get`` (what every command and query does first);
- replay to the bus: what ``sanctuary replay`` does: the log mapped to public
  envelopes and published with a confirm each; its reference is raw kombu
  publishing with confirms, since the broker bounds it, not the log.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import Figure, run_alone, vhost
from bench.relay import CONTACT, pledges_app, raw_publish_rate
from sanctuary.audit_commands import BATCH, _log
from services.pledges.application import Pledges
from services.pledges.contract import PLEDGES
from services.pledges.domain import School
from shared.bus import BusPublisher
from shared.personal import subjects_in
from shared.projection import AggregateProjection

SIZES = {False: {"schools": 2000, "passes": 3}, True: {"schools": 200, "passes": 1}}
AIM = 0.5  # rebuild and replay at least half the decode floor


def measure(quick: bool = False, schools: int | None = None) -> list[Figure]:
    schools = schools or SIZES[quick]["schools"]
    passes = SIZES[quick]["passes"]
    with tempfile.TemporaryDirectory() as data:
        app, _ = pledges_app(Path(data))
        try:
            fill(app, schools)
            return compare(app, schools, passes)
        finally:
            app.close()


def fill(app: Pledges, schools: int, first_urn: int = 200000) -> None:
    for n in range(schools):
        urn = str(first_urn + n)
        app.register_school("bench", urn, f"School {n}", "primary", "CV1 2AB", CONTACT)
        app.express_interest("bench", urn)
        app.record_commitment("bench", urn, "slt", "Dee Deputy", "Deputy head")
        app.record_commitment("bench", urn, "governors", "Ed Chair", "Chair of governors")
        app.sign_pledge("bench", urn, "Cara Head", "Head teacher")


def compare(app: Pledges, schools: int, passes: int) -> list[Figure]:
    events = app.recorder_.max_notification_id() or 0
    raw_read(app, events)  # warm the page cache, so no pass pays for the first read
    raw = rate(lambda: raw_read(app, events), events, passes)
    floor = rate(lambda: decode_floor(app, events), events, passes)
    rebuilt = rate(lambda: rebuild(app), events, passes)
    replayed = rate(lambda: replay_aggregates(app, schools), events, passes)
    with vhost("bench-replay") as amqp:
        sample = min(events, 2000)
        published = rate(lambda: replay_to_bus(app, amqp, sample), sample, 1)
        raw_publish = raw_publish_rate(amqp, sample)
    size = {"events": events, "schools": schools, "passes": passes, "raw_log_read": raw,
            "decode_floor": floor}
    return [
        Figure("decode floor (read, JSON-decode, decrypt)", floor, "events/s", raw, "raw log read",
               detail=size),
        Figure("rebuild read model (sanctuary rebuild)", rebuilt, "events/s", floor, "decode floor",
               f"ratio >= {AIM:g}", rebuilt / floor >= AIM, size),
        Figure("replay aggregates (repository.get)", replayed, "events/s", floor, "decode floor",
               f"ratio >= {AIM:g}", replayed / floor >= AIM, size),
        Figure("replay to bus (sanctuary replay)", published, "events/s", raw_publish,
               "raw kombu, confirm each", detail={"events": sample}),
    ]


def rate(run: Callable[[], object], events: int, passes: int) -> float:
    """Events per second, the median over ``passes`` runs."""
    seconds = []
    for _ in range(passes):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return events / statistics.median(seconds)


def raw_read(app: Pledges, last: int) -> int:
    """The reference: every row of the log, page by page, nothing decoded."""
    read, position = 0, 0
    while position < last:
        page = app.recorder_.select_notifications(start=position + 1, limit=BATCH, stop=last)
        if not page:
            break
        read += len(page)
        position = page[-1].id
    return read


def decode_floor(app: Pledges, last: int) -> int:
    """The reference: every row, its subjects' keys read a page at a time, JSON-decoded and
    decrypted by the store's own transcoder; no domain event made, nothing applied."""
    decoded, position = 0, 0
    keys, transcoder = app.subject_keys, app.mapper.transcoder
    while position < last:
        page = app.recorder_.select_notifications(start=position + 1, limit=BATCH, stop=last)
        if not page:
            break
        with keys.cached():
            keys.load(subject for n in page for subject in subjects_in(n.state))
            for notification in page:
                transcoder.decode(notification.state)
        decoded += len(page)
        position = page[-1].id
    return decoded


def rebuild(app: Pledges) -> int:
    """``sanctuary rebuild``'s loop (sanctuary/audit_commands.py), without its progress line."""
    projection = AggregateProjection(app, batch=BATCH)
    while projection.catch_up_batch():
        pass
    return len(projection.aggregates)


def replay_aggregates(app: Pledges, schools: int, first_urn: int = 200000) -> None:
    for n in range(schools):
        app.repository.get(School.create_id(str(first_urn + n)))


def replay_to_bus(app: Pledges, amqp: str, last: int) -> None:
    """``sanctuary replay``'s loop: map each notification to its envelope, publish with a confirm."""
    publisher = BusPublisher(amqp, "pledges")
    try:
        for notification in _log(app, 1, last):
            event = PLEDGES.envelope(app.mapper.to_domain_event(notification), notification.id, "bench")
            if event is not None:
                publisher.publish(event)
    finally:
        publisher.close()


def main() -> None:
    run_alone("replay", __doc__, measure, schools=int)


if __name__ == "__main__":
    main()
