"""Audit on a real store (SQLite and PostgreSQL unless a test says otherwise): the database keeps
the event log append-only, the seal (written with each event) names what was altered, deleted or
inserted behind the service's back, the ``sanctuary audit`` commands, the decision trail, replay
and rebuild of a large log, and the seal under the outbox relay. The tamper suite proper, case by
case on stores of several services that witness one another, is tests/integration/test_tamper.py."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError, StoredEvent

from services.accounts.application import Accounts
from services.applications.application import Applications
from services.applications.trail import decision_trail, render_html
from services.pledges.application import Pledges
from services.pledges.contract import PLEDGES
from services.pledges.domain import School
from shared.authority import Authority
from shared.bus import BusPublisher
from shared.chain import GENESIS
from shared.clock import FixedClock
from shared.config import ROOT, Settings
from shared.consumer import consume
from shared.envelope import Contract, IntegrationEvent, parse_envelope
from shared.errors import Conflict
from shared.outbox import OutboxRelay
from shared.relay_lock import relay_lock_for
from shared.schema import jsonable
from shared.witness import head_event, head_of, witness
from tests.components import SERVICE_ROLE, Store
from tests.integration.bus_tap import Tap, body

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
YEAR = "2026-27"
URN = "103712"
LEAD = "account:lead"
COORDINATOR = "account:coordinator"
PANEL = {"amy": True, "ben": False, "cat": False, "dan": False}  # account -> lived experience
CLEAR = ["amy", "ben", "dan"]  # three clear of conflict: enough to decide (cat declares one)
CONFLICT = "My son attends the school"
REFUSED = (sqlite3.DatabaseError, psycopg.Error, PersistenceError)

_positions = itertools.count(1)  # positions of pledge news, unique for the whole run


# -- the store, as someone holding its connection details sees it ------------------------------


@dataclass
class Raw:
    """Plain SQL on one service's database, outside the service: what an operator, or anyone
    with the connection details (or the file), could run."""

    store: Store
    service: str

    @property
    def sqlite(self) -> bool:
        return self.store.kind == "sqlite"

    @property
    def schema(self) -> str:
        return self.store.env_extra["POSTGRES_SCHEMA"]

    @property
    def events(self) -> str:
        return "stored_events" if self.sqlite else f"{self.schema}.{self.service}_events"

    @property
    def seal(self) -> str:
        """The chain: a link per event."""
        return f"{self.service}_chain" if self.sqlite else f"{self.schema}.{self.service}_chain"

    @property
    def position(self) -> str:
        return "rowid" if self.sqlite else "notification_id"

    @property
    def witness(self) -> str:
        """The heads this service heard from the others."""
        return f"{self.service}_witness" if self.sqlite else f"{self.schema}.{self.service}_witness"

    @property
    def mark(self) -> str:
        return "?" if self.sqlite else "%s"

    def connect(self) -> Any:
        if self.sqlite:
            return sqlite3.connect(self.store.settings.data_dir / f"{self.service}.sqlite",
                                   isolation_level=None, timeout=10)
        env = self.store.env_extra
        return psycopg.connect(host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
                               user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"],
                               dbname=env["POSTGRES_DBNAME"], autocommit=True)

    def run(self, sql: str, params: tuple = ()) -> list[tuple]:
        connection = self.connect()
        try:
            cursor = connection.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            connection.close()

    def rows(self) -> list[tuple]:
        """Every stored event: position, aggregate, version, topic, bytes."""
        return [(p, str(o), v, t, bytes(s)) for p, o, v, t, s in self.run(
            f"SELECT {self.position}, originator_id, originator_version, topic, state "
            f"FROM {self.events} ORDER BY {self.position}")]

    def seal_rows(self) -> list[tuple]:
        return self.run(f"SELECT notification_id, previous, key_id, mac FROM {self.seal} "
                        "ORDER BY notification_id")

    def unprotect(self) -> None:
        """As the tables' owner: take the append-only triggers off (or away)."""
        if self.sqlite:
            for table in ("stored_events", f"{self.service}_chain"):
                for action in ("update", "delete"):
                    self.run(f"DROP TRIGGER {table}_no_{action}")
        else:
            for table in (self.events, self.seal):
                self.run(f"ALTER TABLE {table} DISABLE TRIGGER ALL")

    def alter(self, position: int, old: bytes, new: bytes) -> None:
        [(state,)] = self.run(f"SELECT state FROM {self.events} WHERE {self.position} = {self.mark}",
                              (position,))
        assert old in bytes(state)
        self.run(f"UPDATE {self.events} SET state = {self.mark} WHERE {self.position} = {self.mark}",
                 (bytes(state).replace(old, new), position))

    def delete(self, position: int) -> None:
        self.run(f"DELETE FROM {self.events} WHERE {self.position} = {self.mark}", (position,))

    def insert_copy(self, of: int, aggregate: uuid.UUID, at: int | None = None) -> None:
        """A copy of the event at ``of`` under another aggregate id; at position ``at`` if given."""
        [(topic, state)] = self.run(
            f"SELECT topic, state FROM {self.events} WHERE {self.position} = {self.mark}", (of,))
        columns, values = "originator_id, originator_version, topic, state", [
            aggregate.hex if self.sqlite else aggregate, 1, topic, bytes(state)]
        if at is not None:
            columns += f", {self.position}"
            values.append(at)
        marks = ", ".join([self.mark] * len(values))
        self.run(f"INSERT INTO {self.events} ({columns}) VALUES ({marks})", tuple(values))

    def replace_seal(self, links: list[tuple]) -> None:
        self.run(f"DELETE FROM {self.seal}")
        connection = self.connect()
        try:
            cursor = connection.cursor()
            marks = ", ".join([self.mark] * 4)
            cursor.executemany(f"INSERT INTO {self.seal} VALUES ({marks})", links)
        finally:
            connection.close()


def chain(app: Any, key_id: str) -> list[tuple]:
    """The seal recomputed over the log as it now stands, as a forger without the sealing key
    would: the old unkeyed hash chain, under the key id the store names."""
    previous, before, links = GENESIS, 0, []
    for notification in app.recorder.select_notifications(start=1, limit=10**6):
        digest = hashlib.sha256()
        for part in (previous, str(notification.id), str(notification.originator_id),
                     str(notification.originator_version), notification.topic):
            digest.update(part.encode() + b"\0")
        digest.update(bytes(notification.state))
        previous = digest.hexdigest()
        links.append((notification.id, before, key_id, previous))
        before = notification.id
    return links


def positions(app: Any) -> list[int]:
    return [n.id for n in app.recorder.select_notifications(start=1, limit=10**6)]


# -- pledges ---------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def pledges(store: Store, coventry: Authority, clock: FixedClock) -> Pledges:
    app = Pledges(env=store.env("pledges"), rules=coventry.pledge, clock=clock)
    yield app
    app.close()


def pledge_journey(app: Pledges, urn: str, pause: float = 0.0) -> None:
    contact = {"name": "Ann Coordinator", "email": f"ann@{urn}.example.org"}
    app.register_school("account:lead", urn, f"School {urn}", "primary", "CV1 2AB", contact)
    for step in (lambda: app.express_interest("account:lead", urn),
                 lambda: app.record_commitment("account:lead", urn, "slt", "Ms Head", "Head teacher"),
                 lambda: app.record_commitment("account:lead", urn, "governors", "Mr Chair", "Chair"),
                 lambda: app.sign_pledge("account:coordinator", urn, "Ms Head", "Head teacher")):
        time.sleep(pause)
        step()


def a_refused_registration(app: Pledges, urn: str) -> None:
    """On PostgreSQL the refused insert still takes a number from the notification sequence:
    the log has a gap there (SQLite reuses it)."""
    with pytest.raises(Conflict):
        app.register_school("account:lead", urn, "Again", "primary", "CV1 2AB",
                            {"name": "Ann", "email": "ann@example.org"})


# -- 1. append-only, enforced by the database ------------------------------------------------------


def test_the_database_refuses_to_update_or_delete_events_and_the_seal(store: Store,
                                                                       pledges: Pledges) -> None:
    pledge_journey(pledges, "100001")
    raw = Raw(store, "pledges")
    events, seal = raw.rows(), raw.seal_rows()
    assert len(events) == 5 and len(seal) == 5  # each event sealed as it was written

    statements = []
    for table, column in ((raw.events, "topic"), (raw.seal, "mac")):
        key = raw.position if table == raw.events else "notification_id"
        statements += [f"UPDATE {table} SET {column} = {column} || 'x'",
                       f"DELETE FROM {table} WHERE {key} = 1", f"DELETE FROM {table}"]
        if not raw.sqlite:
            statements.append(f"TRUNCATE {table}")
    # the services' own role on PostgreSQL may not even try (the next test); the owner's triggers say no
    refusal = "append-only" if raw.sqlite else "permission denied"
    for sql in statements:
        # as the tables' owner, outside the service...
        with pytest.raises(REFUSED, match="append-only"):
            raw.run(sql)
        # ...and through the service's own connections
        with pytest.raises(REFUSED, match=refusal), \
                pledges.factory.datastore.transaction(commit=True) as cursor:
            cursor.execute(sql)
    assert raw.rows() == events
    assert raw.seal_rows() == seal
    assert pledges.seal.verify().ok
    assert pledges.school("100001")["status"] == "signed"


def test_the_services_role_may_only_read_and_insert(store: Store, pledges: Pledges) -> None:
    """PostgreSQL: the tables belong to the owner (the migration role); the services connect as a
    role that can read and insert, shred a person's key, and nothing else."""
    if store.kind == "sqlite":
        pytest.skip("SQLite has no roles: whoever can write the file can do anything")
    pledge_journey(pledges, "100001")
    assert pledges.env.get("POSTGRES_USER") != store.env_extra["POSTGRES_USER"]
    schema = store.env_extra["POSTGRES_SCHEMA"]
    t = {part: f"{schema}.pledges_{part}" for part in ("events", "chain", "ledger", "witness", "tracking",
                                                      "subject_keys")}
    refused = [
        *(f"ALTER TABLE {table} DISABLE TRIGGER ALL" for table in t.values()),
        f"DROP TRIGGER pledges_events_append_only ON {t['events']}",
        f"ALTER TABLE {t['chain']} ADD COLUMN x int", f"DROP TABLE {t['chain']}",
        *(f"TRUNCATE {table}" for table in t.values()),
        *(f"DELETE FROM {table}" for table in t.values()),
        f"UPDATE {t['events']} SET topic = topic", f"UPDATE {t['ledger']} SET kind = kind",
        f"UPDATE {t['subject_keys']} SET label = 'x'", f"UPDATE {t['subject_keys']} SET key = key",
        f"CREATE OR REPLACE FUNCTION {schema}.sanctuary_append_only() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN NULL; END $$",
        f"CREATE TABLE {schema}.pledges_other (x int)",
        "SET session_replication_role = replica",
    ]
    for sql in refused:
        with pytest.raises(REFUSED), pledges.factory.datastore.transaction(commit=True) as cursor:
            cursor.execute(sql)
    with pledges.factory.datastore.transaction(commit=False) as cursor:  # reading is allowed
        cursor.execute(f"SELECT COUNT(*) AS n FROM {t['chain']}")
        assert cursor.fetchone()["n"] == 5
    with pledges.factory.datastore.transaction(commit=True) as cursor:  # shredding is allowed,
        cursor.execute(f"UPDATE {t['subject_keys']} SET key = NULL WHERE subject = 'nobody'")
    with pytest.raises(REFUSED, match="only shredded"), \
            pledges.factory.datastore.transaction(commit=True) as cursor:  # replacing is not
        cursor.execute(f"UPDATE {t['subject_keys']} SET key = 'x'::bytea")
    assert pledges.seal.verify().ok


# -- 2. tamper evidence ----------------------------------------------------------------------------


def test_the_seal_names_what_was_altered_deleted_or_inserted(store: Store, pledges: Pledges) -> None:
    pledge_journey(pledges, "100001")
    pledge_journey(pledges, "100002")
    a_refused_registration(pledges, "100002")
    pledge_journey(pledges, "100003")
    log = positions(pledges)
    assert len(log) == 15
    gaps = sorted(set(range(1, log[-1] + 1)) - set(log))
    assert gaps == ([] if store.kind == "sqlite" else [11])

    kept = pledges.seal.digest()  # nothing to extend: every event was sealed as it was written
    assert re.fullmatch(rf"{log[-1]}:[0-9a-f]{{16}}", kept)
    verdict = pledges.seal.verify()
    assert (verdict.ok, verdict.checked, verdict.sealed_to, verdict.problems) == (True, 15, log[-1], [])
    assert pledges.seal.verify(digest=kept).ok

    # the owner takes the triggers off, rewrites one event's bytes and deletes another
    raw = Raw(store, "pledges")
    raw.unprotect()
    altered, deleted = log[3], log[7]  # a commitment by the lead; school 2's first commitment
    raw.alter(altered, b'"actor":"account:lead"', b'"actor":"account:mallory"')
    raw.delete(deleted)
    verdict = pledges.seal.verify()
    assert events_named(verdict) == [(altered, "altered"), (deleted, "deleted")]
    [named] = [p for p in verdict.problems if p.get("position") == altered]
    assert (named["aggregate"], named["version"], named["topic"]) == (
        str(School.create_id("100001")), 4, "services.pledges.domain:School.CommitmentRecorded")
    assert verdict.first()["position"] == altered
    assert any(p["what"].startswith("unprotected: the trigger") for p in verdict.problems)

    # a copy of a stored event under a new aggregate id, slipped into the log: on PostgreSQL into
    # the gap the sequence left, on SQLite after the end, where an unsealed event can no longer hide
    forged = School.create_id("199999")
    raw.insert_copy(of=log[0], aggregate=forged, at=gaps[0] if gaps else None)
    inserted = gaps[0] if gaps else log[-1] + 1
    assert events_named(pledges.seal.verify()) == sorted(
        [(altered, "altered"), (deleted, "deleted"), (inserted, "inserted")])
    # a forged event put where the deleted one was is named at that position
    raw.insert_copy(of=log[1], aggregate=School.create_id("199998"), at=deleted)
    assert (deleted, "altered") in events_named(pledges.seal.verify())

    # the whole seal rewritten consistently over the tampered log, without the sealing key:
    # every link fails, from the first
    raw.replace_seal(chain(pledges, verdict.keys[0]))
    caught = pledges.seal.verify()
    assert caught.first()["position"] == log[0] and caught.first()["what"].startswith("altered")
    assert "rewritten" in [p["what"].split(":")[0] for p in pledges.seal.verify(digest=kept).problems]
    assert pledges.seal.digest() != kept


def events_named(verdict: Any) -> list[tuple[int, str]]:
    """The problems at log positions (not the store's triggers), as (position, kind)."""
    return sorted((p["position"], p["what"].split(":")[0]) for p in verdict.problems
                  if p.get("position") is not None)


# -- 3. the sanctuary audit commands ---------------------------------------------------------------


def sanctuary(store: Store, *args: str, **extra: str) -> subprocess.CompletedProcess:
    """``sanctuary ...`` as a child process with the store's environment."""
    env = {**os.environ, **store.os_environ(), "SANCTUARY_LOG_LEVEL": "WARNING", **extra}
    return subprocess.run([sys.executable, "-m", "sanctuary.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=240)


def test_audit_verify_and_digest_on_a_real_store(store: Store, pledges: Pledges) -> None:
    pledge_journey(pledges, "100001")
    pledge_journey(pledges, "100002")
    log = positions(pledges)

    digest = sanctuary(store, "audit", "digest", "pledges")
    assert digest.returncode == 0, digest.stderr
    assert re.fullmatch(rf"{log[-1]}:[0-9a-f]{{16}}\n", digest.stdout)
    assert digest.stdout.strip() == pledges.seal.digest()

    verified = sanctuary(store, "audit", "verify", "pledges")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "10 events checked against the chain" in verified.stdout
    assert "OK: nothing altered, deleted, inserted or truncated" in verified.stdout
    against = sanctuary(store, "audit", "verify", "pledges", "--digest", digest.stdout.strip())
    assert against.returncode == 0 and "matches digest" in against.stdout, against.stdout

    raw = Raw(store, "pledges")
    raw.unprotect()
    raw.delete(log[6])
    raw.alter(log[2], b'"body":"slt"', b'"body":"pta"')
    tampered = sanctuary(store, "audit", "verify", "pledges")
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert f"the first at position {log[2]}: altered" in tampered.stdout
    assert re.search(r"TAMPERED: \d+ problem\(s\)", tampered.stdout)
    assert f"  position {log[6]}: deleted: sealed but missing" in tampered.stdout
    assert "the store: unprotected: the trigger" in tampered.stdout


def test_audit_history_as_csv_and_as_of_an_instant(store: Store, pledges: Pledges) -> None:
    pledge_journey(pledges, "100001", pause=0.01)
    school = str(School.create_id("100001"))
    timestamps = [e.timestamp for e in pledges.events.get(uuid.UUID(school))]
    middle = timestamps[1] + (timestamps[2] - timestamps[1]) / 2

    full = sanctuary(store, "audit", "history", "pledges", school, "--format", "csv")
    assert full.returncode == 0, full.stderr
    rows = list(csv.reader(io.StringIO(full.stdout)))
    assert rows[0] == ["version", "at", "actor", "event", "details"]
    assert [(r[0], r[2], r[3]) for r in rows[1:]] == [
        ("1", "account:lead", "Registered"), ("2", "account:lead", "InterestExpressed"),
        ("3", "account:lead", "CommitmentRecorded"), ("4", "account:lead", "CommitmentRecorded"),
        ("5", "account:coordinator", "PledgeSigned")]
    assert [dt.datetime.fromisoformat(r[1]) for r in rows[1:]] == timestamps
    assert '"signed_by": "Ms Head"' in rows[5][4]  # personal values read back, for the auditor

    then = sanctuary(store, "audit", "history", "pledges", school, "--format", "csv",
                     "--as-of", middle.isoformat())
    assert then.returncode == 0, then.stderr
    earlier = list(csv.reader(io.StringIO(then.stdout)))
    assert earlier[0] == rows[0]
    assert earlier[1:] == rows[1:3]


def test_audit_trail_writes_a_printable_page(store: Store, applications: Applications,
                                             clock: FixedClock, tmp_path: Path) -> None:
    accredited(applications, clock)
    page = tmp_path / "trail.html"
    written = sanctuary(store, "audit", "trail", URN, YEAR, "--html", str(page))
    assert written.returncode == 0, written.stdout + written.stderr
    assert f"written {page}" in written.stdout
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>")
    assert f"Decision trail: Hill Primary ({URN}), {YEAR}" in text
    for stage in ("draft", "final"):
        assert f"{stage} appraisal of submission" in text
    for member in ("amy", "ben", "cat"):
        assert f"<td>{member}</td>" in text  # every member's declaration
    assert f"<td>cat</td><td>True</td><td>{CONFLICT}</td>" in text
    for member in ("amy", "ben"):  # and the judgements of those who were clear to judge
        assert f"<td>{member}</td><td>learn-1</td><td>met</td><td>{member}: learn-1 is evidenced</td>" \
            in text
    assert "<td>ben</td><td>learn-2</td><td>not_yet_met</td>" in text
    assert "<td>cat</td><td>learn-1</td>" not in text
    assert "Agreed: award, by amy, ben, dan" in text
    assert "Panel composition met: the rule is at least 3 members clear of conflict, at least 1 with " \
           "lived experience of seeking sanctuary; agreed by 3 clear members, 1 with lived experience; " \
           "1 declared a conflict and took no part." in text


# -- 4. the decision trail -------------------------------------------------------------------------


@pytest.fixture
def applications(store: Store, coventry: Authority, clock: FixedClock) -> Applications:
    app = Applications(env=store.env("applications"), authority=coventry, clock=clock)
    yield app
    app.close()


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def instant() -> dt.datetime:
    """A real instant between two commands (event timestamps come from the real clock)."""
    time.sleep(0.002)
    moment = dt.datetime.now(dt.UTC)
    time.sleep(0.002)
    return moment


def tell(app: Applications, kind: str, **payload: object) -> bool:
    news = IntegrationEvent(
        id=str(uuid.uuid4()), type=kind, schema_version=1, origin="pledges", position=next(_positions),
        occurred_at="2025-09-01T09:00:00+00:00", authority=app.authority.slug, actor=LEAD,
        payload=payload)
    return consume(app, news.to_dict(), app.learn_pledge_news)


def convened(app: Applications, stage: str) -> None:
    """The cycle's panel for ``stage`` with amy, ben and cat, formed and convened unless it is."""
    try:
        app.form_panel(LEAD, YEAR, stage)
    except Conflict:
        return
    for account, lived in PANEL.items():
        app.add_panel_member(LEAD, YEAR, stage, account, lived)
    app.convene(LEAD, YEAR, stage)


def appraise(app: Applications, stage: str, not_yet: tuple[str, ...] = ()) -> None:
    """The stage's panel formed and convened, the submission assigned; amy, ben and dan declare
    no interest and judge every criterion (ben finds ``not_yet`` not yet met); cat declares a
    conflict and judges nothing."""
    convened(app, stage)
    app.assign(LEAD, YEAR, stage, URN)
    app.declare("cat", URN, YEAR, stage, conflicted=True, interests=CONFLICT)
    criteria = list(app.application(URN, YEAR)["audit"])
    for member in CLEAR:
        app.declare(member, URN, YEAR, stage, conflicted=False)
        for code in criteria:
            outcome = "not_yet_met" if member == "ben" and code in not_yet else "met"
            app.judge(member, URN, YEAR, stage, code, outcome, f"{member}: {code} is evidenced")


def agreed(app: Applications, not_yet: tuple[str, ...] = ()) -> dict:
    """The criteria as the panel agreed them: met, except ``not_yet``."""
    criteria = list(app.application(URN, YEAR)["audit"])
    return {code: {"outcome": "not_yet_met" if code in not_yet else "met",
                   "comment": f"The panel on {code}"} for code in criteria}


def accredited(app: Applications, clock: FixedClock) -> dict[str, Any]:
    """Coventry's journey for Hill Primary: a late draft under an extension, a draft panel
    (with a conflict), feedback, more evidence, the final panel, the award."""
    marks: dict[str, Any] = {"before": instant()}
    assert tell(app, "SchoolRegistered", urn=URN, name="Hill Primary", phase="primary",
                postcode="CV1 2AB", coordinator={"name": "Ann", "email": "ann@example.org"})
    assert tell(app, "PledgeSigned", urn=URN, signed_by="Ms Head", role="Head teacher",
                signed_on="2025-09-01")
    clock.at = utc(2026, 9, 21, 9, 0)
    view = app.start(COORDINATOR, URN, YEAR)
    for code in view["audit"]:
        app.record_audit(COORDINATOR, URN, YEAR, code, "met", f"Practice for {code}")
        app.add_evidence(COORDINATOR, URN, YEAR, code, f"Evidence for {code}")
    marks["draft_evidence"] = sorted(e["id"] for e in app.application(URN, YEAR)["evidence"])
    clock.at = utc(2027, 3, 26, 9, 0)  # the day after the draft deadline
    marks["before_extension"] = instant()
    app.grant_extension(LEAD, URN, YEAR, "draft", dt.date(2027, 4, 9), "Staff illness")
    app.submit(COORDINATOR, URN, YEAR, "draft")
    clock.at = utc(2027, 4, 20, 14, 0)
    marks["before_draft_panel"] = instant()
    appraise(app, "draft", not_yet=("learn-2",))
    app.agree_outcome(LEAD, URN, YEAR, "draft", agreed(app, ("learn-2",)),
                      "further_evidence", ["ben", "amy", "dan"])
    app.release_feedback(LEAD, URN, YEAR, "draft", "Nearly there: widen learn-2.")
    marks["after_draft_feedback"] = instant()
    app.add_evidence(COORDINATOR, URN, YEAR, "learn-2", "Geography and RE units")
    clock.at = utc(2027, 5, 28, 15, 0)
    app.submit(COORDINATOR, URN, YEAR, "final")
    clock.at = utc(2027, 6, 10, 14, 0)
    appraise(app, "final")
    app.agree_outcome(LEAD, URN, YEAR, "final", agreed(app), "award", CLEAR)
    app.release_feedback(LEAD, URN, YEAR, "final", "Every criterion met.")
    app.schedule_visit(LEAD, URN, YEAR, dt.date(2027, 6, 15))
    clock.at = utc(2027, 6, 15, 15, 0)
    app.record_visit(LEAD, URN, YEAR, ["Head teacher", "School council"], "Pupils led the tour.")
    clock.at = utc(2027, 7, 1, 9, 0)
    marks["before_decision"] = instant()
    app.decide(LEAD, URN, YEAR, "The panel found every criterion met.")
    marks["after"] = instant()
    return marks


def test_the_decision_trail_of_a_whole_journey(applications: Applications, clock: FixedClock) -> None:
    marks = accredited(applications, clock)
    trail = decision_trail(applications, URN, YEAR)
    view = applications.application(URN, YEAR)

    assert (trail["urn"], trail["school_name"], trail["school_year"], trail["stage"]) == (
        URN, "Hill Primary", YEAR, "awarded")
    # the submissions, each with the evidence it included
    draft, final = trail["submissions"]
    assert [(s["stage"], s["version"], s["by"], s["under_extension"]) for s in (draft, final)] == [
        ("draft", 1, COORDINATOR, True), ("final", 2, COORDINATOR, False)]
    assert (draft["on"], final["on"]) == (dt.date(2027, 3, 26), dt.date(2027, 5, 28))
    assert [e["id"] for e in draft["evidence"]] == marks["draft_evidence"]
    assert {e["title"] for e in draft["evidence"]} == {f"Evidence for {c}" for c in view["audit"]}
    [added] = [e for e in final["evidence"] if e["id"] not in marks["draft_evidence"]]
    assert (added["criterion"], added["title"]) == ("learn-2", "Geography and RE units")
    assert len(final["evidence"]) == len(draft["evidence"]) + 1

    # the extension, and who granted it
    [extension] = trail["extensions"]
    assert (extension["stage"], extension["until"], extension["reason"], extension["by"]) == (
        "draft", dt.date(2027, 4, 9), "Staff illness", LEAD)
    assert marks["before_extension"] < extension["at"] < marks["before_draft_panel"]

    # each appraisal: declarations (cat's conflict), judgements, the agreed outcome
    assert [(a["stage"], a["submission"]) for a in trail["appraisals"]] == [("draft", 1), ("final", 2)]
    criteria = list(view["audit"])
    for appraisal in trail["appraisals"]:
        assert appraisal["members"] == list(PANEL)
        declarations = {d["member"]: (d["conflicted"], d["interests"], d["by"])
                        for d in appraisal["declarations"]}
        assert declarations == {"cat": (True, CONFLICT, "account:cat"), "amy": (False, "", "account:amy"),
                                "ben": (False, "", "account:ben"), "dan": (False, "", "account:dan")}
        judged = appraisal["judgements"]
        assert len(judged) == 3 * len(criteria)
        assert {j["member"] for j in judged} == set(CLEAR)  # the conflicted member judged nothing
        assert all(j["by"] == f"account:{j['member']}" for j in judged)
        assert all(j["comment"] == f"{j['member']}: {j['criterion']} is evidenced" for j in judged)
        times = [d["at"] for d in appraisal["declarations"]] + [j["at"] for j in judged]
        assert all(marks["before_draft_panel"] < t < marks["before_decision"] for t in times)
        declared_amy = next(d["at"] for d in appraisal["declarations"] if d["member"] == "amy")
        assert all(declared_amy < j["at"] for j in judged if j["member"] == "amy")
        outcome = appraisal["outcome"]
        assert (outcome["members"], outcome["by"]) == (CLEAR, LEAD)
        assert outcome["composition"] == {"min_members": 3, "min_lived_experience": 1, "agreed_by": 3,
                                          "with_lived_experience": 1, "conflicted": 1, "met": True}
        assert max(j["at"] for j in judged) < outcome["at"]
    draft_appraisal, final_appraisal = trail["appraisals"]
    assert [(j["member"], j["outcome"]) for j in draft_appraisal["judgements"]
            if j["criterion"] == "learn-2"] == [("amy", "met"), ("ben", "not_yet_met"), ("dan", "met")]
    assert draft_appraisal["outcome"]["overall"] == "further_evidence"
    assert draft_appraisal["outcome"]["criteria"]["learn-2"]["outcome"] == "not_yet_met"
    assert final_appraisal["outcome"]["overall"] == "award"
    assert {j["outcome"] for j in final_appraisal["judgements"]} == {"met"}

    # feedback released, and the decision with who recorded it and on whose agreement
    assert [(f["stage"], f["summary"], f["by"], f["appraisal"]) for f in trail["feedback"]] == [
        ("draft", "Nearly there: widen learn-2.", LEAD, draft_appraisal["id"]),
        ("final", "Every criterion met.", LEAD, final_appraisal["id"])]
    assert marks["before_draft_panel"] < trail["feedback"][0]["at"] < marks["after_draft_feedback"]
    decision = trail["decision"]
    assert (decision["outcome"], decision["by"], decision["panel_members"], decision["appraisal"]) == (
        "awarded", LEAD, CLEAR, final_appraisal["id"])
    assert decision["composition"] == final_appraisal["outcome"]["composition"]
    assert decision["reasons"] == "The panel found every criterion met."
    assert decision["expires_on"] == dt.date(2030, 7, 1)
    assert marks["before_decision"] < decision["at"] < marks["after"]


def test_the_printable_trail_escapes_what_it_prints(applications: Applications,
                                                    clock: FixedClock) -> None:
    accredited(applications, clock)
    trail = decision_trail(applications, URN, YEAR)
    hostile = "<script>alert('x')</script>"
    trail["appraisals"][0]["judgements"][0]["comment"] = hostile
    trail["extensions"][0]["reason"] = f"Flu & {hostile}"
    trail["decision"]["reasons"] = hostile
    trail["school_name"] = "Hill <b>Primary</b>"
    page = render_html(trail, "Coventry <City>")
    assert "<script>" not in page and "<b>Primary" not in page and "<City>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "Flu &amp; &lt;script&gt;" in page
    assert "Hill &lt;b&gt;Primary&lt;/b&gt;" in page and "Coventry &lt;City&gt;" in page


def test_the_trail_of_a_comment_with_markup_typed_by_a_member(applications: Applications,
                                                              clock: FixedClock) -> None:
    """A member's own words (a judgement comment, a declared interest) with markup in them."""
    hostile = "<script>document.location='https://evil.example'</script>"
    assert tell(applications, "SchoolRegistered", urn=URN, name="Hill Primary", phase="primary",
                postcode="CV1 2AB", coordinator={"name": "Ann", "email": "ann@example.org"})
    assert tell(applications, "PledgeSigned", urn=URN, signed_by="Ms Head", role="Head teacher",
                signed_on="2025-09-01")
    view = applications.start(COORDINATOR, URN, YEAR)
    for code in view["audit"]:
        applications.add_evidence(COORDINATOR, URN, YEAR, code, f"<i>{code}</i>")
    clock.at = utc(2027, 3, 20, 9, 0)
    applications.submit(COORDINATOR, URN, YEAR, "draft")
    applications.form_panel(LEAD, YEAR, "draft")
    for account, lived in PANEL.items():
        applications.add_panel_member(LEAD, YEAR, "draft", account, lived)
    applications.convene(LEAD, YEAR, "draft")
    applications.assign(LEAD, YEAR, "draft", URN)
    applications.declare("cat", URN, YEAR, "draft", conflicted=True, interests=hostile)
    applications.declare("amy", URN, YEAR, "draft", conflicted=False)
    applications.judge("amy", URN, YEAR, "draft", "learn-1", "met", hostile)
    page = render_html(decision_trail(applications, URN, YEAR), applications.authority.name)
    assert "<script>" not in page and "<i>" not in page
    assert page.count("&lt;script&gt;document.location=") == 2
    assert "&lt;i&gt;learn-1&lt;/i&gt;" in page



def test_the_trail_keeps_a_further_evidence_decision(applications: Applications,
                                                     clock: FixedClock) -> None:
    app = applications
    urn, year = "100777", YEAR
    assert tell(app, "SchoolRegistered", urn=urn, name="Oak Primary", phase="primary", postcode="CV2 1AA",
                coordinator={"name": "Bo", "email": "bo@example.org"})
    assert tell(app, "PledgeSigned", urn=urn, signed_by="Mr Head", role="Head teacher",
                signed_on="2025-09-01")
    clock.at = utc(2026, 10, 1, 9, 0)
    criteria = list(app.start(COORDINATOR, urn, year)["audit"])
    for code in criteria:
        app.add_evidence(COORDINATOR, urn, year, code, f"Evidence for {code}")
    clock.at = utc(2027, 3, 20, 9, 0)
    app.submit(COORDINATOR, urn, year, "draft")
    clock.at = utc(2027, 4, 20, 14, 0)

    def sit(stage: str, overall: str) -> None:
        convened(app, stage)
        app.assign(LEAD, year, stage, urn)
        for member in CLEAR:
            app.declare(member, urn, year, stage, conflicted=False)
            app.judge(member, urn, year, stage, "learn-1", "met", f"{member} on learn-1")
        app.agree_outcome(LEAD, urn, year, stage, {c: {"outcome": "met", "comment": "ok"} for c in criteria},
                          overall, CLEAR)

    sit("draft", "further_evidence")
    app.release_feedback(LEAD, urn, year, "draft", "Widen it.")
    clock.at = utc(2027, 5, 20, 9, 0)
    app.submit(COORDINATOR, urn, year, "final")
    clock.at = utc(2027, 6, 10, 14, 0)
    sit("final", "further_evidence")
    app.schedule_visit(LEAD, urn, year, dt.date(2027, 6, 15))
    clock.at = utc(2027, 6, 15, 15, 0)
    app.record_visit(LEAD, urn, year, ["Head teacher"], "A warm welcome.")
    clock.at = utc(2027, 7, 1, 9, 0)
    first = "More on pupil voice, please"
    app.decide(LEAD, urn, year, first, evidence_due=dt.date(2027, 10, 1))
    app.add_evidence(COORDINATOR, urn, year, "learn-2", "School council minutes")
    clock.at = utc(2027, 9, 20, 9, 0)
    app.submit(COORDINATOR, urn, year, "final")
    sit("final", "award")
    app.decide(LEAD, urn, year, "Now every criterion is met")

    trail = decision_trail(app, urn, year)
    assert [(a["stage"], a["submission"]) for a in trail["appraisals"]] == [
        ("draft", 1), ("final", 2), ("final", 3)]
    assert trail["decision"]["outcome"] == "awarded"
    assert first in json.dumps(jsonable(trail)), "the further-evidence decision is not in the trail"
    assert first in render_html(trail, app.authority.name)

# -- 5. replay and rebuild of a large log (SQLite only, for speed) --------------------------------
# Ten thousand events are ten of rebuild's 1,000-event pages and five of replay's: the paging and the
# count are proved as well as by a hundred thousand (what ``python -m bench.replay --schools 20000``
# times, beside its references), at a tenth of the suite's time.


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    return Store("sqlite", Settings.from_env({"SANCTUARY_STORE": "sqlite",
                                              "SANCTUARY_DATA_DIR": str(tmp_path)}), {})


def large_log(app: Pledges, real: int, total_schools: int) -> None:
    """``real`` schools pledged through the application, then copies of the first school's five
    stored events under other URNs, written in batches, up to ``total_schools`` schools."""
    for number in range(real):
        pledge_journey(app, str(100000 + number))
    template = app.recorder.select_events(School.create_id("100000"))
    batch: list[StoredEvent] = []
    for number in range(real, total_schools):
        urn = str(100000 + number)
        for event in template:
            state = event.state.replace(b'"100000"', f'"{urn}"'.encode()).replace(
                b"School 100000", f"School {urn}".encode())
            batch.append(StoredEvent(School.create_id(urn), event.originator_version, event.topic, state))
        if len(batch) >= 10000:
            app.recorder.insert_events(batch)
            batch = []
    if batch:
        app.recorder.insert_events(batch)


def test_rebuild_and_replay_a_log_of_10000_events(sqlite_store: Store, coventry: Authority,
                                                   clock: FixedClock, amqp_uri: str) -> None:
    store = sqlite_store
    pledges = Pledges(env=store.env("pledges"), rules=coventry.pledge, clock=clock)
    consumer = Applications(env=store.env("applications"), authority=coventry)
    try:
        large_log(pledges, real=400, total_schools=2000)
        assert pledges.recorder.max_notification_id() == 10000
        assert pledges.school("101999")["status"] == "signed"  # the copies read as real events

        rebuilt = sanctuary(store, "rebuild", "pledges")
        assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
        assert rebuilt.stdout.strip() == "2000 aggregates rebuilt from 10000 events"
        rate = re.search(r"(?<!\d)10000 applied in ([\d.]+) s \(([\d,]+) a second\)", rebuilt.stderr)
        assert rate, rebuilt.stderr[-500:]
        assert int(rate.group(2).replace(",", "")) > 0

        # the consumer has already had the first 2000 events, as the relay published them
        first = pledges.recorder.select_notifications(start=1, limit=2000)
        published = [PLEDGES.envelope(pledges.mapper.to_domain_event(n), n.id, coventry.slug)
                     for n in first]
        assert all(consume(consumer, e.to_dict(), consumer.learn_pledge_news) for e in published)
        before = (consumer.recorder.max_notification_id(),
                  [consumer.pledge_standing(str(100000 + n)) for n in range(400)])

        tap = Tap(amqp_uri, "pledges", name="replay-tap")
        replayed = sanctuary(store, "replay", "pledges", "--from", "1", "--to", "2000",
                             SANCTUARY_AMQP_URI=amqp_uri)
        assert replayed.returncode == 0, replayed.stderr[-2000:]
        assert "2000 integration events published from positions 1 to 2000" in replayed.stdout
        messages = tap.read(expect=2000, timeout=60)
        copies = [parse_envelope(body(m)) for m in messages]
        assert [c.position for c in copies] == list(range(1, 2001))
        assert [m.properties["message_id"] for m in messages] == [f"pledges:{n}" for n in range(1, 2001)]
        assert copies == published  # the same ids, payloads and times as first published

        assert not any(consume(consumer, body(m), consumer.learn_pledge_news) for m in messages)
        after = (consumer.recorder.max_notification_id(),
                 [consumer.pledge_standing(str(100000 + n)) for n in range(400)])
        assert after == before
    finally:
        consumer.close()
        pledges.close()


# -- 6. the seal under the relay -------------------------------------------------------------------


def test_every_event_is_sealed_before_the_relay_can_see_it(store: Store, pledges: Pledges,
                                                           amqp_uri: str) -> None:
    tap = Tap(amqp_uri, "pledges")
    relay = OutboxRelay(pledges, PLEDGES, "coventry", BusPublisher(amqp_uri, "pledges"),
                        relay_lock_for(pledges, store.settings), batch_size=4)
    try:
        pledge_journey(pledges, "100001")
        a_refused_registration(pledges, "100001")
        pledge_journey(pledges, "100002")
        last = pledges.recorder.max_notification_id()
        assert pledges.seal.head()[0] == last  # sealed as written, before any relay ran
        assert relay.drain() == 10
        assert relay.published_position() == last
        verdict = pledges.seal.verify()
        assert (verdict.ok, verdict.checked, verdict.sealed_to) == (True, 10, last)
        published = [parse_envelope(body(m)).position for m in tap.read(expect=10)]
        assert published == positions(pledges)
        assert set(published) <= {row[0] for row in Raw(store, "pledges").seal_rows()}
    finally:
        relay.publisher.close()


def test_the_relay_publishes_the_head_and_the_other_services_record_it(
        store: Store, pledges: Pledges, coventry: Authority, amqp_uri: str) -> None:
    """At the relay's first turn, then at once after a milestone the contract names (for pledges
    here a signed pledge stands in for the applications service's panel decision), not waiting
    for the interval; another service records each head it hears, once."""
    heads = Tap(amqp_uri, "audit", name="heads-tap")
    contract = Contract("pledges", PLEDGES.events, witnessed_after=frozenset({"PledgeSigned"}))
    relay = OutboxRelay(pledges, contract, "coventry", BusPublisher(amqp_uri, "pledges"),
                        relay_lock_for(pledges, store.settings), head_interval=3600)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop, 0.1))
    applications = Applications(env=store.env("applications"), authority=coventry)
    try:
        pledges.register_school("account:lead", "100001", "School 100001", "primary", "CV1 2AB",
                                {"name": "Ann", "email": "ann@example.org"})
        thread.start()
        [first] = heads.read(expect=1)
        pledge_journey(pledges, "100002")  # ends with a signed pledge
        [second] = heads.read(expect=1)
        published = [parse_envelope(body(m)) for m in (first, second)]
        assert [(h.origin, h.type, h.payload["position"]) for h in published] == [
            ("pledges", "ChainHead", 1), ("pledges", "ChainHead", 6)]
        assert published[1].payload["digest"] == pledges.seal.head()[1]
        for message in (first, second, second):  # the second heard twice: recorded once
            assert witness(applications, body(message))
        heard = Raw(store, "applications")
        assert heard.run(f"SELECT origin, position FROM {heard.witness} ORDER BY position") == [
            ("pledges", 1), ("pledges", 6)]
        assert not witness(pledges, body(first))  # a service does not witness itself
    finally:
        stop.set()
        relay.wake()
        thread.join(timeout=10)
        applications.close()


def test_an_event_whose_seal_cannot_be_written_is_not_written(store: Store, pledges: Pledges) -> None:
    """The seal is written in the event's own transaction: when it fails, so does the event."""
    pledge_journey(pledges, "100001")
    raw = Raw(store, "pledges")
    events, seal = raw.rows(), raw.seal_rows()
    # a link already waiting at the next position (written behind the service's back)
    raw.run(f"INSERT INTO {raw.seal} VALUES ({', '.join([raw.mark] * 4)})",
            (events[-1][0] + 1, events[-1][0], seal[-1][2], "0" * 64))
    with pytest.raises(Exception, match="already holds position"):
        pledges.register_school("account:lead", "100002", "School 100002", "primary", "CV1 2AB",
                                {"name": "Bo", "email": "bo@example.org"})
    assert raw.rows() == events  # nothing was written unsealed


# -- product bugs, pinned --------------------------------------------------------------------------


def test_sqlite_refuses_insert_or_replace_over_a_stored_event_and_a_seal_link(
        sqlite_store: Store, coventry: Authority, clock: FixedClock) -> None:
    pledges = Pledges(env=sqlite_store.env("pledges"), rules=coventry.pledge, clock=clock)
    try:
        pledge_journey(pledges, "100001")
        raw = Raw(sqlite_store, "pledges")
        events, seal = raw.rows(), raw.seal_rows()
        [(aggregate,)] = raw.run("SELECT originator_id FROM stored_events WHERE rowid = 2")
        for sql, params in (
                ("INSERT OR REPLACE INTO stored_events VALUES (?, 2, ?, ?)",
                 (aggregate, events[1][3], b'{"forged":true}')),
                ("REPLACE INTO pledges_chain VALUES (1, 0, ?, ?)", (seal[0][2], "0" * 64))):
            with contextlib.suppress(sqlite3.DatabaseError):  # refused: as it should be
                raw.run(sql, params)
        assert (raw.rows(), raw.seal_rows()) == (events, seal), "history was rewritten"
    finally:
        pledges.close()


def test_audit_history_as_of_a_date(store: Store, pledges: Pledges) -> None:
    pledge_journey(pledges, "100001")
    school = str(School.create_id("100001"))
    result = sanctuary(store, "audit", "history", "pledges", school, "--as-of", "2099-01-01")
    assert "Traceback" not in result.stderr, result.stderr[-1500:]
    assert result.returncode == 0 and "Registered" in result.stdout


# -- 7. upgrading a store sealed the old way -------------------------------------------------------

OLD_STORE = Path(__file__).parent / "data" / "pledges-sealed-v1.sqlite"
OLD_DIGEST = "10:3c1d46e72cd3f6ed"  # what `audit digest` printed for it, under the old release


def old_store(store: Store) -> None:
    """The pledges store made by the release before keyed sealing (OLD_STORE: two pledge journeys,
    sealed by the relay to position 10, an erasure, one registration after the seal). On
    PostgreSQL its rows are copied into the tables that release made there."""
    if store.kind == "sqlite":
        (store.settings.data_dir / "pledges.sqlite").write_bytes(OLD_STORE.read_bytes())
        return
    from eventsourcing.postgres import PostgresFactory
    from eventsourcing.utils import Environment

    from shared.personal import SubjectKeys
    from shared.store import store_env

    owner = {**store_env("pledges", store.settings), **store.env_extra}
    factory = PostgresFactory(Environment("pledges", owner))
    factory.process_recorder()  # pledges_events, pledges_tracking
    SubjectKeys(factory.datastore, "pledges_subject_keys")
    factory.close()
    schema = store.env_extra["POSTGRES_SCHEMA"]
    with contextlib.closing(sqlite3.connect(OLD_STORE)) as old:
        events = old.execute("SELECT rowid, * FROM stored_events ORDER BY rowid").fetchall()
        keys = old.execute("SELECT * FROM pledges_subject_keys").fetchall()
        seal = old.execute("SELECT * FROM pledges_seal").fetchall()
    raw = Raw(store, "pledges")
    connection = raw.connect()
    try:
        connection.execute(f"CREATE TABLE {schema}.pledges_seal "
                           "(notification_id BIGINT PRIMARY KEY, hash TEXT NOT NULL)")
        for position, aggregate, version, topic, state in events:
            connection.execute(f"INSERT INTO {schema}.pledges_events (originator_id, originator_version, "
                               "topic, state, notification_id) VALUES (%s, %s, %s, %s, %s)",
                               (uuid.UUID(hex=aggregate), version, topic, state, position))
        connection.execute(f"SELECT setval('{schema}.pledges_events_notification_id_seq', %s)",
                           (len(events),))
        for row in keys:
            connection.execute(f"INSERT INTO {schema}.pledges_subject_keys VALUES (%s, %s, %s, %s, %s)", row)
        for row in seal:
            connection.execute(f"INSERT INTO {schema}.pledges_seal VALUES (%s, %s)", row)
    finally:
        connection.close()


def test_a_store_sealed_the_old_way_is_resealed_once_after_its_old_seal_verifies(
        store: Store, coventry: Authority, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    from sanctuary.cli import main

    old_store(store)
    for name, value in store.os_environ().items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> tuple[int, str]:
        code = main(["audit", *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    # the new release reads the old store, but will not write to it unsealed
    app = Pledges(env=store.env("pledges"), rules=coventry.pledge)
    try:
        assert app.school("100001")["status"] == "signed"
        with pytest.raises(Exception, match="audit reseal pledges"):
            app.express_interest("account:lead", "100003")
    finally:
        app.close()
    code, out = run("verify", "pledges")
    assert code == 1 and "not resealed: pledges_seal is the seal of an earlier release" in out, out

    # an old seal that does not verify is not resealed over
    raw = Raw(store, "pledges")
    [(state,)] = raw.run(f"SELECT state FROM {raw.events} WHERE {raw.position} = 3")
    raw.unprotect()
    raw.alter(3, b'"body":"slt"', b'"body":"pta"')
    code, out = run("reseal", "pledges", "--by", "Ann Operator")
    assert code == 1 and "NOT RESEALED" in out and "position 3: altered" in out, out
    raw.run(f"UPDATE {raw.events} SET state = {raw.mark} WHERE {raw.position} = 3", (bytes(state),))
    code, out = run("reseal", "pledges", "--by", "Ann Operator", "--digest", "10:0000000000000000")
    assert code == 1 and "differs from the published digest" in out, out
    assert raw.seal_rows() == []  # nothing written

    tracking = "tracking" if raw.sqlite else f"{raw.schema}.pledges_tracking"
    raw.run(f"INSERT INTO {tracking} VALUES ('outbox', 10)")  # the old relay had published to 10
    code, out = run("reseal", "pledges", "--by", "Ann Operator", "--digest", OLD_DIGEST)
    assert code == 0, out
    assert "the old seal reaches position 10; 1 events after it were never sealed" in out
    assert "RESEALED: 11 events" in out and "and 1 tracking rows recorded" in out
    code, out = run("verify", "pledges")
    assert code == 0, out
    assert f"resealed by Ann Operator; the old seal reached 10 (digest {OLD_DIGEST}), and never covered " \
           "11 to 11" in out
    code, out = run("reseal", "pledges", "--by", "Ann Operator")
    assert code == 2 and "sealed the new way already" in out, out

    app = Pledges(env=store.env("pledges"), rules=coventry.pledge)
    try:
        app.express_interest("account:lead", "100003")  # writing again, sealed as written
        assert app.school("100002")["coordinator"]["email"] == "[erased]"  # the erasure still holds
    finally:
        app.close()
    code, out = run("verify", "pledges")
    assert code == 0 and "12 events checked" in out, out


def test_a_witness_table_made_before_heard_heads_were_sealed_is_upgraded(
        store: Store, coventry: Authority, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    """The table as the release before made it, with a head in it (one that pledges' chain never
    had): preparing the store adds the MAC's columns, a head heard from then on is sealed, verify
    says the store needs ``audit upgrade``, which records the head as differing from pledges' chain;
    from then on the head is held against pledges (this record, or pledges' store, was altered)."""
    from sanctuary.cli import main

    for name, value in store.os_environ().items():
        monkeypatch.setenv(name, value)
    store.env("accounts")  # PostgreSQL: the tables made for the services' role
    raw = Raw(store, "accounts")
    raw.run(f"DROP TABLE IF EXISTS {raw.witness}")
    raw.run(f"CREATE TABLE {raw.witness} (origin TEXT NOT NULL, position BIGINT NOT NULL, digest TEXT NOT "
            "NULL, ledger BIGINT NOT NULL, ledger_digest TEXT NOT NULL, published_at TEXT NOT NULL, heard_at "
            "TEXT NOT NULL, UNIQUE (origin, position, digest, ledger, ledger_digest))")
    raw.run(f"INSERT INTO {raw.witness} VALUES ('pledges', 1, '{'a' * 64}', 1, '{'b' * 64}', 'then', 'then')")
    role = dict(item.split("=", 1) for item in SERVICE_ROLE.split()).get("user", "sanctuary_service")
    assert main(["prepare-stores", "--grant", role]) == 0  # as after every upgrade
    pledges = Pledges(env=store.env("pledges"), rules=coventry.pledge)
    accounts = Accounts(env=store.env("accounts"), secret_key="k" * 40, send_link=lambda *_: None)
    try:
        pledge_journey(pledges, "100001")
        assert witness(accounts, head_event("pledges", head_of(pledges), "coventry").to_dict())
    finally:
        pledges.close()
        accounts.close()
    rows = raw.run(f"SELECT position, mac IS NOT NULL FROM {raw.witness} ORDER BY position")
    assert rows == [(1, False), (5, True)]
    capsys.readouterr()
    assert main(["audit", "verify", "pledges"]) == 0  # against the sealed head only
    assert main(["audit", "verify", "accounts"]) == 1
    out = capsys.readouterr().out
    assert "NOT UPGRADED: not upgraded: 0 tracking row(s) and 1 heard head(s)" in out, out
    assert main(["audit", "upgrade", "accounts", "--by", "Ann Operator"]) == 0
    out = capsys.readouterr().out
    assert "the head heard from pledges at 1: differs: the chain of pledges has another link at 1" in out, out
    assert main(["audit", "verify", "accounts"]) == 0
    assert main(["audit", "verify", "pledges"]) == 1
    assert "position 1: rewritten: the link at 1 is not the one accounts heard" in capsys.readouterr().out
