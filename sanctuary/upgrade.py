"""``sanctuary audit upgrade <service> --by <who>``: once, after upgrading a store from the release
before tracking rows and heard heads were sealed.

That release sealed every event and kept the ledger under the sealing key, but wrote its tracking
rows (which upstream events each consumer processed, how far the relay published) without a
record of them in the ledger, and the heads it heard from the other services without a MAC. The
release after records both as they are written, and a store it made says so in its ledger's first
record (under the key, so that cannot be taken back unseen). ``audit verify`` of a store that says
neither that nor that it was upgraded, and holds such rows, names it once as not upgraded; in a
store that says either, each such row is named as tampered with.

This command, run with every service stopped, first verifies the store as ``audit verify`` does
(its events against their chain, the chain's links and keys, the ledger, the subject keys, the
triggers, and the heads the other services heard of it); only if all of that holds does it, in
one transaction, record in the ledger the step itself (who, when, the release, what it adopted:
counts and positions), every tracking row the ledger does not record, and the MAC of every heard
head without one, each head first checked against the chain of the service it names where that
store can be read ("matches", "differs", or "unchecked" and why).

What it cannot tell: a tracking row added or altered, or a head made up or altered, before the
step (by someone who could write the database) is adopted like a genuine one; only a head that
differs from its service's chain is told, and that is then named by ``audit verify`` of that
service (the record or that store was altered; which, the step cannot say). From the step on,
each is sealed: one altered, added or deleted after it is named. The tables are append-only and
are not changed.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Mapping
from typing import Any

import psycopg

from sanctuary.backup import STORED, BackupError, _check_stopped, locate
from sanctuary.reseal import REFUSED, existing_store, writable
from sanctuary.verify import SHOWN, heard, opened, tables_of
from shared.audit import ADOPTED_HEAD, UPGRADED, check, describe, left_by_the_release_before, where
from shared.chain import Ledger, Tables
from shared.config import Settings, version
from shared.seal_key import SealKeys
from shared.secrets import MissingSecret
from shared.store_view import StoreView
from shared.witness import heard_mac

FAILED = 1


class UpgradeRefused(Exception):
    pass


def upgrade(service: str, by: str, environ: Mapping[str, str] | None = None) -> int:
    """0 upgraded (or nothing to upgrade), 1 the store does not verify (nothing changed), 2 refused."""
    environ = os.environ if environ is None else environ
    location = existing_store(service, environ)
    if location is None:
        return REFUSED
    try:
        keys = SealKeys.load(Settings.from_env(dict(environ)).data_dir, environ)
        _check_stopped(location)
        heads = heard(environ, keys).get(service, [])
        with writable(location) as cursor:
            return _upgrade(cursor, tables_of(location), keys, by, heads, Origins(environ))
    except (BackupError, UpgradeRefused, MissingSecret) as error:
        print(f"sanctuary: {error}", file=sys.stderr)
        return REFUSED


def _upgrade(cursor: Any, tables: Tables, keys: SealKeys, by: str, heads: list[dict],
             origins: Origins) -> int:
    view = StoreView(cursor, tables)
    if not view.chain() and view.has(tables.table("seal")):
        raise UpgradeRefused(f"{tables.name} is sealed the old way: run `sanctuary audit reseal "
                             f"{tables.name} --by <you>` first")
    verdict = check(view, keys, None, heads)
    problems = sorted((p for p in verdict.problems if not p.get("upgrade")), key=where)
    if problems:
        print(f"NOT UPGRADED: {tables.name} does not verify ({len(problems)} problem(s)); nothing recorded:")
        for problem in problems[:SHOWN]:
            print(f"  {describe(problem)}: {problem['what']}")
        if len(problems) > SHOWN:
            print(f"  ... and {len(problems) - SHOWN} more")
        return FAILED
    tracking, unsealed = left_by_the_release_before(view, keys)
    if not tracking and not unsealed:
        print(f"{tables.name}: nothing to upgrade: every tracking row and heard head is sealed")
        return 0
    unsealed.sort(key=lambda row: (row["origin"], row["position"]))
    _record(cursor, tables, keys, by, tracking, [(row, origins.check(row)) for row in unsealed])
    return 0


def _record(cursor: Any, tables: Tables, keys: SealKeys, by: str, tracking: list[tuple[str, int]],
            checks: list[tuple[dict, str]]) -> None:
    """The step, each tracking row and each heard head, in the ledger (in the caller's transaction)."""
    differ = [[row["origin"], row["position"]] for row, outcome in checks if outcome.startswith("differs")]
    matched = sum(outcome == "matches" for _, outcome in checks)
    ledger = Ledger(tables, keys)
    ledger.from_the_start = False  # its first record, if this is, must not say so
    ledger.append(cursor, UPGRADED, "", {
        "by": by, "release": version(), "tracking_rows": len(tracking), "tracking": spans(tracking),
        "heads": len(checks), "heard": spans([(row["origin"], row["position"]) for row, _ in checks]),
        "heads_checked": matched, "heads_unchecked": len(checks) - matched - len(differ),
        "heads_differ": differ})
    for name, position in tracking:
        ledger.append(cursor, "tracked", name, {"position": position, "at_upgrade": True})
    for row, outcome in checks:
        ledger.append(cursor, ADOPTED_HEAD, row["origin"], {
            "position": row["position"], "key_id": keys.current_id,
            "mac": heard_mac(keys, keys.current_id, row), "check": outcome})
    print(f"UPGRADED: {tables.name}: {len(tracking)} tracking row(s) and {len(checks)} heard head(s) of the "
          f"release before recorded in the ledger, by {by} ({matched} head(s) matched their service's chain, "
          f"{len(checks) - matched - len(differ)} could not be checked, {len(differ)} differ)")
    for row, outcome in checks:
        if not outcome.startswith("matches"):
            print(f"  the head heard from {row['origin']} at {row['position']}: {outcome}")
    if differ:
        print("  a head that differs is held against its service: `sanctuary audit verify` of it names it "
              "(this record of it, or that store, was altered)")


def spans(rows: list[tuple[str, int]]) -> dict[str, list[int]]:
    """By name: how many, and the lowest and highest position."""
    found: dict[str, list[int]] = {}
    for name, position in rows:
        count, low, high = found.get(name, [0, position, position])
        found[name] = [count + 1, min(low, position), max(high, position)]
    return found


class Origins:
    """The chains of the services whose heads a store heard, read once each, to check a head against."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ, self.read = environ, {}

    def check(self, row: dict) -> str:
        origin = row["origin"]
        if origin not in self.read:
            self.read[origin] = self._chain_of(origin)
        found = self.read[origin]
        if isinstance(found, str):
            return f"unchecked: {found}"
        chain, records = found
        link = chain.get(row["position"])
        if link is None:
            return f"differs: the chain of {origin} has no link at {row['position']} (ends at {max(chain)})"
        if link["mac"] != row["digest"]:
            return f"differs: the chain of {origin} has another link at {row['position']}"
        if row["ledger"] and records.get(row["ledger"]) != row["ledger_digest"]:
            return f"differs: the ledger of {origin} has another record {row['ledger']}"
        return "matches"

    def _chain_of(self, origin: str) -> tuple[dict, dict] | str:
        if origin not in STORED:
            return f"no service {origin!r} with a store"
        try:
            with opened(locate(origin, self.environ)) as view:
                chain = view.chain() if view is not None else None
                if not chain:
                    return f"{origin} has no chain here"
                return chain, {row["seq"]: row["mac"] for row in view.ledger() or []}
        except (psycopg.Error, sqlite3.Error) as error:
            return f"{origin}'s store could not be read ({str(error).strip()})"
