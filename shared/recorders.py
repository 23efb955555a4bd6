"""eventsourcing's process recorders, sealing every event in the transaction that inserts it,
and recording every tracking row (a consumer's note of an upstream event it processed, or the
relay's of what it published) in the sealed ledger in the transaction that inserts the row.

On PostgreSQL eventsourcing serialises inserts with ``LOCK TABLE ... IN EXCLUSIVE MODE``,
which needs a privilege to change the table; the services' role may only insert and read, so
an advisory lock (held to the end of the transaction) serialises them instead: every writer
of the log goes through this recorder.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, ProcessRecorder, StoredEvent, Tracking
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteFactory,
    SQLiteProcessRecorder,
)

from shared.chain import Chain

STATEMENTS_CACHED = 128  # per connection: sqlite3's own default, more than the store's statements


class StatementCachingPool(SQLiteConnectionPool):
    """eventsourcing's SQLite pool, its connections keeping their prepared statements.

    eventsourcing opens each connection with ``cached_statements=True``, which sqlite3 reads as
    a cache of one statement: every statement that differs from the one before it (an event
    read then its keys, each statement of a save) was parsed and planned again, which cost as
    much as running it. Otherwise its ``_create_connection``, unchanged."""

    def _create_connection(self) -> SQLiteConnection:
        try:
            c = sqlite3.connect(database=self.db_name, uri=True, check_same_thread=False,
                                isolation_level=None, cached_statements=STATEMENTS_CACHED,
                                timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT)
        except (sqlite3.Error, TypeError) as e:
            raise InterfaceError(e) from e
        if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
            cursor = c.cursor()
            cursor.execute("PRAGMA journal_mode;")
            if cursor.fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL;")
                self.journal_mode_was_changed_to_wal = True
            self.is_journal_mode_wal = True
        c.row_factory = sqlite3.Row
        return SQLiteConnection(sqlite_conn=c, max_age=self.max_age)


def cache_statements(datastore: Any) -> None:
    """Make an SQLite datastore's pool a ``StatementCachingPool`` (before it connects)."""
    if isinstance(getattr(datastore, "pool", None), SQLiteConnectionPool):
        datastore.pool.__class__ = StatementCachingPool


@contextmanager
def sqlite_read(datastore: Any) -> Iterator[sqlite3.Cursor]:
    """A cursor for reading from an SQLite store, without eventsourcing's BEGIN and ROLLBACK
    around it: a lone SELECT is atomic in SQLite's autocommit mode, and those two statements
    cost as much as a small read (a third of reading one aggregate's events)."""
    with datastore.get_connection(commit=False) as connection, connection.cursor() as cursor:
        try:
            yield cursor
        except sqlite3.OperationalError as exc:
            raise OperationalError(exc) from exc


class SealingSQLiteRecorder(SQLiteProcessRecorder):
    chain: Chain

    def _insert_tracking(self, c: Any, tracking: Tracking) -> None:
        super()._insert_tracking(c, tracking)  # written first: the transaction holds the write lock
        self.chain.record_tracking(c, tracking.application_name, tracking.notification_id)

    def select_events(self, originator_id: UUID | str, *, gt: int | None = None, lte: int | None = None,
                      desc: bool = False, limit: int | None = None) -> Sequence[StoredEvent]:
        """eventsourcing's, read in one statement (``sqlite_read``)."""
        with sqlite_read(self.datastore) as cursor:
            return self.events_of(cursor, originator_id, gt=gt, lte=lte, desc=desc, limit=limit)

    def events_of(self, cursor: sqlite3.Cursor, originator_id: UUID | str, *, gt: int | None = None,
                  lte: int | None = None, desc: bool = False, limit: int | None = None) -> list[StoredEvent]:
        """One aggregate's events read with ``cursor``, so that whoever reads more with them (its
        subjects' keys) needs no connection of its own."""
        return self.events_with(cursor, originator_id, "", gt=gt, lte=lte, desc=desc, limit=limit)[0]

    def events_with(self, cursor: sqlite3.Cursor, originator_id: UUID | str, also: str, *,
                    gt: int | None = None, lte: int | None = None, desc: bool = False,
                    limit: int | None = None) -> tuple[list[StoredEvent], Any]:
        """``events_of``, and the value of the SQL expression ``also`` read in the same statement
        (None without events). The aggregate's id is converted once, not once per event (every
        row has the same)."""
        statement = self.select_events_statement
        if also:
            statement = statement.replace("SELECT * ", f"SELECT *, {also} AS also ", 1)
        params: list[Any] = [originator_id.hex if isinstance(originator_id, UUID) else originator_id]
        for clause, value in (("AND originator_version>? ", gt), ("AND originator_version<=? ", lte)):
            if value is not None:
                statement += clause
                params.append(value)
        statement += "ORDER BY originator_version " + ("DESC " if desc else "ASC ")
        if limit is not None:
            statement += "LIMIT ? "
            params.append(limit)
        cursor.execute(statement, params)
        rows = cursor.fetchall()
        if not rows:
            return [], None
        same = self.convert_originator_id(rows[0]["originator_id"])
        return [StoredEvent(originator_id=same, originator_version=row["originator_version"],
                            topic=row["topic"], state=row["state"]) for row in rows], \
            (rows[0]["also"] if also else None)

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        positions = super()._insert_events(c, stored_events, **kwargs) or []
        self.chain.seal(c, positions)
        return positions


def sealing_recorder(factory: Any, chain: Chain) -> ProcessRecorder:
    """The factory's process recorder, of the sealing kind."""
    if isinstance(factory, SQLiteFactory):
        cls: type = SealingSQLiteRecorder
    else:  # imported only here: psycopg is a tenth of a service's start, and SQLite needs none of it
        from shared.postgres_recorder import SealingPostgresRecorder as cls
    factory.env[factory.PROCESS_RECORDER_TOPIC] = f"{cls.__module__}:{cls.__qualname__}"
    recorder = factory.process_recorder()
    recorder.chain = chain
    return recorder
