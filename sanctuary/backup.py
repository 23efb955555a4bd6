"""``sanctuary backup <folder>`` and ``sanctuary restore <folder>``: every service's event store.

The event store is the system of record (read models are rebuilt from it), so a
backup is one consistent copy per service store and a ``manifest.json`` that says
what each copy holds: its newest position, the seal's digest at that moment and
the file's SHA-256.

- SQLite: sqlite3's online backup API copies the store in one read transaction,
  so it is safe while the services run.
- PostgreSQL: ``pg_dump --format=custom`` of the service's own tables
  (``<service>_*`` in its schema, so stores that share a database stay apart),
  taken in a snapshot exported by the same transaction that reads the manifest's
  position and digest, so the manifest describes exactly what was dumped.

Restore checks every SHA-256 before it touches anything, refuses while a service
still runs (its relay holds a lock) or onto a store that holds data unless told
``--force``, and afterwards runs the seal check of ``sanctuary audit verify``
against the digest in the manifest. On PostgreSQL the append-only triggers are
not restored from the dump: they depend on a function outside the dump, and
opening the store for that check creates the function and triggers again,
exactly as a service does when it starts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.utils import Environment
from psycopg import sql

from sanctuary.launch import ORDER
from shared.audit import describe, where
from shared.config import Settings, version
from shared.relay_lock import AdvisoryRelayLock, FileRelayLock, RelayLock, advisory_lock_names
from shared.store import ServiceApplication, store_env

STORED = tuple(name for name in ORDER if name != "gateway")  # the gateway has no store
# uploaded files, content-addressed, beside the stores: folder in the data folder -> in the backup
FOLDERS = {"library": "library-files",  # the library's resources
           "evidence": "evidence-files"}  # schools' evidence portfolios (the applications service)
MANIFEST = "manifest.json"
FORMAT = 1  # the manifest's layout; a restore refuses layouts it does not know
SQLITE_EVENTS = "stored_events"  # eventsourcing's table in a service's own SQLite file
REFUSED, FAILED = 2, 1


class BackupError(Exception):
    """A backup or restore that must not go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Location:
    """Where one service keeps its store, resolved exactly as eventsourcing resolves it
    (``PLEDGES_POSTGRES_DBNAME`` before ``POSTGRES_DBNAME``), so backup and service agree."""

    service: str
    kind: str
    env: Environment
    data_dir: Path

    @property
    def sqlite_path(self) -> Path:
        return Path(self.env.get("SQLITE_DBNAME") or "")

    @property
    def schema(self) -> str:
        return (self.env.get("POSTGRES_SCHEMA") or "").strip() or "public"

    @property
    def dbname(self) -> str:
        return self.env.get("POSTGRES_DBNAME") or ""

    def conninfo(self, password: bool = True) -> str:
        """libpq connection string; without the password for command lines (it goes in PGPASSWORD)."""
        parts = {
            "host": self.env.get("POSTGRES_HOST"), "port": self.env.get("POSTGRES_PORT") or "5432",
            "user": self.env.get("POSTGRES_USER"), "dbname": self.dbname,
            "password": self.env.get("POSTGRES_PASSWORD") if password else None,
        }
        return psycopg.conninfo.make_conninfo(**{k: v for k, v in parts.items() if v})

    def tool_env(self) -> dict[str, str]:
        """pg_dump's environment: the password never appears on a command line."""
        return {**os.environ, "PGPASSWORD": self.env.get("POSTGRES_PASSWORD") or ""}

    @property
    def pattern(self) -> str:
        """The pg_dump pattern for this service's tables and sequences."""
        return f'"{self.schema}".{self.service}_*'  # the quoted part literal, the rest a pattern

    @property
    def file_name(self) -> str:
        return f"{self.service}.{'sqlite' if self.kind == 'sqlite' else 'pgdump'}"


def locate(service: str, environ: Mapping[str, str]) -> Location:
    """A service's store from the same settings the service reads at start-up."""
    settings = Settings.from_env(dict(environ))
    env = Environment(service, {**environ, **store_env(service, settings)})
    return Location(service, settings.store, env, settings.data_dir)


# -- backup ---------------------------------------------------------------------------------------


def backup(folder: Path, dated: bool = False, environ: Mapping[str, str] | None = None) -> int:
    """Back up every store into ``folder`` (or a new dated folder inside it); 2 if refused."""
    environ = os.environ if environ is None else environ
    try:
        target = _new_folder(folder, dated)
        entries = [entry for service in STORED if (entry := _backup_one(locate(service, environ), target))]
        data_dir = Settings.from_env(dict(environ)).data_dir
        files = {folder: _copy_files(data_dir / folder, target / copy) for folder, copy in FOLDERS.items()}
        _write_manifest(target, entries, Settings.from_env(dict(environ)).store)
    except (BackupError, psycopg.Error, sqlite3.Error, OSError, ValueError) as error:
        print(f"sanctuary: {error}", file=sys.stderr)
        return REFUSED
    print(f"backup written to {target} ({len(entries)} stores, {files['library']} library files, "
          f"{files['evidence']} evidence files)")
    return 0


def _copy_files(source: Path, target: Path) -> int:
    """Copy content-addressed files whose content still matches their name; the
    stores name them, so a file missing here would be a download that fails later."""
    if not source.is_dir():
        return 0
    target.mkdir(mode=0o700)
    copied = 0
    for path in sorted(source.iterdir()):
        if path.is_file() and not path.name.startswith(".") and sha256(path) == path.name:
            shutil.copy2(path, target / path.name)
            copied += 1
    return copied


def _new_folder(folder: Path, dated: bool) -> Path:
    """An empty folder only readable by us: a backup holds the personal-data keys, and a
    second backup into the same folder would mix two moments."""
    if dated:
        folder = folder / dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ")
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty; back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    return folder


def _backup_one(location: Location, folder: Path) -> dict | None:
    """Copy one store; None (and a note) when the service has never created it."""
    copy = _backup_sqlite if location.kind == "sqlite" else _backup_postgres
    facts = copy(location, folder / location.file_name)
    if facts is None:
        print(f"{location.service}: no store yet, nothing to back up")
        return None
    path = folder / location.file_name
    path.chmod(0o600)
    position, digest = facts
    print(f"{location.service}: {position} events, seal {digest or 'empty'} -> {path.name}")
    entry = {"service": location.service, "store": location.kind, "file": path.name,
             "position": position, "digest": digest, "sha256": sha256(path),
             "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    if location.kind == "postgres":
        entry.update(database=location.dbname, schema=location.schema)
    return entry


def _backup_sqlite(location: Location, target: Path) -> tuple[int, str | None] | None:
    """The online backup API: one read transaction, so writers carry on and the copy is whole."""
    if not location.sqlite_path.exists():
        return None
    with closing(sqlite3.connect(_ro_uri(location.sqlite_path), uri=True)) as source, \
            closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    with closing(sqlite3.connect(_ro_uri(target, immutable=True), uri=True)) as done:
        return _sqlite_facts(done, location.service)


def _ro_uri(path: Path, immutable: bool = False) -> str:
    """Read-only (and for the finished copy, immutable: its bytes must not change once hashed)."""
    return f"{path.resolve().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")


def _sqlite_facts(conn: sqlite3.Connection, service: str) -> tuple[int, str | None]:
    """Newest position and seal digest, as eventsourcing and ``Seal`` compute them."""
    position = conn.execute(f"SELECT MAX(rowid) FROM {SQLITE_EVENTS}").fetchone()[0] or 0
    seal = conn.execute(f"SELECT notification_id, mac FROM {service}_chain "
                        "ORDER BY notification_id DESC LIMIT 1").fetchone()
    return position, _digest(seal)


def _digest(row: Any) -> str | None:
    """``Seal.digest``'s form (position and 16 hex), or None when nothing is sealed yet."""
    return f"{row[0]}:{row[1][:16]}" if row else None


def _backup_postgres(location: Location, target: Path) -> tuple[int, str | None] | None:
    """pg_dump in a snapshot exported by the transaction that reads position and digest."""
    with closing(psycopg.connect(location.conninfo())) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        tables = _pg_tables(conn, location)  # the first statement fixes the snapshot
        if not tables:
            return None
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        facts = _pg_facts(conn, location, tables)
        _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--table={location.pattern}",
              "--no-owner", "--no-privileges", f"--file={target}", location.conninfo(password=False)],
             location)
    return facts


def _pg_tables(conn: psycopg.Connection, location: Location) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
        "AND table_name LIKE %s AND table_type = 'BASE TABLE'",
        (location.schema, location.service.replace("_", r"\_") + r"\_%")).fetchall()
    return [row[0] for row in rows]


def _pg_facts(conn: psycopg.Connection, location: Location, tables: list[str]) -> tuple[int, str | None]:
    """Newest position and seal digest in the dump's snapshot, as eventsourcing and ``Seal`` read them."""
    events, seal = f"{location.service}_events", f"{location.service}_chain"
    position = conn.execute(sql.SQL("SELECT MAX(notification_id) FROM {}").format(
        sql.Identifier(location.schema, events))).fetchone()[0] if events in tables else 0
    row = conn.execute(sql.SQL("SELECT notification_id, mac FROM {} ORDER BY notification_id DESC LIMIT 1")
                       .format(sql.Identifier(location.schema, seal))).fetchone() if seal in tables else None
    return position or 0, _digest(row)


def _run(command: list[str], location: Location) -> None:
    """Run a PostgreSQL client tool; its own message if it fails."""
    done = subprocess.run(command, env=location.tool_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{location.service}: {command[0]} failed: {done.stderr.strip()}")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_manifest(folder: Path, entries: list[dict], kind: str) -> None:
    """Written last, and by rename: a folder without a manifest is an unfinished backup."""
    manifest = {"format": FORMAT, "store": kind, "version": version(),
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "services": entries}
    partial = folder / f".{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    partial.chmod(0o600)
    partial.replace(folder / MANIFEST)


# -- restore --------------------------------------------------------------------------------------


def restore(folder: Path, force: bool = False, environ: Mapping[str, str] | None = None) -> int:
    """Restore every store in the backup, then verify each against its seal and the manifest.

    0 when every store verified, 1 when one did not, 2 when refused (nothing was touched).
    """
    environ = os.environ if environ is None else environ
    try:
        manifest = read_manifest(folder)
        plan = [(locate(entry["service"], environ), entry) for entry in manifest["services"]]
        _check_before(folder, manifest, plan, force)
    except (BackupError, psycopg.Error, sqlite3.Error, OSError, ValueError) as error:
        print(f"sanctuary: {error}", file=sys.stderr)
        return REFUSED
    for location, entry in plan:
        try:
            _restore_one(location, folder / entry["file"])
        except (BackupError, psycopg.Error, sqlite3.Error, OSError, ValueError) as error:
            print(f"sanctuary: restoring {location.service} failed, stores before it in the manifest "
                  f"were restored (run the restore again with --force): {error}", file=sys.stderr)
            return FAILED
    data_dir = Settings.from_env(dict(environ)).data_dir
    for name, copy in FOLDERS.items():
        if not (folder / copy).is_dir():
            continue
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            print(f"{name} files restored: {_copy_files_back(folder / copy, data_dir / name)}")
        except (BackupError, OSError) as error:
            print(f"sanctuary: restoring the {name} files failed: {error}", file=sys.stderr)
            return FAILED
    verified = [verify_restored(location, entry) for location, entry in plan]
    return 0 if all(verified) else FAILED


def _copy_files_back(source: Path, target: Path) -> int:
    target.mkdir(exist_ok=True)
    restored = 0
    for path in sorted(source.iterdir()):
        if sha256(path) != path.name:
            raise BackupError(f"{path} does not match its content: the backup was altered")
        if not (target / path.name).exists():
            shutil.copy2(path, target / path.name)
            restored += 1
    return restored


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{path} not found: not a backup, or an unfinished one")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: manifest format {manifest.get('format')!r} is not {FORMAT}")
    return manifest


def _check_before(folder: Path, manifest: dict, plan: list[tuple[Location, dict]], force: bool) -> None:
    """Every check before anything is written, so a refusal leaves every store as it was."""
    for location, entry in plan:
        if entry["store"] != location.kind:
            raise BackupError(f"{entry['service']}: the backup is of a {entry['store']} store, but "
                              f"SANCTUARY_STORE is {location.kind}")
        _check_file(folder / entry["file"], entry["sha256"])
        if location.kind == "postgres" and entry.get("schema") != location.schema:
            raise BackupError(f"{entry['service']}: the backup is of schema {entry.get('schema')!r}, "
                              f"the store is configured for {location.schema!r}")
    for location, _ in plan:
        holds_data = _holds_data(location)  # first: it says plainly when the store cannot be reached
        _check_stopped(location)
        if holds_data and not force:
            raise BackupError(f"{location.service}: the store already holds data; restore onto it "
                              "only with --force (it replaces what is there)")


def _check_file(path: Path, expected: str) -> None:
    """A changed or truncated file is refused: a restore must bring back exactly what was saved."""
    if not path.is_file():
        raise BackupError(f"{path} is missing")
    if sha256(path) != expected:
        raise BackupError(f"{path}: SHA-256 does not match the manifest; the file was changed or "
                          "damaged, nothing was restored")


def _check_stopped(location: Location) -> None:
    """A running service holds its relay's lock; restoring under it would lose or mix writes."""
    lock = _relay_lock(location)
    if not lock.acquire():
        raise BackupError(f"{location.service} is running; stop every service first "
                          "(systemctl stop sanctuary.target)")
    lock.release()


def _relay_lock(location: Location) -> RelayLock:
    """The same lock ``shared.relay_lock.relay_lock_for`` gives the service's relay (its own key,
    for the service's schema, and the old per-database key shared: a relay of the release before
    per-schema keys, still running, is found too)."""
    if location.kind == "sqlite":
        return FileRelayLock(location.data_dir / f"{location.service}.relay.lock")
    name, shared = advisory_lock_names(location.service, location.schema)
    return AdvisoryRelayLock(location.conninfo(), name, shared)


def _holds_data(location: Location) -> bool:
    """Any row in any of the service's tables (events, seal, keys, tracking)."""
    if location.kind == "sqlite":
        if not location.sqlite_path.exists():
            return False
        with closing(sqlite3.connect(_ro_uri(location.sqlite_path), uri=True)) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
            return any(conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() for t in tables)
    with closing(psycopg.connect(location.conninfo())) as conn:
        return any(conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(
            sql.Identifier(location.schema, table))).fetchone() for table in _pg_tables(conn, location))


def _restore_one(location: Location, file: Path) -> None:
    if location.kind == "sqlite":
        _restore_sqlite(location, file)
    else:
        _restore_postgres(location, file)
    print(f"{location.service}: restored from {file.name}")


def _restore_sqlite(location: Location, file: Path) -> None:
    """The backup API again, into the store: one transaction that replaces every page, so a
    failure leaves the old store, and its triggers come back with the pages."""
    location.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(_ro_uri(file, immutable=True), uri=True)) as source, \
            closing(sqlite3.connect(location.sqlite_path)) as store:
        source.backup(store)


def _restore_postgres(location: Location, file: Path) -> None:
    """Drop the service's tables, then pg_restore them in one transaction (triggers excepted)."""
    with closing(psycopg.connect(location.conninfo(), autocommit=True)) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(location.schema)))
        for table in _pg_tables(conn, location):
            conn.execute(sql.SQL("DROP TABLE {} CASCADE").format(sql.Identifier(location.schema, table)))
    with _without_triggers(file, location) as listing:
        _run(["pg_restore", "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges",
              f"--use-list={listing}", f"--dbname={location.conninfo(password=False)}", str(file)],
             location)


@contextmanager
def _without_triggers(file: Path, location: Location) -> Iterator[Path]:
    """The dump's table of contents minus its triggers: their function is not in the dump
    (it is shared by the schema); ``shared.audit.protect`` recreates both on opening."""
    listed = subprocess.run(["pg_restore", "--list", str(file)], capture_output=True, text=True,
                            check=False, env=location.tool_env())
    if listed.returncode != 0:
        raise BackupError(f"{file}: pg_restore cannot read it: {listed.stderr.strip()}")
    kept = [line for line in listed.stdout.splitlines() if not _is_trigger(line)]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as listing:
        listing.write("\n".join(kept) + "\n")
    try:
        yield Path(listing.name)
    finally:
        os.unlink(listing.name)


def _is_trigger(line: str) -> bool:
    """A TOC line reads ``<id>; <oid> <oid> <TYPE> <schema> <name> <owner>``."""
    parts = line.split()
    return not line.startswith(";") and len(parts) > 3 and parts[3] == "TRIGGER"


# -- after a restore --------------------------------------------------------------------------------


def verify_restored(location: Location, entry: dict) -> bool:
    """The seal check of ``sanctuary audit verify --digest``, and the position the manifest names.

    The store is opened as a bare ``ServiceApplication``, not through the service's own build,
    which may write (the events service seeds its programme) and so would move the position.
    """
    app = open_store(location)
    try:
        verdict = app.seal.verify(entry.get("digest"))
        position = app.recorder.max_notification_id() or 0
    finally:
        app.close()
    print(f"{location.service}: newest position {position} (backup: {entry['position']}); "
          f"{verdict.checked} events checked against the seal (to position {verdict.sealed_to}), "
          f"{verdict.ledger} ledger records")
    for problem in sorted(verdict.problems, key=where):
        print(f"  TAMPERED at {describe(problem)}: {problem['what']}")
    if position != entry["position"]:
        print(f"  MISMATCH: the backup held position {entry['position']}")
    ok = verdict.ok and position == entry["position"]
    print(f"  {'OK' if ok else 'FAILED'}" + (f"; matches digest {entry['digest']}" if entry.get("digest")
                                            and ok else ""))
    return ok


def open_store(location: Location) -> ServiceApplication:
    """The service's store with nothing of the service on top: its seal, and its triggers."""
    cls = type(f"{location.service.title()}Store", (ServiceApplication,), {"name": location.service})
    return cls(env=dict(location.env))
