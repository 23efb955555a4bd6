"""Event store set-up: every service's eventsourcing Application is built here.

SQLite (one file per service under the data folder) is the default;
``SANCTUARY_STORE=postgres`` switches to PostgreSQL. The recorder is always a
process recorder, so a consumer can save its events together with the
position it consumed (its idempotency record), and the relay can track what
it published, in the same store; it seals each event in the transaction that
inserts it (shared/recorders.py).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from eventsourcing.application import Application, ProcessingEvent, Repository
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    ProcessRecorder,
    StoredEvent,
    Tracking,
    Transcoding,
)

from shared.chain import Chain, Ledger, Tables
from shared.config import Settings
from shared.errors import Conflict
from shared.logs import trail
from shared.protection import exists, may_create, prepare
from shared.recorders import cache_statements, sealing_recorder
from shared.seal_key import SealKeys
from shared.witness import Witness


def store_env(service: str, settings: Settings) -> dict[str, str]:
    """The eventsourcing environment for one service's store."""
    env = {
        # Multi-row tracking: a consumer may finish position 7 before 6, and
        # each must be recorded on its own, not as a high-water mark.
        "SINGLE_ROW_TRACKING": "n",
        "CREATE_TABLE": "y",
    }
    env["SEAL_KEY_DIR"] = str(settings.data_dir)  # where a development sealing key is kept
    if settings.store == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
        env["SQLITE_DBNAME"] = str(settings.data_dir / f"{service}.sqlite")
        env["SQLITE_LOCK_TIMEOUT"] = "10"
    else:
        env["PERSISTENCE_MODULE"] = "eventsourcing.postgres"
        # eventsourcing's own <SERVICE>_POSTGRES_POOL_SIZE, if set, still wins for one service
        env["POSTGRES_POOL_SIZE"] = str(settings.postgres_pool_size)
        env["POSTGRES_MAX_OVERFLOW"] = str(settings.postgres_max_overflow)
        # a pooled connection is checked as it is taken: after PostgreSQL restarts, each one left
        # in the pool failed its next query once (eventsourcing retries its own queries; ours,
        # and so the request, failed); the check costs a round trip per transaction
        env["POSTGRES_PRE_PING"] = os.environ.get("POSTGRES_PRE_PING", "y")
    return env


def apply_events(aggregate: Any, domain_events: Iterable[Any]) -> Any:
    """eventsourcing's ``project_aggregate`` without its ``assert isinstance`` against a
    runtime-checkable Protocol for every event: a fifth of an aggregate's replay time."""
    for domain_event in domain_events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


class ServiceRepository(Repository):
    def get(self, aggregate_id: Any, *, projector_func: Callable = apply_events, **options: Any) -> Any:
        return super().get(aggregate_id, projector_func=projector_func, **options)


class ServiceApplication(Application):
    """An eventsourcing Application whose every event is sealed as it is written (its chain,
    shared/chain.py), which records the chain heads it hears from other services, and wakes
    its outbox relay on every save."""

    relay: Any = None  # the outbox relay, when the service runs one

    def __init__(self, env: dict | None = None) -> None:
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()
        super().__init__(env)
        from shared.audit import Seal  # audit builds on this module

        self.witness = Witness(self.tables, self.factory.datastore, self.seal_keys)
        self.seal = Seal(self)
        with self.factory.datastore.transaction(commit=True) as cursor:
            if self.factory.env_create_table():
                prepare(self.tables, cursor)
            elif not exists(self.tables, cursor, self.tables.table("witness")):
                raise RuntimeError(f"{self.name}: the store's tables are not there, and this role may not "
                                   "create them: run `sanctuary prepare-stores` as their owner first")

    def construct_factory(self, env: Any) -> Any:
        factory = super().construct_factory(env)
        cache_statements(factory.datastore)
        if not may_create(factory.datastore):  # the services' role: the tables were made for it
            factory.env["CREATE_TABLE"] = "n"
        return factory

    @cached_property
    def seal_keys(self) -> SealKeys:
        return SealKeys.load(seal_key_dir(self.env), self.env)

    @cached_property
    def tables(self) -> Tables:
        return Tables.of(self.factory.datastore, self.name)

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(self.tables, self.seal_keys)

    @property
    def recorder_(self) -> ProcessRecorder:
        return self.recorder  # type: ignore[return-value]

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(TimeAsISO())

    def construct_repository(self) -> Repository:
        made = super().construct_repository()  # eventsourcing's, configured from the env as it does
        repository = ServiceRepository(event_store=self.events, snapshot_store=self.snapshots,
                                       fastforward=made.fastforward,
                                       fastforward_skipping=made.fastforward_skipping,
                                       deepcopy_from_cache=made.deepcopy_from_cache)
        repository.cache = made.cache
        return repository

    def construct_mapper(self) -> Mapper:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=TracedMapper)

    def construct_recorder(self) -> ProcessRecorder:
        self.chain = Chain(self.tables, self.seal_keys, self.ledger)
        return sealing_recorder(self.factory, self.chain)

    def domain_events(self, notifications: Sequence[Any]) -> list[Any]:
        """A page of the notification log, decoded (shared/personal.py reads its keys at once)."""
        return [self.mapper.to_domain_event(n) for n in notifications]

    def on_saved(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every commit (the relay uses it to wake)."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def _notify(self, recordings: list) -> None:
        super()._notify(recordings)
        for listener in list(self._listeners):
            listener()

    def save_changes(self, *aggregates: Any) -> None:
        """Save, turning a lost race (someone saved the same aggregate first) into a 409."""
        try:
            self.save(*aggregates)
        except IntegrityError:
            raise Conflict("Someone else changed this at the same moment; reload and try again.",
                           "version") from None

    def save_tracked(self, tracking: Tracking, *aggregates: Any) -> bool:
        """Save new events atomically with the consumed position.

        Returns False, saving nothing, when that position was already
        recorded: a redelivered message changes nothing.
        """
        processing = ProcessingEvent(tracking=tracking)
        processing.collect_events(*aggregates)
        try:
            recordings = self._record(processing)
        except IntegrityError:
            if self.has_consumed(tracking):
                return False
            raise
        self._notify(recordings)
        return True

    def has_consumed(self, tracking: Tracking) -> bool:
        return tracking_exists(self.recorder_, tracking)


class TracedMapper(Mapper):
    """eventsourcing's mapper, storing with each new event the request that caused it
    (``correlation_id``) and its immediate cause (``causation_id``: the request, or the event
    a consumer reacted to), from the worker's trail (shared/logs.py). The relay publishes them
    in the event's envelope. Read back, they are plain attributes of the event (absent on
    events stored before, or outside any request); no aggregate uses them."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        follows = trail()
        if not follows.get("request_id") or isinstance(domain_event, Snapshot) \
                or "correlation_id" in vars(domain_event):
            return super().to_stored_event(domain_event)
        traced = object.__new__(type(domain_event))
        object.__setattr__(traced, "__dict__", {
            **vars(domain_event), "correlation_id": follows["request_id"],
            "causation_id": follows.get("causation_id") or follows["request_id"]})
        return super().to_stored_event(traced)


class DateAsISO(Transcoding):
    """Calendar dates (deadlines, signing days) are stored as ISO text."""

    type = dt.date
    name = "date_iso"

    def encode(self, obj: dt.date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> dt.date:
        return dt.date.fromisoformat(data)


class TimeAsISO(Transcoding):
    """Times of day (a session's start and end, UK local time) as ISO text."""

    type = dt.time
    name = "time_iso"

    def encode(self, obj: dt.time) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> dt.time:
        return dt.time.fromisoformat(data)


def tracking_exists(recorder: ProcessRecorder, tracking: Tracking) -> bool:
    """Exact membership (multi-row tracking), not eventsourcing's high-water mark."""
    datastore = recorder.datastore  # type: ignore[attr-defined]
    table = getattr(recorder, "tracking_table_name", "tracking")
    placeholder = "?" if type(datastore).__module__.endswith("sqlite") else "%s"
    sql = (
        f"SELECT 1 FROM {_qualified(recorder, table)} "
        f"WHERE application_name = {placeholder} AND notification_id = {placeholder}"
    )
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(sql, (tracking.application_name, tracking.notification_id))
        return cursor.fetchone() is not None


def seal_key_dir(env: Any) -> Path:
    """Where a development sealing key is made and kept: the data folder."""
    if env.get("SEAL_KEY_DIR"):
        return Path(env.get("SEAL_KEY_DIR"))
    if env.get("SQLITE_DBNAME") and ":memory:" not in env.get("SQLITE_DBNAME"):
        return Path(env.get("SQLITE_DBNAME")).parent
    return Settings.from_env(dict(env)).data_dir


def _qualified(recorder: ProcessRecorder, table: str) -> str:
    schema = getattr(recorder.datastore, "schema", "")  # type: ignore[attr-defined]
    return f"{schema}.{table}" if schema and "." not in table else table


def build_application(
    cls: type[ServiceApplication], settings: Settings, **kwargs: Any
) -> ServiceApplication:
    """Build a service's Application on the configured store."""
    return cls(env=store_env(cls.name.lower(), settings), **kwargs)
