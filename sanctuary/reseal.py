"""``sanctuary audit reseal <service> --by <who>``: once, after upgrading a store that was sealed
the old way.

Releases before keyed sealing kept ``<service>_seal``: an unkeyed SHA-256 chain the relay
extended after events were committed. This command, run with every service stopped, first
verifies that old chain exactly as the old ``audit verify`` did (and against a digest published
from it, if given); only if it holds does it seal the whole log under the sealing key, record
every subject key held (or erased) and every tracking row in the ledger, and record the reseal
itself (who, when, the old chain's digest, and which events the old chain never covered): all in
one transaction. The old table is left as it was, still append-only, as evidence. A store whose
new chain the other services have witnessed is refused: its chain was sealed the new way, and is
gone.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import sqlite3
import sys
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from sanctuary.backup import STORED, BackupError, Location, _check_stopped, locate
from sanctuary.verify import heard, tables_of
from shared.audit import digest_of
from shared.chain import GENESIS, Chain, Ledger, Tables, originator
from shared.config import Settings, version
from shared.protection import prepare
from shared.seal_key import SealKeys
from shared.secrets import MissingSecret
from shared.store_view import StoreView

REFUSED, FAILED = 2, 1


def legacy_link(previous: str, event: dict) -> str:
    """The old, unkeyed link (shared/audit.py before keyed sealing)."""
    digest = hashlib.sha256()
    for part in (previous, str(event["position"]), originator(event["originator_id"]),
                 str(event["originator_version"]), event["topic"]):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(bytes(event["state"]))
    return digest.hexdigest()


def check_legacy(view: StoreView, links: dict[int, str], digest: str | None) -> tuple[list[str], list[int]]:
    """The old verify: problems, and the positions after the old chain's end (never sealed)."""
    positions = sorted(links)
    sealed_to = positions[-1] if positions else 0
    problems, seen, after = [], set(), []
    for event in view.events():
        position = event["position"]
        if position > sealed_to:
            after.append(position)
            continue
        seen.add(position)
        before = bisect.bisect_left(positions, position)
        previous = links[positions[before - 1]] if before else GENESIS
        if position not in links:
            problems.append(f"position {position}: inserted: not in the old seal")
        elif legacy_link(previous, event) != links[position]:
            problems.append(f"position {position}: altered: does not match the old seal")
    problems += [f"position {p}: deleted: in the old seal but missing" for p in sorted(set(links) - seen)]
    if digest is not None:
        at, _, prefix = digest.partition(":")
        if not links.get(int(at), "").startswith(prefix):
            problems.append(f"position {at}: the old seal differs from the published digest {digest}")
    return problems, after


@contextmanager
def writable(location: Location) -> Iterator[Any]:
    """A cursor in one write transaction on the store (committed if the block ends well)."""
    if location.kind == "sqlite":
        with closing(sqlite3.connect(location.sqlite_path, isolation_level=None, timeout=30)) as conn:
            conn.row_factory = sqlite3.Row
            cursor = conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        return
    with closing(psycopg.connect(location.conninfo(), row_factory=dict_row)) as conn, conn.transaction():
        yield conn.cursor()


def existing_store(service: str, environ: Mapping[str, str]) -> Location | None:
    """Where ``service``'s store is, or None (said on stderr) when it has none to work on."""
    if service not in STORED:
        print(f"sanctuary: no service {service!r} with a store", file=sys.stderr)
        return None
    location = locate(service, environ)
    if location.kind == "sqlite" and not location.sqlite_path.exists():
        print(f"sanctuary: {service} has no store at {location.sqlite_path}", file=sys.stderr)
        return None
    return location


def reseal(service: str, by: str, digest: str | None = None, environ: Mapping[str, str] | None = None) -> int:
    """0 resealed, 1 the old seal does not verify (nothing changed), 2 refused."""
    environ = os.environ if environ is None else environ
    location = existing_store(service, environ)
    if location is None:
        return REFUSED
    try:
        keys = SealKeys.load(Settings.from_env(dict(environ)).data_dir, environ)
        _check_stopped(location)
        witnessed = heard(environ, keys).get(service)
        if witnessed:  # its chain is gone: that is for `audit verify`, not an upgrade
            raise ResealRefused(f"{service} was sealed the new way: {witnessed[0]['witness']} heard its "
                                f"chain reach {max(h['position'] for h in witnessed)}; run `sanctuary audit "
                                f"verify {service}`")
        with writable(location) as cursor:
            return _reseal(cursor, tables_of(location), keys, by, digest)
    except (BackupError, ResealRefused, MissingSecret) as error:
        print(f"sanctuary: {error}", file=sys.stderr)
        return REFUSED


class ResealRefused(Exception):
    pass


def _reseal(cursor: Any, tables: Tables, keys: SealKeys, by: str, digest: str | None) -> int:
    view = StoreView(cursor, tables)
    old = tables.table("seal")
    if not view.has(tables.events_table) or not view.has(old):
        raise ResealRefused(f"{tables.name} has no seal of the old kind ({old}): nothing to reseal")
    if view.chain():
        raise ResealRefused(f"{tables.name} is sealed the new way already")
    links = {row["notification_id"]: row["hash"] for row in view.rows(
        f"SELECT notification_id, hash FROM {tables.q(old)}")}
    problems, after = check_legacy(view, links, digest)
    sealed_to = max(links, default=0)
    print(f"{tables.name}: the old seal reaches position {sealed_to}; {len(after)} events after it were "
          "never sealed" + (f" (positions {after[0]} to {after[-1]})" if after else ""))
    if problems:
        print(f"NOT RESEALED: the old seal does not verify ({len(problems)} problem(s)):")
        for problem in problems:
            print(f"  {problem}")
        return FAILED
    prepare(tables, cursor)
    ledger = Ledger(tables, keys)
    positions = [event["position"] for event in view.events()]
    ledger.append(cursor, "resealed", "", {
        "by": by, "release": version(), "old_digest": digest_of(sealed_to, links.get(sealed_to, GENESIS)),
        "old_sealed_to": sealed_to, "never_sealed": [after[0], after[-1]] if after else [],
        "events": len(positions)})
    held = view.subject_keys() or {}
    for subject, row in sorted(held.items()):
        if row["key"] is None:
            ledger.append(cursor, "key-erased", subject, {"at_reseal": True})
        else:
            ledger.append(cursor, "key-created", subject, {
                "fingerprint": ledger.fingerprint(subject, bytes(row["key"])), "at_reseal": True})
    tracked = sorted((row["application_name"], row["notification_id"]) for row in view.tracking() or [])
    for name, position in tracked:
        ledger.append(cursor, "tracked", name, {"position": position, "at_reseal": True})
    Chain(tables, keys, ledger).seal(cursor, positions)
    head = Chain(tables, keys, ledger).head(cursor)
    now = digest_of(head["notification_id"], head["mac"]) if head else digest_of(0, GENESIS)
    print(f"RESEALED: {len(positions)} events under key {keys.current_id}, {len(held)} subject keys "
          f"and {len(tracked)} tracking rows recorded, by {by}; digest now {now}")
    return 0
