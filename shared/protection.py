"""The sealed record's tables, and the database refusing to rewrite them.

Events, their chain, the ledger, the tracking and the witnessed heads are append-only:
triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL). A subject's key may only be
shredded (set to NULL), never replaced or deleted. On PostgreSQL the services connect as a
role that may only insert and read (deploy/postgres/roles.sql), so they cannot take the
triggers off; ``sanctuary audit verify`` reports a trigger that is gone, disabled or changed
all the same (the tables' owner can do that).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.chain import Tables

APPEND_ONLY = ("chain", "ledger", "witness")
# the columns that make a row the same row: an insert over one is refused, not a replacement
_SAME_ROW = {"events": ("originator_id", "originator_version"),
             "tracking": ("application_name", "notification_id"), "chain": ("notification_id",),
             "ledger": ("seq",), "witness": ("origin", "position", "digest", "ledger", "ledger_digest")}
# PostgreSQL: the trigger functions' bodies, and each trigger's type bits (pg_trigger.tgtype:
# 1 row, 2 before, 8 delete, 16 update, 32 truncate)
APPEND_ONLY_BODY = " BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END "
SHRED_ONLY_BODY = (" BEGIN IF TG_OP = 'UPDATE' AND NEW.key IS NULL AND NEW.subject = OLD.subject "
                   "AND NEW.label = OLD.label AND NEW.created_at = OLD.created_at THEN RETURN NEW; END IF; "
                   "RAISE EXCEPTION '%: a key is only shredded', TG_TABLE_NAME; END ")
FUNCTIONS = {"sanctuary_append_only": APPEND_ONLY_BODY, "sanctuary_shred_only": SHRED_ONLY_BODY}


@dataclass(frozen=True)
class Guard:
    """One trigger: on which table, and what it must be (SQLite: its statement; PostgreSQL:
    its type bits and function)."""

    table: str
    name: str
    sql: str = ""
    tgtype: int = 0
    function: str = ""


def create_tables(tables: Tables, cursor: Any) -> None:
    big = "INTEGER" if tables.sqlite else "BIGINT"
    q = tables.q
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {q(tables.table('chain'))} (notification_id {big} "
                   f"PRIMARY KEY, previous {big} NOT NULL, key_id TEXT NOT NULL, mac TEXT NOT NULL)")
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {q(tables.table('ledger'))} (seq {big} PRIMARY KEY, "
                   "kind TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL, at TEXT NOT NULL, "
                   "key_id TEXT NOT NULL, mac TEXT NOT NULL)")
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {q(tables.table('witness'))} (origin TEXT NOT NULL, "
                   f"position {big} NOT NULL, digest TEXT NOT NULL, ledger {big} NOT NULL, "
                   "ledger_digest TEXT NOT NULL, published_at TEXT NOT NULL, heard_at TEXT NOT NULL, "
                   "key_id TEXT, mac TEXT, UNIQUE (origin, position, digest, ledger, ledger_digest))")
    for column in ("key_id", "mac"):  # a table made before heard heads were sealed
        if not has_column(tables, cursor, tables.table("witness"), column):
            cursor.execute(f"ALTER TABLE {q(tables.table('witness'))} ADD COLUMN {column} TEXT")


def append_only_tables(tables: Tables) -> dict[str, str]:
    """The tables whose rows never change (unqualified), each with its kind."""
    return {tables.events_table: "events", tables.tracking_table: "tracking",
            **{tables.table(kind): kind for kind in APPEND_ONLY}}


def guards(tables: Tables, subject_keys: bool) -> list[Guard]:
    """Every trigger the store must have; ``subject_keys``: it has that table."""
    return _sqlite_guards(tables, subject_keys) if tables.sqlite else _postgres_guards(tables, subject_keys)


def _sqlite_guards(tables: Tables, subject_keys: bool) -> list[Guard]:
    # INSERT OR REPLACE deletes the row it replaces without firing DELETE triggers, so an
    # insert over an existing row is refused (the writer gets an integrity error), or for a
    # witnessed head heard again, ignored.
    found = []
    for table, kind in append_only_tables(tables).items():
        refuse = f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for action in ("UPDATE", "DELETE"):
            name = f"{table}_no_{action.lower()}"
            found.append(Guard(table, name, f"CREATE TRIGGER {name} BEFORE {action} ON {table} {refuse}"))
        match = " AND ".join(f"{k} = NEW.{k}" for k in _SAME_ROW[kind])
        outcome = "IGNORE" if kind == "witness" else f"ABORT, '{table} is append-only'"
        found.append(Guard(table, f"{table}_no_replace",
                           f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} WHEN EXISTS "
                           f"(SELECT 1 FROM {table} WHERE {match}) BEGIN SELECT RAISE({outcome}); END"))
    if subject_keys:
        keys = tables.table("subject_keys")
        found += [
            Guard(keys, f"{keys}_no_delete", f"CREATE TRIGGER {keys}_no_delete BEFORE DELETE ON {keys} "
                  f"BEGIN SELECT RAISE(ABORT, '{keys} keeps every row; a key is only shredded'); END"),
            Guard(keys, f"{keys}_shred_only", f"CREATE TRIGGER {keys}_shred_only BEFORE UPDATE ON {keys} "
                  "WHEN NEW.key IS NOT NULL OR NEW.subject IS NOT OLD.subject OR NEW.label IS NOT OLD.label "
                  f"OR NEW.created_at IS NOT OLD.created_at BEGIN SELECT RAISE(ABORT, '{keys}: a key is "
                  "only shredded'); END"),
            Guard(keys, f"{keys}_no_replace", f"CREATE TRIGGER {keys}_no_replace BEFORE INSERT ON {keys} "
                  f"WHEN EXISTS (SELECT 1 FROM {keys} WHERE subject = NEW.subject) "
                  "BEGIN SELECT RAISE(IGNORE); END"),
        ]
    return found


def _postgres_guards(tables: Tables, subject_keys: bool) -> list[Guard]:
    found = [Guard(table, f"{table}_append_only", tgtype=2 | 8 | 16 | 32, function="sanctuary_append_only")
             for table in append_only_tables(tables)]
    if subject_keys:
        keys = tables.table("subject_keys")
        found += [Guard(keys, f"{keys}_shred_only", tgtype=1 | 2 | 8 | 16, function="sanctuary_shred_only"),
                  Guard(keys, f"{keys}_no_truncate", tgtype=2 | 32, function="sanctuary_append_only")]
    return found


def prepare(tables: Tables, cursor: Any) -> None:
    """Create the sealed record's tables and install every trigger (both idempotent; a store
    restored from a dump gets its triggers back here)."""
    if not tables.sqlite:  # instances starting together would race on the catalogue
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('sanctuary-append-only'))")
    create_tables(tables, cursor)
    subject_keys = exists(tables, cursor, tables.table("subject_keys"))
    if tables.sqlite:
        for guard in guards(tables, subject_keys):
            cursor.execute(guard.sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))
        return
    schema = tables.schema
    for function, body in FUNCTIONS.items():
        cursor.execute(f"CREATE OR REPLACE FUNCTION {schema}.{function}() RETURNS trigger "
                       f"LANGUAGE plpgsql AS $${body}$$")
    for guard in guards(tables, subject_keys):
        level = "ROW" if guard.tgtype & 1 else "STATEMENT"
        events = " OR ".join(e for bit, e in ((8, "DELETE"), (16, "UPDATE"), (32, "TRUNCATE"))
                             if guard.tgtype & bit)
        cursor.execute(f"CREATE OR REPLACE TRIGGER {guard.name} BEFORE {events} ON {schema}.{guard.table} "
                       f"FOR EACH {level} EXECUTE FUNCTION {schema}.{guard.function}()")


def has_column(tables: Tables, cursor: Any, table: str, column: str) -> bool:
    if tables.sqlite:
        cursor.execute(f"SELECT 1 AS found FROM pragma_table_info('{table}') WHERE name = ?", (column,))
    else:
        cursor.execute("SELECT 1 AS found FROM information_schema.columns WHERE table_schema = %s AND "
                       "table_name = %s AND column_name = %s", (tables.schema, table, column))
    return cursor.fetchone() is not None


def exists(tables: Tables, cursor: Any, table: str) -> bool:
    if tables.sqlite:
        cursor.execute("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        return cursor.fetchone() is not None
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL AS found", (tables.q(table),))
    return cursor.fetchone()["found"]


def grant(tables: Tables, cursor: Any, role: str) -> None:
    """PostgreSQL: let ``role`` (the services') read the store and insert into it, and nothing more:
    no UPDATE, DELETE or TRUNCATE (a subject's key excepted: it may be shredded), and, not owning
    the tables, no ALTER, DROP or DISABLE TRIGGER either."""
    q = tables.q
    cursor.execute(f"REVOKE CREATE ON SCHEMA {tables.schema} FROM PUBLIC")
    cursor.execute(f"GRANT USAGE ON SCHEMA {tables.schema} TO {role}")
    for table in append_only_tables(tables):
        cursor.execute(f"GRANT SELECT, INSERT ON {q(table)} TO {role}")
    cursor.execute(f"GRANT USAGE, SELECT ON SEQUENCE {q(tables.events_table)}_notification_id_seq TO {role}")
    keys = tables.table("subject_keys")
    if exists(tables, cursor, keys):
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE (key, erased_at) ON {q(keys)} TO {role}")
    if exists(tables, cursor, tables.table("seal")):  # an earlier release's seal, kept as evidence
        cursor.execute(f"GRANT SELECT ON {q(tables.table('seal'))} TO {role}")


def may_create(datastore: Any) -> bool:
    """Whether this connection's role may create the store's tables (on PostgreSQL the services'
    role may not: a migration role made them, ``sanctuary prepare-stores``)."""
    if type(datastore).__module__.endswith("sqlite"):
        return True
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT has_schema_privilege(current_user, %s, 'CREATE') AS may", (datastore.schema,))
        return cursor.fetchone()["may"]
