"""``sanctuary audit verify`` and ``sanctuary audit digest``: the stores read directly, read-only.

The auditor's check does not go through a service: it opens each store as it lies on disk
(SQLite read-only; PostgreSQL in one read-only snapshot), creates nothing and installs
nothing, so a trigger taken off or a table dropped is seen as it is. It needs the sealing
key(s) the services use (``SANCTUARY_SEAL_KEY`` or ``_FILE``).

A service's store is checked against the heads every other service witnessed, read before
the store itself: a head is only ever published after its events were committed, so a head
beyond the store's snapshot means the store lost events.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager

import psycopg
from psycopg.rows import dict_row

from sanctuary.audit_commands import Progress
from sanctuary.backup import STORED, Location, locate
from shared.audit import Verdict, check, describe, digest_of, heads_held, where
from shared.chain import GENESIS, Tables
from shared.config import Settings
from shared.seal_key import SealKeys
from shared.secrets import MissingSecret
from shared.store_view import StoreView

SHOWN = 20  # problems listed per store; the rest are counted


def tables_of(location: Location) -> Tables:
    sqlite = location.kind == "sqlite"
    events = "stored_events" if sqlite else f"{location.service}_events"
    return Tables(location.kind, "" if sqlite else location.schema, location.service, events)


@contextmanager
def opened(location: Location) -> Iterator[StoreView | None]:
    """A read-only snapshot of the store; None when there is no store at all."""
    tables = tables_of(location)
    if location.kind == "sqlite":
        if not location.sqlite_path.exists():
            yield None
            return
        uri = f"{location.sqlite_path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)) as conn:
            conn.row_factory = sqlite3.Row
            cursor = conn.cursor()
            cursor.execute("BEGIN")
            view = StoreView.opened(cursor, tables)
            yield view if present(view) else None
            conn.rollback()
        return
    with closing(psycopg.connect(location.conninfo(), row_factory=dict_row)) as conn:
        view = StoreView.opened(conn.cursor(), tables)
        yield view if present(view) else None
        conn.rollback()


def present(view: StoreView) -> bool:
    """Whether there is a store: its events, or what sealed them (a log dropped is not "no store")."""
    t = view.tables
    return any(view.has(table) for table in (t.events_table, t.table("chain"), t.table("ledger")))


def heard(environ: Mapping[str, str], keys: SealKeys) -> dict[str, list[dict]]:
    """Every head each store has witnessed, by the service whose head it is: those recorded as they
    were heard, or adopted by ``audit upgrade`` (one altered or made up is the witness's problem,
    named when its store is verified)."""
    heads: dict[str, list[dict]] = {}
    for witness in STORED:
        with opened(locate(witness, environ)) as view:
            for row in heads_held(view, keys) if view is not None else []:
                if row["origin"] != witness:
                    heads.setdefault(row["origin"], []).append({**row, "witness": witness})
    return heads


def newest(service: str, environ: Mapping[str, str]) -> int:
    with opened(locate(service, environ)) as view:
        return view.newest() if view is not None else 0


def verify_one(service: str, keys: SealKeys, heads: list[dict], digest: str | None,
               environ: Mapping[str, str], progress: Progress | None = None) -> tuple[Verdict | None, str]:
    """The verdict on one store (None: it has no store) and its digest now."""
    with opened(locate(service, environ)) as view:
        if view is None:
            verdict = None
            if heads:  # a store the others heard from is gone
                verdict = Verdict(problems=[{"position": 1, "what": "deleted: the store is gone, but "
                                             f"{heads[0]['witness']} heard its chain reach "
                                             f"{max(h['position'] for h in heads)}"}])
            return verdict, digest_of(0, GENESIS)
        verdict = check(view, keys, digest, heads, step=progress.step if progress else None)
    return verdict, digest_of(verdict.sealed_to, verdict.head)


def verify(service: str | None, digest: str | None, every: bool = False,
           environ: Mapping[str, str] | None = None) -> int:
    """``audit verify <service>`` or ``audit verify --all``: 0 all well, 1 tampered, 2 refused."""
    environ = os.environ if environ is None else environ
    if every == (service is not None):
        print("sanctuary: name one service, or --all", file=sys.stderr)
        return 2
    if service is not None and service not in STORED:
        print(f"sanctuary: no service {service!r} with a store", file=sys.stderr)
        return 2
    if every and digest:
        print("sanctuary: --digest names one service's digest; give the service", file=sys.stderr)
        return 2
    try:
        keys = SealKeys.load(Settings.from_env(dict(environ)).data_dir, environ)
    except MissingSecret as error:
        print(f"sanctuary: the sealing key is needed to verify: {error}", file=sys.stderr)
        return 2
    heads = heard(environ, keys)
    if service is not None:
        verdict, now = verify_one(service, keys, heads.get(service, []), digest, environ)
        report(service, verdict, now, digest)
        return 0 if verdict is None or verdict.ok else 1
    verdicts = {}
    with Progress("events checked", sum(newest(name, environ) for name in STORED)) as progress:
        for name in STORED:
            progress.label = name
            verdicts[name] = verify_one(name, keys, heads.get(name, []), None, environ, progress)
    for name, (verdict, now) in verdicts.items():
        report(name, verdict, now, None)
    return summary(verdicts)


def report(service: str, verdict: Verdict | None, now: str, digest: str | None) -> None:
    if verdict is None:
        print(f"{service}: no store yet, nothing to verify")
        return
    witnesses = sorted(verdict.witnessed_by)
    print(f"{service}: {verdict.checked} events checked against the chain (to position {verdict.sealed_to}), "
          f"{verdict.ledger} ledger records; sealed under {', '.join(verdict.keys) or 'no key yet'}; "
          f"{verdict.witnessed} heads witnessed by {', '.join(witnesses) or 'no other service'}"
          f"{f' (to position {verdict.witnessed_to})' if verdict.witnessed else ''}; digest now {now}")
    for note in verdict.notes:
        print(f"  {note}")
    if verdict.ok:
        print("OK: nothing altered, deleted, inserted or truncated"
              + (f"; matches digest {digest}" if digest else ""))
        return
    if only_not_upgraded(verdict):
        print(f"NOT UPGRADED: {verdict.problems[0]['what']}")
        return
    first = verdict.first()
    named = f" ({first['topic']}, version {first['version']})" if "topic" in first else ""
    print(f"TAMPERED: {len(verdict.problems)} problem(s); the first at {describe(first)}: "
          f"{first['what']}{named}")
    problems = sorted(verdict.problems, key=where)
    for problem in problems[:SHOWN]:
        print(f"  {describe(problem)}: {problem['what']}")
    if len(problems) > SHOWN:
        print(f"  ... and {len(problems) - SHOWN} more")


def only_not_upgraded(verdict: Verdict) -> bool:
    """Whether all that is wrong is that the release before wrote the store (no tampering found)."""
    return all(problem.get("upgrade") for problem in verdict.problems)


def summary(verdicts: dict[str, tuple[Verdict | None, str]]) -> int:
    tampered = [name for name, (verdict, _) in verdicts.items() if verdict is not None and not verdict.ok]
    stores = [name for name, (verdict, _) in verdicts.items() if verdict is not None]
    print("\nsummary:")
    for name, (verdict, now) in verdicts.items():
        if verdict is None:
            state = "no store"
        elif verdict.ok:
            state = f"OK        {verdict.checked} events, witnessed to {verdict.witnessed_to}, digest {now}"
        elif only_not_upgraded(verdict):
            state = f"NOT UPGRADED  run `sanctuary audit upgrade {name} --by <you>`"
        else:
            first = verdict.first()
            state = f"TAMPERED  first at {describe(first)}: {first['what']}"
        print(f"  {name:<14}{state}")
    waiting = [name for name in tampered if only_not_upgraded(verdicts[name][0])]
    tampered = [name for name in tampered if name not in waiting]
    print(f"{len(stores)} stores verified: {len(stores) - len(tampered) - len(waiting)} OK, {len(tampered)} "
          f"TAMPERED" + (f" ({', '.join(tampered)})" if tampered else "")
          + (f", {len(waiting)} NOT UPGRADED ({', '.join(waiting)})" if waiting else ""))
    return 1 if tampered or waiting else 0


def digest(service: str, environ: Mapping[str, str] | None = None) -> int:
    """The digest to publish by hand: the chain's newest position and the start of its link."""
    environ = os.environ if environ is None else environ
    if service not in STORED:
        print(f"sanctuary: no service {service!r} with a store", file=sys.stderr)
        return 2
    with opened(locate(service, environ)) as view:
        chain = (view.chain() if view is not None else None) or {}
    newest = max(chain, default=0)
    print(digest_of(newest, chain[newest]["mac"] if newest else GENESIS))
    return 0
