"""Personal data in an append-only store: crypto-shredding.

Domain code wraps each personal value (a name, an email, free text about a
person) as ``Personal(subject, value)``. Stored events hold it encrypted with a
key per subject, kept in a table beside the events; erasing the subject deletes
the key, so every event still loads and the history is intact, but the value
reads as erased. Subject ids are global (derived from the email, or from a
name within a scope), so each service erases its own copy of the same person.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import (
    EventStore,
    IntegrityError,
    JSONTranscoder,
    StoredEvent,
    Transcoder,
    Transcoding,
)
from eventsourcing.sqlite import SQLiteDatastore

from shared.chain import Ledger
from shared.errors import Conflict
from shared.recorders import SealingSQLiteRecorder, sqlite_read
from shared.store import ServiceApplication

ERASED = "[erased]"


@dataclass(frozen=True)
class Personal:
    """A personal value and whose it is.

    ``label`` (a hint such as "coordinator of 103712", not personal data) is
    used only when the subject's key is first created. It is not stored in the
    event, so it is excluded from equality and hashing: a value read back equals
    the value written. ``value`` is left out of ``repr`` to keep it out of logs.
    """

    subject: str
    value: Any = field(default=None, repr=False)
    erased: bool = False
    label: str = field(default="", compare=False, repr=False)

    def __str__(self) -> str:
        if self.erased:
            return ERASED
        return "" if self.value is None else str(self.value)


def reveal(obj: Any) -> Any:
    """``obj`` with every Personal replaced by its plain value (or "[erased]")."""
    if isinstance(obj, Personal):
        return ERASED if obj.erased else obj.value
    if isinstance(obj, dict):
        return {key: reveal(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(reveal(item) for item in obj)
    return obj


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def subject_for_email(email: str) -> str:
    """The subject id of the person with this address (never the address itself)."""
    return "email:" + _digest(email.strip().lower())


def subject_for_name(scope: str, name: str) -> str:
    """The subject id of a person known only by name within ``scope`` (e.g. a URN)."""
    return "name:" + _digest(scope.strip() + "\0" + " ".join(name.split()).casefold())


class SubjectErased(Conflict):
    """Personal data was written for a subject whose key has been erased."""

    def __init__(self, subject: str) -> None:
        super().__init__("This person's personal data has been erased at their request, "
                         "so it cannot be recorded again.", "personal_data")
        self.subject = subject


class SubjectKeys:
    """The per-service table of subject keys, in the service's own database.

    Caching: a key is cached only inside a ``cached()`` scope, which the
    application opens around each mapper call (one event encoded or decoded),
    so the fields of one event cost one look-up per subject. Outside a scope
    every call reads the table, so an erasure by any instance is seen by the
    very next event read. A read model replaying many events may widen the
    scope with ``with keys.cached():``.

    Reading an aggregate on SQLite (``_KeyedEventStore``) also keeps the keys it
    read across reads (``known``), but only while the table's count of erased
    subjects, read in the same statement as the aggregate's events, is the one
    they were read under: an erasure by any instance raises the count, so the
    very next aggregate read drops them all and reads the table again.
    """

    def __init__(self, datastore: Any, table: str = "subject_keys", ledger: Ledger | None = None,
                 create: bool = True) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
            raise ValueError(f"bad table name {table!r}")
        self.datastore = datastore
        self.ledger = ledger  # where creating and shredding a key is recorded, sealed
        self.sqlite = isinstance(datastore, SQLiteDatastore)
        self.table = table if self.sqlite else f"{datastore.schema}.{table}"
        self._p = "?" if self.sqlite else "%s"
        self._local = threading.local()  # green-local under eventlet
        self._known: dict[str, bytes | None] = {}  # keys read by aggregate reads (see above)
        self._known_under: int | None = None  # the count of erased subjects they were read under
        self._known_lock = threading.Lock()
        self.erasures = f"(SELECT COUNT(*) FROM {self.table} WHERE erased_at IS NOT NULL)"  # SQL
        if create:
            self._create_table(table)

    def _create_table(self, name: str) -> None:
        blob, moment = ("BLOB", "TEXT") if self.sqlite else ("BYTEA", "TIMESTAMPTZ")
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self.table} (subject TEXT PRIMARY KEY, key {blob}, "
            f"label TEXT NOT NULL DEFAULT '', created_at {moment} NOT NULL, erased_at {moment})",
            f"CREATE INDEX IF NOT EXISTS {name}_erased ON {self.table} (erased_at) "
            "WHERE erased_at IS NOT NULL",
        ]
        # Two instances starting together may race on PostgreSQL's catalogue.
        with suppress(IntegrityError), self.datastore.transaction(commit=True) as cursor:
            for statement in statements:
                cursor.execute(statement)

    def _now(self) -> Any:
        now = dt.datetime.now(dt.UTC)
        return now.isoformat() if self.sqlite else now

    def _moment(self, value: Any) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else value

    @contextmanager
    def cached(self) -> Iterator[None]:
        """Cache keys until the outermost scope ends (scopes nest)."""
        if getattr(self._local, "cache", None) is not None:
            yield
            return
        self._local.cache = {}
        try:
            yield
        finally:
            self._local.cache = None

    def _cache(self) -> dict[str, bytes | None]:
        cache = getattr(self._local, "cache", None)
        return {} if cache is None else cache

    def _row(self, subject: str, commit: bool, insert: tuple | None = None) -> Any:
        with self.datastore.transaction(commit=commit) as cursor:
            if insert:
                cursor.execute(
                    f"INSERT INTO {self.table} (subject, key, label, created_at) "
                    f"VALUES ({self._p}, {self._p}, {self._p}, {self._p}) ON CONFLICT (subject) DO NOTHING "
                    "RETURNING subject",
                    insert,
                )
                if cursor.fetchone() is not None:  # this call made the key: seal that it exists
                    self._record(cursor, "key-created", subject, key=insert[1])
            cursor.execute(f"SELECT key, erased_at FROM {self.table} WHERE subject = {self._p}", (subject,))
            return cursor.fetchone()

    def _record(self, cursor: Any, kind: str, subject: str, key: bytes | None = None) -> None:
        if self.ledger is not None:
            detail = {"fingerprint": self.ledger.fingerprint(subject, key)} if key is not None else {}
            self.ledger.append(cursor, kind, subject, detail)

    def existing(self, subject: str) -> bytes | None:
        """The subject's key; None if it never had one here or it has been erased."""
        cache = self._cache()
        if subject in cache:
            return cache[subject]
        row = self._row(subject, commit=False)
        if row is None:
            return None
        cache[subject] = key = None if row["key"] is None else bytes(row["key"])
        return key

    def load(self, subjects: Iterable[str], cursor: Any = None) -> None:
        """Read the keys of ``subjects`` not cached yet in one query (inside ``cached()``), with
        ``cursor`` if given (the one that read the events naming them)."""
        cache = getattr(self._local, "cache", None)
        wanted = sorted({s for s in subjects if s not in cache}) if cache is not None else []
        for start in range(0, len(wanted), LOAD_AT_ONCE):
            chunk = wanted[start:start + LOAD_AT_ONCE]
            with nullcontext(cursor) if cursor is not None else self._reading() as reading:
                reading.execute(f"SELECT subject, key FROM {self.table} WHERE subject IN "
                                f"({', '.join([self._p] * len(chunk))})", chunk)
                for row in reading.fetchall():
                    cache[row["subject"]] = None if row["key"] is None else bytes(row["key"])

    def load_known(self, subjects: Iterable[str], erasures: int, cursor: Any) -> None:
        """``load`` (inside ``cached()``), taking the keys known from earlier aggregate reads while
        the count of erased subjects is still ``erasures`` (read with the events naming
        ``subjects``), and remembering those it reads for the next."""
        with self._known_lock:
            if erasures != self._known_under or len(self._known) > KNOWN_AT_MOST:
                self._known, self._known_under = {}, erasures
            known = self._known
        cache = self._local.cache
        missing = []
        for subject in subjects:
            if subject in known:
                cache[subject] = known[subject]
            else:
                missing.append(subject)
        if not missing:
            return
        self.load(missing, cursor)
        with self._known_lock:
            if self._known_under == erasures:  # not if an erasure was seen since they were read
                self._known.update((subject, cache[subject]) for subject in missing if subject in cache)

    def _reading(self) -> Any:
        """A cursor to read with: on SQLite one statement needs no transaction around it."""
        return sqlite_read(self.datastore) if self.sqlite else self.datastore.transaction(commit=False)

    def decoding(self, records: Sequence[StoredEvent], decode: Callable[[StoredEvent], Any]) -> list[Any]:
        """``decode`` each record, the keys of every subject they name read first in one query,
        not one query per subject per event (half a rebuild's time, once)."""
        with self.cached():
            self.load(subject for record in records for subject in subjects_in(record.state))
            return [decode(record) for record in records]

    def key(self, subject: str, label: str = "") -> bytes:
        """The subject's key, created if new. Raises SubjectErased once erased."""
        key = self.existing(subject)
        if key is None:
            # Insert-if-absent then read: concurrent writers agree on one key,
            # and an erased subject's row (key NULL) is never replaced.
            row = self._row(subject, commit=True, insert=(subject, os.urandom(32), label, self._now()))
            if row["key"] is None:
                raise SubjectErased(subject)
            key = self._cache()[subject] = bytes(row["key"])
        return key

    def erase(self, subject: str) -> bool:
        """Delete the subject's key; True if there was one.

        An unknown subject gets a tombstone row too, so data about them that
        arrives later (from another service) cannot create a key. Either way the
        erasure is recorded in the sealed ledger, in the same transaction.
        """
        now = self._now()
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} (subject, key, label, created_at, erased_at) "
                f"VALUES ({self._p}, NULL, '', {self._p}, {self._p}) ON CONFLICT (subject) DO NOTHING "
                "RETURNING subject",
                (subject, now, now),
            )
            tombstone = cursor.fetchone() is not None
            cursor.execute(
                f"UPDATE {self.table} SET key = NULL, erased_at = {self._p} "
                f"WHERE subject = {self._p} AND key IS NOT NULL RETURNING subject",
                (now, subject),
            )
            erased = cursor.fetchone() is not None
            if erased or tombstone:  # the key is gone (or never may be): seal that it was erased
                self._record(cursor, "key-erased", subject)
        self._cache()[subject] = None
        with self._known_lock:
            self._known = {}  # at once in this process; the count tells the others
        return erased

    def subjects(self) -> list[dict]:
        """Every subject known here, with its label and when it was created and erased."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT subject, label, created_at, erased_at FROM {self.table} ORDER BY subject")
            rows = cursor.fetchall()
        return [
            {
                "subject": row["subject"],
                "label": row["label"],
                "created_at": self._moment(row["created_at"]),
                "erased_at": self._moment(row["erased_at"]),
            }
            for row in rows
        ]

    def epoch(self) -> int:
        """How many subjects have been erased: a read model rebuilds when it changes."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT COUNT(*) AS n FROM {self.table} WHERE erased_at IS NOT NULL")
            return int(cursor.fetchone()["n"])


KNOWN_AT_MOST = 20_000  # keys kept across aggregate reads (about 3 MB); then they start again
LOAD_AT_ONCE = 500  # subjects in one query's IN list (SQLite allows 999 parameters by default)
# where a stored event names a subject, as PersonalAsCipher writes it; a subject this misses
# (it would need JSON escapes) is only read on its own, as before
_SUBJECT = re.compile(rb'"_type_":"personal","_data_":\{"s":"([^"\\]+)"')


def subjects_in(state: bytes) -> list[str]:
    """The subjects whose personal values a stored event's state holds."""
    return [m.decode("utf-8") for m in _SUBJECT.findall(state)] if b'"personal"' in state else []


class PersonalAsCipher(Transcoding):
    """Personal values as AES-256-GCM ciphertext under the subject's key."""

    type = Personal
    name = "personal"

    def __init__(self, keys: SubjectKeys) -> None:
        self.keys = keys

    def encode(self, obj: Personal) -> dict[str, str]:
        if obj.erased:
            raise SubjectErased(obj.subject)
        nonce = os.urandom(12)
        plain = json.dumps(obj.value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        # The subject as associated data: a ciphertext cannot be moved to another subject.
        cipher = AESGCM(self.keys.key(obj.subject, obj.label)).encrypt(nonce, plain, obj.subject.encode())
        return {"s": obj.subject, "n": _b64(nonce), "c": _b64(cipher)}

    def decode(self, data: dict[str, str]) -> Personal:
        subject = data["s"]
        key = self.keys.existing(subject)
        if key is None:
            return Personal(subject, None, erased=True)
        # A wrong tag means corruption, not erasure: let InvalidTag propagate.
        nonce, cipher = base64.b64decode(data["n"]), base64.b64decode(data["c"])
        plain = AESGCM(key).decrypt(nonce, cipher, subject.encode())
        return Personal(subject, json.loads(plain))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class _KeyScopedTranscoder(Transcoder):
    """Runs each whole-event encode/decode in one key-cache scope."""

    def __init__(self, inner: Transcoder, keys: SubjectKeys) -> None:
        self.inner = inner
        self.keys = keys

    def encode(self, obj: Any) -> bytes:
        with self.keys.cached():
            return self.inner.encode(obj)

    def decode(self, data: bytes) -> Any:
        with self.keys.cached():
            return self.inner.decode(data)


class _KeyedEventStore(EventStore):
    """An aggregate's events decoded with their subjects' keys read in one query."""

    keys: SubjectKeys

    def get(self, originator_id: Any, *, gt: int | None = None, lte: int | None = None,
            desc: bool = False, limit: int | None = None) -> Iterator[Any]:
        recorder = self.recorder
        if not isinstance(recorder, SealingSQLiteRecorder):
            records = recorder.select_events(originator_id=originator_id, gt=gt, lte=lte, desc=desc,
                                             limit=limit)
            return iter(self.keys.decoding(records, self.mapper.to_domain_event))
        with self.keys.cached():  # on SQLite, the events and their keys read on one connection
            with sqlite_read(recorder.datastore) as cursor:
                records, erasures = recorder.events_with(cursor, originator_id, self.keys.erasures, gt=gt,
                                                         lte=lte, desc=desc, limit=limit)
                if records:
                    self.keys.load_known((s for record in records for s in subjects_in(record.state)),
                                         erasures, cursor)
            return iter([self.mapper.to_domain_event(record) for record in records])


class PersonalDataApplication(ServiceApplication):
    """A service application whose events may carry Personal values."""

    subject_keys: SubjectKeys

    def construct_event_store(self) -> EventStore:
        store = _KeyedEventStore(mapper=self.mapper, recorder=self.recorder)
        store.keys = self.subject_keys
        return store

    def domain_events(self, notifications: Sequence[StoredEvent]) -> list[Any]:
        return self.subject_keys.decoding(notifications, self.mapper.to_domain_event)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        # The factory, and so the datastore, exist by now; the recorder does not.
        self.subject_keys = SubjectKeys(self.factory.datastore, f"{self.name.lower()}_subject_keys",
                                        self.ledger, create=self.factory.env_create_table())
        transcoder.register(PersonalAsCipher(self.subject_keys))

    def construct_transcoder(self) -> Transcoder:
        return _KeyScopedTranscoder(super().construct_transcoder(), self.subject_keys)

    def erase_subject(self, subject: str) -> bool:
        """Shred the subject's personal data in this service; True if a key was deleted."""
        return self.subject_keys.erase(subject)
