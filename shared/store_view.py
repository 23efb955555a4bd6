"""One consistent, read-only look at a service's store, for checking it (shared/audit.py).

Everything is read in one transaction (a snapshot: REPEATABLE READ on PostgreSQL, one read
transaction on SQLite), so a service writing meanwhile never makes an event look unsealed.
Rows come back as plain dicts; a table that is gone reads as None.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.chain import Tables

BATCH = 1000


class StoreView:
    def __init__(self, cursor: Any, tables: Tables) -> None:
        self.cursor, self.tables = cursor, tables

    @classmethod
    def opened(cls, cursor: Any, tables: Tables) -> StoreView:
        """Begin the snapshot: call before anything else is read in the transaction."""
        if not tables.sqlite:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return cls(cursor, tables)

    def rows(self, sql: str, params: tuple = ()) -> list[dict]:
        self.cursor.execute(sql, params)
        return [dict(row) for row in self.cursor.fetchall()]

    def has(self, table: str) -> bool:
        if self.tables.sqlite:
            return bool(self.rows("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?",
                                   (table,)))
        return self.rows("SELECT to_regclass(%s) IS NOT NULL AS found", (self.tables.q(table),))[0]["found"]

    def chain(self) -> dict[int, dict] | None:
        table = self.tables.table("chain")
        if not self.has(table):
            return None
        rows = self.rows(f"SELECT notification_id, previous, key_id, mac FROM {self.tables.q(table)}")
        return {row["notification_id"]: row for row in rows}

    def ledger(self) -> list[dict] | None:
        table = self.tables.table("ledger")
        if not self.has(table):
            return None
        return self.rows(f"SELECT seq, kind, subject, detail, at, key_id, mac FROM {self.tables.q(table)} "
                          "ORDER BY seq")

    def events(self) -> Iterator[dict]:
        t = self.tables
        position = 0
        while True:
            batch = self.rows(
                f"SELECT {t.position} AS position, originator_id, originator_version, topic, state "
                f"FROM {t.events} WHERE {t.position} > {t.mark} ORDER BY {t.position} LIMIT {BATCH}",
                (position,))
            yield from batch
            if len(batch) < BATCH:
                return
            position = batch[-1]["position"]

    def newest(self) -> int:
        t = self.tables
        if not self.has(t.events_table):
            return 0
        return self.rows(f"SELECT MAX({t.position}) AS newest FROM {t.events}")[0]["newest"] or 0

    def subject_keys(self) -> dict[str, dict] | None:
        table = self.tables.table("subject_keys")
        if not self.has(table):
            return None
        rows = self.rows(f"SELECT subject, key, erased_at FROM {self.tables.q(table)}")
        return {row["subject"]: row for row in rows}

    def tracking(self) -> list[dict] | None:
        """Every tracking row: which upstream position each consumer (or the relay) recorded."""
        table = self.tables.tracking_table
        if not self.has(table):
            return None
        return self.rows(f"SELECT application_name, notification_id FROM {self.tables.q(table)}")

    def witnessed(self) -> list[dict]:
        """Every head this store has heard from other services (with its key_id and mac, unless the
        table was made before heard heads were sealed)."""
        table = self.tables.table("witness")
        if not self.has(table):
            return []
        return self.rows(f"SELECT * FROM {self.tables.q(table)}")

    def rewritten(self, tables: list[str]) -> list[str]:
        """PostgreSQL: what else decides what ``tables`` hold or show: a rule rewriting statements on
        one, row level security (which can hide rows from the services' role, not from the owner
        who verifies), or a view or other relation in a table's place."""
        if self.tables.sqlite:
            return []
        schema = self.tables.schema
        found = [f"the rule {row['rule']} rewrites statements on {row['tbl']}" for row in self.rows(
            "SELECT tablename AS tbl, rulename AS rule FROM pg_rules WHERE schemaname = %s AND "
            "tablename = ANY(%s)", (schema, tables))]
        for row in self.rows("SELECT c.relname AS tbl, c.relkind AS kind, c.relrowsecurity AS rls "
                             "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                             "WHERE n.nspname = %s AND c.relname = ANY(%s)", (schema, tables)):
            if row["kind"] != "r":
                found.append(f"{row['tbl']} is not a table (relkind {row['kind']})")
            elif row["rls"]:
                found.append(f"row level security is on for {row['tbl']}: a policy may hide rows from "
                             "the services")
        return found

    def triggers(self) -> dict[str, dict]:
        """The triggers on the store's tables, by name: whether each is enabled, and what it is."""
        if self.tables.sqlite:
            rows = self.rows("SELECT name, tbl_name AS tbl, sql FROM sqlite_master WHERE type = 'trigger'")
            return {row["name"]: {**row, "enabled": True} for row in rows}
        rows = self.rows(
            "SELECT t.tgname AS name, c.relname AS tbl, t.tgenabled IN ('O', 'A') AS enabled, "
            "t.tgtype AS tgtype, t.tgqual IS NOT NULL AS conditional, p.proname AS function, "
            "fn.nspname AS function_schema, p.prosrc AS source "
            "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid "
            "JOIN pg_namespace fn ON fn.oid = p.pronamespace WHERE n.nspname = %s AND NOT t.tgisinternal",
            (self.tables.schema,))
        return {row["name"]: row for row in rows}
