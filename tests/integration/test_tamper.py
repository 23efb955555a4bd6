"""The tamper suite, on SQLite and PostgreSQL: someone who can write a service's database, but
cannot read the sealing key, changes it behind the services' backs; ``sanctuary audit verify``
must catch every change on its own (no digest published by hand), name the first position it
touched, and exit non-zero. An untouched store verifies clean, also after a process was killed
at any point of a write.

Each case starts from a store made by the applications' own code: three pledge journeys in the
pledges service (a sealing-key rotation after the first, a refused registration, one person's
data erased), the applications service learning of them from the pledges' public events, an
account invited; then every service has heard the others' chain heads, as their relays publish
them. The "attacker" is the tables' owner, who takes triggers off to make a change and, where
the database lets them, puts them back afterwards, so only the seal can tell.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from sanctuary.cli import main
from services.accounts.application import Accounts
from services.applications.application import Applications
from services.pledges.application import Pledges
from services.pledges.contract import PLEDGES
from shared.authority import Authority
from shared.chain import GENESIS, Tables
from shared.clock import FixedClock
from shared.config import ROOT
from shared.consumer import consume
from shared.errors import Conflict
from shared.personal import subject_for_email, subject_for_name
from shared.protection import guards
from shared.witness import head_event, head_of, witness
from tests.components import Store

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
SCHOOLS = ("100001", "100002", "100003")
ERASED = subject_for_email("coordinator@100002.example.org")


# -- the store, made by the applications -----------------------------------------------------------


@dataclass
class Made:
    """What the store holds: the pledges log's positions, and where each school begins."""

    log: list[int]
    starts: dict[str, int] = field(default_factory=dict)
    gap: int | None = None  # PostgreSQL's sequence skips the refused registration's number


def journey(app: Pledges, urn: str) -> None:
    contact = {"name": f"Coordinator {urn}", "email": f"coordinator@{urn}.example.org"}
    app.register_school("account:lead", urn, f"School {urn}", "primary", "CV1 2AB", contact)
    app.express_interest("account:lead", urn)
    app.record_commitment("account:lead", urn, "slt", "Ms Head", "Head teacher")
    app.record_commitment("account:lead", urn, "governors", "Mr Chair", "Chair")
    app.sign_pledge("account:coordinator", urn, "Ms Head", "Head teacher")


def rotate_sealing_key(store: Store) -> None:
    """The operator adds a new key after the old one (kept, to check what it sealed)."""
    path = store.settings.data_dir / "secrets" / "seal_key"
    path.write_text(f"{path.read_text().strip()}\n{secrets.token_urlsafe(48)}\n")


def make(store: Store, authority: Authority) -> Made:
    clock = FixedClock(NOW)
    pledges = Pledges(env=store.env("pledges"), rules=authority.pledge, clock=clock)
    journey(pledges, SCHOOLS[0])
    pledges.close()
    rotate_sealing_key(store)
    pledges = Pledges(env=store.env("pledges"), rules=authority.pledge, clock=clock)
    applications = Applications(env=store.env("applications"), authority=authority, clock=clock)
    accounts = Accounts(env=store.env("accounts"), secret_key="k" * 40, clock=clock,
                        send_link=lambda *_: None)
    apps = (pledges, applications, accounts)
    try:
        journey(pledges, SCHOOLS[1])
        with pytest.raises(Conflict):  # refused: on PostgreSQL its number is never used
            pledges.register_school("account:lead", SCHOOLS[1], "Again", "primary", "CV1 2AB",
                                    {"name": "Bo", "email": "bo@example.org"})
        journey(pledges, SCHOOLS[2])
        assert pledges.erase_subject(ERASED)
        for notification in pledges.recorder.select_notifications(start=1, limit=1000):
            domain_event = pledges.mapper.to_domain_event(notification)
            event = PLEDGES.envelope(domain_event, notification.id, "coventry")
            if event is not None:
                consume(applications, event.to_dict(), applications.learn_pledge_news)
        accounts.invite(None, "lead@example.org", "Lena Lead", [{"role": "lead"}], actor="system:cli")
        for app in apps:  # each relay publishes its head; every other service records it
            event = head_event(app.name.lower(), head_of(app), "coventry")
            for other in apps:
                witness(other, event.to_dict())
        log = [n.id for n in pledges.recorder.select_notifications(start=1, limit=1000)]
    finally:
        for app in apps:
            app.close()
    gaps = sorted(set(range(1, log[-1] + 1)) - set(log))
    return Made(log, {urn: log[5 * n] for n, urn in enumerate(SCHOOLS)}, gaps[0] if gaps else None)


@pytest.fixture
def made(store: Store, coventry: Authority) -> Made:
    return make(store, coventry)


# -- the attacker: the tables' owner, with plain SQL -------------------------------------------------


@dataclass
class Owner:
    store: Store
    service: str = "pledges"

    @property
    def sqlite(self) -> bool:
        return self.store.kind == "sqlite"

    @property
    def tables(self) -> Tables:
        if self.sqlite:
            return Tables("sqlite", "", self.service, "stored_events")
        schema = self.store.env_extra["POSTGRES_SCHEMA"]
        return Tables("postgres", schema, self.service, f"{self.service}_events")

    def t(self, part: str) -> str:
        return self.tables.q(self.tables.table(part))

    @property
    def events(self) -> str:
        return self.tables.events

    @property
    def position(self) -> str:
        return self.tables.position

    @property
    def tracking(self) -> str:
        return self.tables.q(self.tables.tracking_table)

    @property
    def mark(self) -> str:
        return self.tables.mark

    def connect(self) -> Any:
        if self.sqlite:
            return sqlite3.connect(self.store.settings.data_dir / f"{self.service}.sqlite",
                                   isolation_level=None, timeout=10)
        env = self.store.env_extra
        return psycopg.connect(host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
                               user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"],
                               dbname=env["POSTGRES_DBNAME"], autocommit=True)

    def run(self, *statements: str | tuple[str, tuple]) -> list[tuple]:
        connection = self.connect()
        try:
            rows: list[tuple] = []
            for statement in statements:
                sql, params = statement if isinstance(statement, tuple) else (statement, ())
                cursor = connection.execute(sql, params)
                rows = list(cursor.fetchall()) if cursor.description else []
            return rows
        finally:
            connection.close()

    def unguarded(self, change: Callable[[], None], put_back: bool = True) -> None:
        """Make ``change`` with every trigger off; then, where the database lets the owner, put
        the triggers back exactly as they were, so only the seal can tell."""
        found = guards(self.tables, True)
        tables = {self.tables.q(g.table) for g in found}
        if self.sqlite:
            self.run(*(f"DROP TRIGGER IF EXISTS {g.name}" for g in found))
        else:
            self.run(*(f"ALTER TABLE {table} DISABLE TRIGGER ALL" for table in tables))
        change()
        if not put_back:
            return
        if self.sqlite:
            self.run(*(g.sql for g in found))
        else:
            self.run(*(f"ALTER TABLE {table} ENABLE TRIGGER ALL" for table in tables))

    def state(self, position: int) -> bytes:
        [(state,)] = self.run((f"SELECT state FROM {self.events} WHERE {self.position} = {self.mark}",
                               (position,)))
        return bytes(state)

    def set(self, position: int, column: str, value: Any) -> None:
        self.run((f"UPDATE {self.events} SET {column} = {self.mark} WHERE {self.position} = {self.mark}",
                  (value, position)))

    def delete(self, position: int, link: bool = False) -> None:
        self.run((f"DELETE FROM {self.events} WHERE {self.position} = {self.mark}", (position,)))
        if link:
            self.run((f"DELETE FROM {self.t('chain')} WHERE notification_id = {self.mark}", (position,)))

    def insert_copy(self, of: int, at: int | None = None) -> None:
        """A copy of the event at ``of`` under a new aggregate, at position ``at`` if given."""
        [(topic, state)] = self.run((f"SELECT topic, state FROM {self.events} WHERE {self.position} = "
                                     f"{self.mark}", (of,)))
        aggregate = uuid.uuid4()
        columns = ["originator_id", "originator_version", "topic", "state"]
        values: list[Any] = [aggregate.hex if self.sqlite else aggregate, 1, topic, bytes(state)]
        if at is not None:
            columns.append(self.position)
            values.append(at)
        marks = ", ".join([self.mark] * len(values))
        self.run((f"INSERT INTO {self.events} ({', '.join(columns)}) VALUES ({marks})", tuple(values)))

    def swap(self, a: int, b: int) -> None:
        """Two events change places: each takes the other's aggregate, version, topic and bytes."""
        rows = {p: self.run((f"SELECT originator_id, originator_version, topic, state FROM {self.events} "
                             f"WHERE {self.position} = {self.mark}", (p,)))[0] for p in (a, b)}
        parked = uuid.uuid4().hex if self.sqlite else uuid.uuid4()
        self.set(a, "originator_id", parked)
        for target, source in ((b, a), (a, b)):
            oid, version, topic, state = rows[source]
            self.run((f"UPDATE {self.events} SET originator_id = {self.mark}, "
                      f"originator_version = {self.mark}, topic = {self.mark}, state = {self.mark} "
                      f"WHERE {self.position} = {self.mark}",
                      (oid, version, topic, bytes(state), target)))

    def links(self) -> list[tuple]:
        return self.run(f"SELECT notification_id, previous, key_id, mac FROM {self.t('chain')} "
                        "ORDER BY notification_id")

    def rewrite_links(self, links: list[tuple]) -> None:
        marks = ", ".join([self.mark] * 4)
        self.run(f"DELETE FROM {self.t('chain')}",
                 *((f"INSERT INTO {self.t('chain')} VALUES ({marks})", row) for row in links))

    def log(self) -> list[tuple]:
        return self.run(f"SELECT {self.position}, originator_id, originator_version, topic, state "
                        f"FROM {self.events} ORDER BY {self.position}")


def forged_links(owner: Owner, mac: Callable[[str, tuple], str], key_id: Callable[[str], str]) -> list[tuple]:
    """The chain recomputed over the log as it stands, with ``mac`` (no sealing key)."""
    previous, before, links = GENESIS, 0, []
    for row in owner.log():
        old_key = key_id(str(row[0]))
        previous = mac(previous, (before, *row))
        links.append((row[0], before, old_key, previous))
        before = row[0]
    return links


# -- the auditor -------------------------------------------------------------------------------------


def verify(store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
           *args: str) -> tuple[int, str]:
    """``sanctuary audit verify ...``, in this process, with the services' settings."""
    for name, value in store.os_environ().items():
        monkeypatch.setenv(name, value)
    code = main(["audit", "verify", *args])
    return code, capsys.readouterr().out


def caught(store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
           first: int | str, service: str = "pledges") -> str:
    code, out = verify(store, monkeypatch, capsys, service)
    assert code == 1, out
    where = f"position {first}" if isinstance(first, int) else first
    assert f"the first at {where}:" in out, out
    return out


# -- an untouched store ------------------------------------------------------------------------------


def test_an_untouched_store_verifies_clean(store: Store, made: Made, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture) -> None:
    code, out = verify(store, monkeypatch, capsys, "pledges")
    assert code == 0, out
    assert f"{len(made.log)} events checked against the chain (to position {made.log[-1]})" in out
    assert "heads witnessed by accounts, applications" in out
    assert "OK: nothing altered, deleted, inserted or truncated" in out
    keys = Owner(store).run(f"SELECT DISTINCT key_id FROM {Owner(store).t('chain')}")
    assert len(keys) == 2  # sealed under two keys: the rotation is followed
    code, out = verify(store, monkeypatch, capsys, "--all")
    assert code == 0, out
    assert "3 stores verified: 3 OK, 0 TAMPERED" in out


# -- the cases ---------------------------------------------------------------------------------------


def test_altered_state(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner, at = Owner(store), made.log[7]
    owner.unguarded(lambda: owner.set(at, "state", owner.state(at).replace(b'"slt"', b'"pta"')))
    assert "altered: does not match its link" in caught(store, monkeypatch, capsys, at)


def test_altered_topic(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner, at = Owner(store), made.log[3]
    owner.unguarded(lambda: owner.set(at, "topic", "services.pledges.domain:School.PledgeWithdrawn"))
    caught(store, monkeypatch, capsys, at)


def test_altered_timestamp(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner, at = Owner(store), made.log[4]
    state = json.loads(owner.state(at))
    state["timestamp"]["_data_"] = "2020-01-01T09:00:00+00:00"
    owner.unguarded(lambda: owner.set(at, "state", json.dumps(state, separators=(",", ":")).encode()))
    caught(store, monkeypatch, capsys, at)


@pytest.mark.parametrize("which", ["first", "middle", "last"])
def test_an_event_deleted(store: Store, made: Made, monkeypatch, capsys, which: str) -> None:
    owner, at = Owner(store), {"first": made.log[0], "middle": made.log[6], "last": made.log[-1]}[which]
    owner.unguarded(lambda: owner.delete(at))
    assert "deleted: sealed but missing" in caught(store, monkeypatch, capsys, at)


@pytest.mark.parametrize("which", ["first", "middle", "last"])
def test_an_event_deleted_with_its_link(store: Store, made: Made, monkeypatch, capsys, which: str) -> None:
    owner, at = Owner(store), {"first": made.log[0], "middle": made.log[6], "last": made.log[-1]}[which]
    owner.unguarded(lambda: owner.delete(at, link=True))
    out = caught(store, monkeypatch, capsys, at)
    assert ("truncated" if which == "last" else "the event and its link are gone") in out


def test_an_event_inserted_in_the_middle(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner = Owner(store)
    if made.gap is not None:  # PostgreSQL: into the number the sequence skipped
        owner.unguarded(lambda: owner.insert_copy(made.log[0], at=made.gap))
        assert "inserted: not in the chain" in caught(store, monkeypatch, capsys, made.gap)
        return
    at = made.log[6]  # SQLite numbers rows without gaps: the forgery takes a deleted event's place
    owner.unguarded(lambda: (owner.delete(at), owner.insert_copy(made.log[0], at=at)))
    caught(store, monkeypatch, capsys, at)


def test_an_event_inserted_at_the_end(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner = Owner(store)
    owner.unguarded(lambda: owner.insert_copy(made.log[1]))
    [(newest,)] = owner.run(f"SELECT MAX({owner.position}) FROM {owner.events}")
    assert newest > made.log[-1]
    assert "inserted: not in the chain" in caught(store, monkeypatch, capsys, newest)


def test_two_events_reordered(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner, a, b = Owner(store), made.log[5], made.log[9]
    owner.unguarded(lambda: owner.swap(a, b))
    assert f"position {b}: altered" in caught(store, monkeypatch, capsys, a)


@pytest.mark.parametrize("which", ["some", "all"])
def test_links_deleted(store: Store, made: Made, monkeypatch, capsys, which: str) -> None:
    owner = Owner(store)
    gone = made.log[4:7] if which == "some" else made.log
    marks = ", ".join([owner.mark] * len(gone))
    owner.unguarded(lambda: owner.run((f"DELETE FROM {owner.t('chain')} WHERE notification_id IN ({marks})",
                                       tuple(gone))))
    assert "inserted: not in the chain" in caught(store, monkeypatch, capsys, gone[0])


def test_the_seal_table_dropped(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner = Owner(store)
    owner.run(f"DROP TABLE {owner.t('chain')}")
    out = caught(store, monkeypatch, capsys, made.log[0])
    assert "the chain table is gone" in out


def test_a_forged_old_seal_is_not_resealed(store: Store, made: Made, monkeypatch, capsys) -> None:
    """The chain dropped and an unkeyed seal of an earlier release forged in its place, hoping an
    operator will reseal the rewritten log: the others witnessed the real chain, so it is refused."""
    owner = Owner(store)
    owner.run(f"DROP TABLE {owner.t('chain')}",
              f"CREATE TABLE {owner.t('seal')} (notification_id BIGINT PRIMARY KEY, hash TEXT NOT NULL)")
    for name, value in store.os_environ().items():
        monkeypatch.setenv(name, value)
    code = main(["audit", "reseal", "pledges", "--by", "Mallory"])
    assert code == 2 and "accounts heard its chain reach" in capsys.readouterr().err


@pytest.mark.parametrize("forger", ["unkeyed", "another key"])
def test_the_chain_recomputed_without_the_key(store: Store, made: Made, monkeypatch, capsys,
                                              forger: str) -> None:
    owner = Owner(store)
    kept = {row[0]: row[2] for row in owner.links()}
    guess = secrets.token_bytes(32)

    def unkeyed(previous: str, row: tuple) -> str:
        return hashlib.sha256(repr((previous, row)).encode()).hexdigest()

    def keyed(previous: str, row: tuple) -> str:
        return hmac.new(guess, repr((previous, row)).encode(), hashlib.sha256).hexdigest()

    mac, key_id = (unkeyed, lambda p: kept[int(p)]) if forger == "unkeyed" else (
        keyed, lambda _: hmac.new(guess, b"sanctuary seal key id", hashlib.sha256).hexdigest()[:16])
    owner.unguarded(lambda: owner.rewrite_links(forged_links(owner, mac, key_id)))
    assert "altered" in caught(store, monkeypatch, capsys, made.log[0])


@pytest.mark.parametrize("cut", [3, "all"])
def test_the_log_truncated_with_its_seal(store: Store, made: Made, monkeypatch, capsys, cut: Any) -> None:
    owner = Owner(store)
    gone = made.log if cut == "all" else made.log[-cut:]
    owner.unguarded(lambda: [owner.delete(at, link=True) for at in gone])
    first = 1 if cut == "all" else made.log[-cut - 1] + 1
    assert "truncated: the chain ends at" in caught(store, monkeypatch, capsys, first)


def test_the_store_put_back_to_an_earlier_copy(store: Store, coventry: Authority, made: Made,
                                               monkeypatch, capsys) -> None:
    """Roll back: the store as it was, then one more school; the earlier copy put back (as a
    restore from an old backup would, or someone hiding the last school)."""
    owner = Owner(store)
    before = owner.log(), owner.links(), owner.run(f"SELECT * FROM {owner.t('ledger')}")
    app = Pledges(env=store.env("pledges"), rules=coventry.pledge)
    accounts = Accounts(env=store.env("accounts"), secret_key="k" * 40, send_link=lambda *_: None)
    try:
        journey(app, "100009")
        witness(accounts, head_event("pledges", head_of(app), "coventry").to_dict())
    finally:
        app.close()
        accounts.close()

    def put_back() -> None:
        keep = made.log[-1]
        owner.run((f"DELETE FROM {owner.events} WHERE {owner.position} > {owner.mark}", (keep,)),
                  (f"DELETE FROM {owner.t('chain')} WHERE notification_id > {owner.mark}", (keep,)),
                  (f"DELETE FROM {owner.t('ledger')} WHERE seq > {owner.mark}", (len(before[2]),)))
    owner.unguarded(put_back)
    assert "truncated" in caught(store, monkeypatch, capsys, made.log[-1] + 1)


@pytest.mark.parametrize("how", ["shredded", "deleted"])
def test_a_subject_key_destroyed(store: Store, made: Made, monkeypatch, capsys, how: str) -> None:
    owner, subject = Owner(store), subject_for_name(SCHOOLS[0], "Ms Head")
    keys = owner.t("subject_keys")
    if how == "shredded":  # the one change the keys' trigger allows, made without an erasure
        owner.run((f"UPDATE {keys} SET key = NULL WHERE subject = {owner.mark}", (subject,)))
    else:
        owner.unguarded(lambda: owner.run((f"DELETE FROM {keys} WHERE subject = {owner.mark}", (subject,))))
    first = made.starts[SCHOOLS[0]] + 2  # the first commitment names Ms Head
    assert "key missing" in caught(store, monkeypatch, capsys, first)


def test_a_recorded_erasure_removed(store: Store, made: Made, monkeypatch, capsys) -> None:
    """Hiding that a key was erased (to pass a destroyed key off as never there)."""
    owner = Owner(store)
    ledger = owner.t("ledger")
    owner.unguarded(lambda: owner.run((f"DELETE FROM {ledger} WHERE kind = 'key-erased' AND subject = "
                                       f"{owner.mark}", (ERASED,))))
    out = caught(store, monkeypatch, capsys, made.starts[SCHOOLS[1]])
    assert "key missing" in out and "the ledger ends at" in out  # the others heard it longer


def test_a_subject_key_replaced(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner, subject = Owner(store), subject_for_name(SCHOOLS[2], "Mr Chair")
    keys = owner.t("subject_keys")
    owner.unguarded(lambda: owner.run((f"UPDATE {keys} SET key = {owner.mark} WHERE subject = {owner.mark}",
                                       (os.urandom(32), subject))))
    assert "is not the key the ledger recorded" in caught(store, monkeypatch, capsys,
                                                          made.starts[SCHOOLS[2]] + 3)


def test_the_triggers_dropped(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner = Owner(store)
    owner.unguarded(lambda: None, put_back=False)
    out = caught(store, monkeypatch, capsys, "the store")
    assert f"the trigger {guards(owner.tables, True)[0].name} on {owner.tables.events_table} is " in out


def test_the_triggers_disabled_or_defused(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner = Owner(store)
    chain = owner.tables.table("chain")
    if owner.sqlite:  # SQLite cannot disable a trigger: one that does nothing under the same name
        owner.run(f"DROP TRIGGER {chain}_no_delete",
                  f"CREATE TRIGGER {chain}_no_delete BEFORE DELETE ON {chain} BEGIN SELECT 1; END")
        what = "was changed"
    else:
        owner.run(f"ALTER TABLE {owner.t('chain')} DISABLE TRIGGER ALL")
        what = "is disabled"
    trigger = f"{chain}_{'no_delete' if owner.sqlite else 'append_only'}"
    assert f"the trigger {trigger} on {chain} {what}" in caught(store, monkeypatch, capsys, "the store")


def test_the_trigger_function_defused(store: Store, made: Made, monkeypatch, capsys) -> None:
    """PostgreSQL: every trigger still there and enabled, but its function made harmless."""
    if store.kind == "sqlite":
        pytest.skip("SQLite triggers have no functions")
    schema = store.env_extra["POSTGRES_SCHEMA"]
    Owner(store).run(f"CREATE OR REPLACE FUNCTION {schema}.sanctuary_append_only() RETURNS trigger "
                     "LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$")
    assert "was changed" in caught(store, monkeypatch, capsys, "the store")


# -- tracking: which of the pledges' events the applications service has processed -------------------


def tracked(owner: Owner) -> list[tuple[str, int, int]]:
    """The tracking rows, oldest first, each with the ledger record that recorded it."""
    records = {(subject, json.loads(detail)["position"]): seq for seq, subject, detail in owner.run(
        f"SELECT seq, subject, detail FROM {owner.t('ledger')} WHERE kind = 'tracked'")}
    rows = owner.run(f"SELECT application_name, notification_id FROM {owner.tracking}")
    return sorted((name, position, records[(name, position)]) for name, position in rows)


def untrack(owner: Owner, name: str, position: int) -> None:
    owner.run((f"DELETE FROM {owner.tracking} WHERE application_name = "
               f"{owner.mark} AND notification_id = {owner.mark}", (name, position)))


def test_a_tracking_row_deleted(store: Store, made: Made, monkeypatch, capsys) -> None:
    """The applications service would process that pledges event again."""
    owner = Owner(store, "applications")
    name, position, seq = tracked(owner)[4]
    owner.unguarded(lambda: untrack(owner, name, position))
    out = caught(store, monkeypatch, capsys, f"ledger record {seq}", "applications")
    assert f"the tracking row of pledges at {position}, which this record recorded, is gone" in out


def test_a_tracking_row_altered(store: Store, made: Made, monkeypatch, capsys) -> None:
    """Moved on past an event, so that it is never processed."""
    owner = Owner(store, "applications")
    name, position, seq = tracked(owner)[2]
    owner.unguarded(lambda: owner.run((f"UPDATE {owner.tracking} SET notification_id = {owner.mark} WHERE "
                                       f"application_name = {owner.mark} AND notification_id = {owner.mark}",
                                       (position + 1000, name, position))))
    out = caught(store, monkeypatch, capsys, f"ledger record {seq}", "applications")
    assert f"tracking row pledges at {position + 1000}: inserted (or altered)" in out


def test_a_tracking_row_inserted(store: Store, made: Made, monkeypatch, capsys) -> None:
    """A pledges event marked as processed that never was (its effects would never happen)."""
    owner = Owner(store, "applications")
    owner.unguarded(lambda: owner.run((f"INSERT INTO {owner.tracking} (application_name, notification_id) "
                                       f"VALUES ({owner.mark}, {owner.mark})", ("pledges", 9999))))
    out = caught(store, monkeypatch, capsys, "tracking row pledges at 9999", "applications")
    assert "the ledger does not record" in out


def test_a_tracking_row_deleted_with_its_ledger_record(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner = Owner(store, "applications")
    name, position, seq = tracked(owner)[4]
    owner.unguarded(lambda: (untrack(owner, name, position), owner.run(
        (f"DELETE FROM {owner.t('ledger')} WHERE seq = {owner.mark}", (seq,)))))
    out = caught(store, monkeypatch, capsys, f"ledger record {seq}", "applications")
    assert f"deleted: ledger records {seq} to {seq} are gone" in out


# -- the auditor's own cases ---------------------------------------------------------------------------


def ledger(owner: Owner) -> list[tuple]:
    return owner.run(f"SELECT seq, kind, subject, detail FROM {owner.t('ledger')} ORDER BY seq")


def test_a_witnessed_head_altered_in_another_store(store: Store, made: Made, monkeypatch, capsys) -> None:
    """The head accounts heard from pledges changed: its MAC no longer holds, so verify names
    accounts' record as altered, and does not hold it against pledges."""
    accounts = Owner(store, "accounts")
    [(position,)] = accounts.run(f"SELECT position FROM {accounts.t('witness')} WHERE origin = 'pledges'")
    accounts.unguarded(lambda: accounts.run(f"UPDATE {accounts.t('witness')} SET digest = '{'0' * 64}' "
                                            "WHERE origin = 'pledges'"))
    out = caught(store, monkeypatch, capsys, f"the head heard from pledges at {position}", "accounts")
    assert "does not match its MAC" in out
    code, out = verify(store, monkeypatch, capsys, "pledges")
    assert code == 0 and "witnessed by applications" in out, out
    code, out = verify(store, monkeypatch, capsys, "--all")
    assert code == 1 and "1 TAMPERED (accounts)" in out, out


def test_a_witnessed_head_made_up_beyond_the_log(store: Store, made: Made, monkeypatch, capsys) -> None:
    """A head pledges never published, put in accounts' store to make pledges look truncated."""
    accounts = Owner(store, "accounts")
    row = ("pledges", made.log[-1] + 5, "1" * 64, 1, "2" * 64, NOW.isoformat(), NOW.isoformat(), "k", "m")
    accounts.run((f"INSERT INTO {accounts.t('witness')} (origin, position, digest, ledger, ledger_digest, "
                  f"published_at, heard_at, key_id, mac) VALUES ({', '.join([accounts.mark] * 9)})", row))
    caught(store, monkeypatch, capsys, f"the head heard from pledges at {made.log[-1] + 5}", "accounts")
    code, out = verify(store, monkeypatch, capsys, "pledges")
    assert code == 0, out


@pytest.mark.parametrize("how", ["altered", "deleted"])
def test_a_key_rotation_record_tampered(store: Store, made: Made, monkeypatch, capsys, how: str) -> None:
    owner = Owner(store)
    [seq] = [seq for seq, kind, _, detail in ledger(owner)
             if kind == "seal-key" and json.loads(detail)["from"]]
    if how == "altered":
        change = f"UPDATE {owner.t('ledger')} SET detail = '{{\"from\":null,\"to\":\"x\"}}' WHERE seq = {seq}"
    else:
        change = f"DELETE FROM {owner.t('ledger')} WHERE seq = {seq}"
    owner.unguarded(lambda: owner.run(change))
    out = caught(store, monkeypatch, capsys, made.starts[SCHOOLS[1]])  # the first event under the new key
    assert f"ledger record {seq}: " in out and "with no rotation to it in the ledger" in out


def test_the_sealing_key_replaced(store: Store, made: Made, monkeypatch, capsys) -> None:
    """Someone puts a key of their own in the secret: nothing sealed verifies under it."""
    (store.settings.data_dir / "secrets" / "seal_key").write_text(secrets.token_urlsafe(48) + "\n")
    out = caught(store, monkeypatch, capsys, made.log[0])
    assert "not a sealing key" in out


def test_two_services_stores_swapped(store: Store, made: Made, monkeypatch, capsys) -> None:
    if store.kind == "sqlite":
        folder = store.settings.data_dir
        (folder / "pledges.sqlite").rename(folder / "swap")
        (folder / "applications.sqlite").rename(folder / "pledges.sqlite")
        (folder / "swap").rename(folder / "applications.sqlite")
    else:
        owner, schema = Owner(store), store.env_extra["POSTGRES_SCHEMA"]
        names = [row[0] for row in owner.run(("SELECT tablename FROM pg_tables WHERE schemaname = %s "
                                              "AND tablename LIKE 'pledges\\_%%'", (schema,)))]
        for name in names:  # every table of the one named as the other's, and back
            other = name.replace("pledges_", "applications_", 1)
            owner.run(f"ALTER TABLE {schema}.{name} RENAME TO swap_{name}",
                      f"ALTER TABLE {schema}.{other} RENAME TO {name}",
                      f"ALTER TABLE {schema}.swap_{name} RENAME TO {other}")
    code, out = verify(store, monkeypatch, capsys, "pledges")
    assert code == 1 and "TAMPERED" in out, out
    code, out = verify(store, monkeypatch, capsys, "--all")
    assert code == 1 and "2 TAMPERED (pledges, applications)" in out, out


def test_a_subject_key_ledger_record_deleted(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner, subject = Owner(store), subject_for_name(SCHOOLS[0], "Ms Head")
    [seq] = [seq for seq, kind, who, _ in ledger(owner) if kind == "key-created" and who == subject]
    owner.unguarded(lambda: owner.run(f"DELETE FROM {owner.t('ledger')} WHERE seq = {seq}"))
    out = caught(store, monkeypatch, capsys, made.starts[SCHOOLS[0]] + 2)
    assert f"ledger record {seq}: deleted" in out and f"the key of {subject} is not in the ledger" in out


def test_the_newest_ledger_record_deleted(store: Store, made: Made, monkeypatch, capsys) -> None:
    """The tail of the ledger (not of the log), here the erasure: the heads the others heard carry
    the ledger's length, and the key it accounted for is missing from the first event naming it."""
    owner = Owner(store)
    newest, kind, _, _ = ledger(owner)[-1]
    assert kind == "key-erased"
    owner.unguarded(lambda: owner.run(f"DELETE FROM {owner.t('ledger')} WHERE seq = {newest}"))
    out = caught(store, monkeypatch, capsys, made.starts[SCHOOLS[1]])
    assert f"ledger record {newest}: truncated: the ledger ends at {newest - 1}" in out
    assert "key missing" in out


def test_a_links_mac_altered_alone(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner, at = Owner(store), made.log[8]
    owner.unguarded(lambda: owner.run(f"UPDATE {owner.t('chain')} SET mac = '{'a' * 64}' "
                                      f"WHERE notification_id = {at}"))
    assert f"position {at}: altered: does not match its link" in caught(store, monkeypatch, capsys, at)


def test_a_links_previous_altered(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner, at = Owner(store), made.log[8]
    owner.unguarded(lambda: owner.run(f"UPDATE {owner.t('chain')} SET previous = {made.log[6]} "
                                      f"WHERE notification_id = {at}"))
    caught(store, monkeypatch, capsys, made.log[7])


@pytest.mark.parametrize("what", ["events and links", "events only"])
def test_the_positions_renumbered(store: Store, made: Made, monkeypatch, capsys, what: str) -> None:
    """Every event moved on by 1000 (and its link with it): the positions are part of each MAC."""
    owner = Owner(store)
    changes = [f"UPDATE {owner.events} SET {owner.position} = {owner.position} + 1000"]
    if what == "events and links":
        changes.append(f"UPDATE {owner.t('chain')} SET notification_id = notification_id + 1000, "
                       "previous = CASE WHEN previous = 0 THEN 0 ELSE previous + 1000 END")
    owner.unguarded(lambda: owner.run(*changes))
    if what == "events only":
        assert "deleted: sealed but missing" in caught(store, monkeypatch, capsys, made.log[0])
        return
    # named from the newest link the others heard of (no link or event is left at a position
    # before it), and then every event where it now lies
    out = caught(store, monkeypatch, capsys, made.log[-1])
    assert f"position {made.log[0] + 1000}: altered: does not match its link" in out


def test_the_subject_keys_table_dropped(store: Store, made: Made, monkeypatch, capsys) -> None:
    """Every person's data destroyed at once, the table and its triggers with it."""
    owner = Owner(store)
    owner.run(f"DROP TABLE {owner.t('subject_keys')}")
    out = caught(store, monkeypatch, capsys, made.starts[SCHOOLS[0]])
    assert "the subject keys table is gone" in out


def test_the_events_table_dropped(store: Store, made: Made, monkeypatch, capsys) -> None:
    owner = Owner(store)
    owner.run(f"DROP TABLE {owner.events}")
    out = caught(store, monkeypatch, capsys, made.log[0])
    assert "the events table is gone" in out


def test_the_witness_table_dropped(store: Store, made: Made, monkeypatch, capsys) -> None:
    """What accounts heard is gone with its table: its triggers are missed, and pledges is still
    witnessed by applications."""
    accounts = Owner(store, "accounts")
    accounts.run(f"DROP TABLE {accounts.t('witness')}")
    code, out = verify(store, monkeypatch, capsys, "accounts")
    assert code == 1 and "accounts_witness" in out and "is gone" in out, out


def test_a_shredded_key_put_back(store: Store, made: Made, monkeypatch, capsys) -> None:
    """A key the ledger records as erased is held again (someone kept a copy)."""
    owner = Owner(store)
    keys = owner.t("subject_keys")
    owner.unguarded(lambda: owner.run((f"UPDATE {keys} SET key = {owner.mark}, erased_at = NULL "
                                       f"WHERE subject = {owner.mark}", (os.urandom(32), ERASED))))
    assert "erasure recorded but the key" in caught(store, monkeypatch, capsys, made.starts[SCHOOLS[1]])


def test_rows_hidden_from_the_services_by_row_level_security(store: Store, made: Made, monkeypatch,
                                                               capsys) -> None:
    """PostgreSQL: a policy hides a school's events from the services' role; the owner, who
    verifies, still sees every row, so the seal alone would pass."""
    if store.kind == "sqlite":
        pytest.skip("SQLite has no row level security")
    owner, hidden = Owner(store), made.starts[SCHOOLS[2]]
    owner.run(f"ALTER TABLE {owner.events} ENABLE ROW LEVEL SECURITY",
              f"CREATE POLICY hide ON {owner.events} FOR SELECT USING (notification_id < {hidden})",
              f"CREATE POLICY add ON {owner.events} FOR INSERT WITH CHECK (true)")
    out = caught(store, monkeypatch, capsys, "the store")
    assert f"row level security is on for {owner.tables.events_table}" in out


def test_heads_silently_dropped_by_a_rule(store: Store, made: Made, monkeypatch, capsys) -> None:
    """PostgreSQL: a rule turns every head accounts would record into nothing."""
    if store.kind == "sqlite":
        pytest.skip("SQLite has no rules")
    accounts = Owner(store, "accounts")
    accounts.run(f"CREATE RULE deaf AS ON INSERT TO {accounts.t('witness')} DO INSTEAD NOTHING")
    out = caught(store, monkeypatch, capsys, "the store", "accounts")
    assert "the rule deaf rewrites statements on accounts_witness" in out


# -- a process killed in the middle of a write ---------------------------------------------------------


@pytest.mark.parametrize("point", ["ledger.before_commit", "seal.before_commit"])
def test_a_store_verifies_clean_after_a_kill_at_any_point_of_a_write(
        store: Store, made: Made, coventry: Authority, monkeypatch, capsys, point: str) -> None:
    env = {**os.environ, "SANCTUARY_CRASH_AT": point, "TAMPER_STORE_ENV": json.dumps(store.env("pledges"))}
    child = subprocess.run([sys.executable, "-m", "tests.integration.tamper_crash"], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == -9, child.stdout + child.stderr  # SIGKILL, mid-write
    code, out = verify(store, monkeypatch, capsys, "pledges")
    assert code == 0, out
    app = Pledges(env=store.env("pledges"), rules=coventry.pledge)
    try:
        journey(app, "100008")  # and the service carries on
    finally:
        app.close()
    code, out = verify(store, monkeypatch, capsys, "pledges")
    assert code == 0, out


@pytest.fixture(autouse=True)
def _no_leftover_crash_point(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SANCTUARY_CRASH_AT", raising=False)
    yield
