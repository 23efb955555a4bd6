"""``sanctuary backup`` and ``sanctuary restore`` on SQLite and PostgreSQL: real data made through
the applications' own commands, backed up, the stores wiped, restored, and every event, every
aggregate's state and the seal back as they were, with the services able to carry on writing.
A changed backup file, a store that already holds data and a running service are refused."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sanctuary import backup
from services.accounts.application import Accounts
from services.applications.application import Applications
from services.events.application import Programme
from services.pledges.application import Pledges
from shared.access import Principal
from shared.authority import Authority
from shared.clock import FixedClock
from shared.config import ROOT
from shared.errors import NotFound
from shared.relay_lock import relay_lock_for
from tests.components import Store

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
SANCTUARY = ROOT / ".venv" / "bin" / "sanctuary"
SCHOOLS = {"103712": "Hill Primary", "103713": "Oak Academy", "103714": "Elm Secondary"}
CONTACT = {"name": "Ann Coordinator", "email": "ann@example.org"}
REFUSED = (sqlite3.DatabaseError, psycopg.Error)


@dataclass
class System:
    """The applications with a store, opened on the test's store as the services open them."""

    store: Store
    authority: Authority
    opened: list[Any] = field(default_factory=list)

    def open(self) -> dict[str, Any]:
        clock = FixedClock(NOW)
        apps = {
            "pledges": Pledges(env=self.store.env("pledges"), rules=self.authority.pledge, clock=clock),
            "accounts": Accounts(env=self.store.env("accounts"), secret_key="k" * 40, clock=clock,
                                 send_link=lambda *_: None),
            "events": Programme(env=self.store.env("events"), authority=self.authority, clock=clock),
            "applications": Applications(env=self.store.env("applications"), authority=self.authority,
                                         clock=clock),
        }
        self.opened.extend(apps.values())
        return apps

    def close(self) -> None:
        while self.opened:
            self.opened.pop().close()

    def environ(self) -> dict[str, str]:
        """What the ``sanctuary`` command reads: the settings the services are started with."""
        return self.store.os_environ()


@pytest.fixture
def system(store: Store, coventry: Authority) -> Iterator[System]:
    opened = System(store, coventry)
    yield opened
    opened.close()


def populate(apps: dict[str, Any]) -> Principal:
    """Schools registered and pledged, accounts invited, the CPD programme seeded: every event
    sealed as it was written."""
    pledges, accounts = apps["pledges"], apps["accounts"]
    for urn, name in SCHOOLS.items():
        pledges.register_school("lead", urn, name, "primary", "CV1 2AB", CONTACT)
    for urn in list(SCHOOLS)[:2]:
        pledges.express_interest("lead", urn)
        pledges.record_commitment("lead", urn, "slt", "Ms Head", "Head teacher")
        pledges.record_commitment("lead", urn, "governors", "Mr Chair", "Chair of governors")
        pledges.sign_pledge("coordinator", urn, "Ms Head", "Head teacher")
    view = accounts.invite(None, "lead@example.org", "Lena Lead", [{"role": "lead"}], actor="system:cli")
    lead = Principal(view["id"], "Lena Lead", frozenset({("lead", None)}))
    accounts.invite(lead, "cora@school.org", "Cora", [{"role": "coordinator", "urn": "103712"}])
    apps["events"].seed()
    pledges.express_interest("lead", "103714")
    return lead


def notifications(app: Any) -> list[tuple]:
    """The whole log as stored: position, aggregate, version, topic and bytes."""
    return [(n.id, n.originator_id, n.originator_version, n.topic, bytes(n.state))
            for n in app.recorder.select_notifications(start=1, limit=10**6)]


def state(apps: dict[str, Any], lead: Principal) -> dict[str, Any]:
    """What each application answers about its aggregates."""
    return {
        "schools": {urn: apps["pledges"].school(urn) for urn in SCHOOLS},
        "accounts": apps["accounts"].accounts(lead),
        "programme": apps["events"].programme(),
    }


def wipe(store: Store, schema_too: bool = False) -> None:
    """Lose every store: the SQLite files, or everything in the PostgreSQL schema (with
    ``schema_too`` the schema itself, which the restore then creates)."""
    if store.kind == "sqlite":
        for path in store.settings.data_dir.glob("*.sqlite*"):
            path.unlink()
        return
    schema = store.env_extra["POSTGRES_SCHEMA"]
    with psycopg.connect(**_pg(store), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
        if not schema_too:
            conn.execute(f"CREATE SCHEMA {schema}")


def _pg(store: Store) -> dict[str, str]:
    env = store.env_extra
    return {"host": env["POSTGRES_HOST"], "port": env["POSTGRES_PORT"], "user": env["POSTGRES_USER"],
            "password": env["POSTGRES_PASSWORD"], "dbname": env["POSTGRES_DBNAME"]}


def raw(store: Store, service: str, statement: Callable[[str], str]) -> None:
    """Run SQL on a service's events table behind the application's back."""
    if store.kind == "sqlite":
        with sqlite3.connect(store.settings.data_dir / f"{service}.sqlite") as conn:
            conn.execute(statement("stored_events"))
        return
    with psycopg.connect(**_pg(store), autocommit=True) as conn:
        conn.execute(statement(f"{store.env_extra['POSTGRES_SCHEMA']}.{service}_events"))


def sanctuary(system: System, *args: str) -> subprocess.CompletedProcess:
    """The installed command, as an operator (or the backup timer) runs it."""
    return subprocess.run([str(SANCTUARY), *args], env={**os.environ, **system.environ()}, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def test_a_backup_restores_every_event_and_the_services_carry_on(system: System, tmp_path: Path) -> None:
    apps = system.open()
    lead = populate(apps)
    logs = {name: notifications(app) for name, app in apps.items()}
    digests = {name: app.seal.digest() for name, app in apps.items()}
    before = state(apps, lead)
    folder = tmp_path / "backups" / "tonight"

    made = sanctuary(system, "backup", str(folder))  # while the applications are open
    assert made.returncode == 0, made.stderr
    manifest = json.loads((folder / "manifest.json").read_text())
    entries = {entry["service"]: entry for entry in manifest["services"]}
    assert manifest["store"] == system.store.kind
    assert {name: e["position"] for name, e in entries.items()} == {
        name: (log[-1][0] if log else 0) for name, log in logs.items()}
    assert entries["pledges"]["position"] == int(digests["pledges"].split(":")[0])  # all sealed
    assert {name: e["digest"] for name, e in entries.items() if e["digest"]} == {
        name: d for name, d in digests.items() if not d.startswith("0:")}
    assert all(backup.sha256(folder / e["file"]) == e["sha256"] for e in entries.values())
    system.close()

    wipe(system.store, schema_too=True)
    restored = sanctuary(system, "restore", str(folder))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    for name, entry in entries.items():
        assert f"{name}: newest position {entry['position']} (backup: {entry['position']})" in restored.stdout
    assert restored.stdout.count("  OK") == len(entries)

    apps = system.open()
    assert {name: notifications(app) for name, app in apps.items()} == logs
    assert state(apps, lead) == before
    for name, app in apps.items():
        assert app.seal.verify(entries[name]["digest"]).ok
        assert app.seal.digest() == digests[name]
    newest = logs["pledges"][-1][0]
    apps["pledges"].register_school("lead", "103715", "Ash Infants", "primary", "CV2 1AA", CONTACT)
    assert apps["pledges"].recorder.max_notification_id() == newest + 1
    assert apps["pledges"].seal.head()[0] == newest + 1  # sealed as written
    assert apps["pledges"].seal.verify().ok
    with pytest.raises(REFUSED):  # the log is append-only again
        raw(system.store, "pledges", lambda table: f"UPDATE {table} SET topic = 'rewritten'")


def test_a_changed_backup_file_is_refused_before_anything_is_touched(
        system: System, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    populate(system.open())
    folder = tmp_path / "backup"
    assert backup.backup(folder, environ=system.environ()) == 0
    system.close()
    damaged = folder / json.loads((folder / "manifest.json").read_text())["services"][1]["file"]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    wipe(system.store)
    capsys.readouterr()

    assert backup.restore(folder, force=True, environ=system.environ()) == backup.REFUSED
    said = capsys.readouterr()
    assert f"{damaged}: SHA-256 does not match the manifest" in said.err
    assert "restored" not in said.out
    apps = system.open()  # every store still as wiped, not only the damaged one
    assert all(app.recorder.max_notification_id() in (0, None) for app in apps.values())


def test_a_store_with_data_is_only_replaced_with_force(
        system: System, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    apps = system.open()
    populate(apps)
    folder = tmp_path / "backup"
    assert backup.backup(folder, environ=system.environ()) == 0
    positions = {e["service"]: e["position"] for e in backup.read_manifest(folder)["services"]}
    apps["pledges"].register_school("lead", "103799", "Late School", "primary", "CV3 3CC", CONTACT)
    system.close()

    assert backup.restore(folder, environ=system.environ()) == backup.REFUSED
    assert "already holds data; restore onto it only with --force" in capsys.readouterr().err
    assert system.open()["pledges"].school("103799")["name"] == "Late School"
    system.close()

    assert backup.restore(folder, force=True, environ=system.environ()) == 0
    apps = system.open()
    assert {name: app.recorder.max_notification_id() or 0 for name, app in apps.items()} == positions
    with pytest.raises(NotFound):  # back to the moment of the backup
        apps["pledges"].school("103799")


def test_a_running_service_is_not_restored_under(
        system: System, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    apps = system.open()
    populate(apps)
    folder = tmp_path / "backup"
    assert backup.backup(folder, environ=system.environ()) == 0
    relay_lock = relay_lock_for(apps["pledges"], system.store.settings)  # what a running relay holds
    assert relay_lock.acquire()
    try:
        assert backup.restore(folder, force=True, environ=system.environ()) == backup.REFUSED
    finally:
        relay_lock.release()
    assert "pledges is running; stop every service first" in capsys.readouterr().err


def test_a_backup_goes_into_a_new_folder_only(system: System, tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    populate(system.open())
    assert backup.backup(tmp_path / "nightly", dated=True, environ=system.environ()) == 0
    [made] = (tmp_path / "nightly").iterdir()
    assert dt.datetime.strptime(made.name, "%Y-%m-%dT%H%M%SZ")
    assert (made / "manifest.json").is_file() and made.stat().st_mode & 0o777 == 0o700
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in made.iterdir())  # personal-data keys inside
    assert backup.backup(made, environ=system.environ()) == backup.REFUSED
    assert "is not empty; back up into a new folder" in capsys.readouterr().err


def test_the_library_files_travel_with_the_backup(system: System, tmp_path: Path) -> None:
    from services.library.files import FileStore

    populate(system.open())
    files = FileStore(system.store.settings.data_dir / "library")
    digest = files.put(b"%PDF-1.4 the resource pack")
    folder = tmp_path / "with-files"
    made = sanctuary(system, "backup", str(folder))
    assert made.returncode == 0, made.stderr
    assert "1 library files" in made.stdout
    system.close()

    files.path(digest).unlink()
    wipe(system.store, schema_too=True)
    restored = sanctuary(system, "restore", str(folder))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert files.path(digest).read_bytes() == b"%PDF-1.4 the resource pack"

    (folder / "library-files" / digest).write_bytes(b"altered")
    wipe(system.store, schema_too=True)
    again = sanctuary(system, "restore", "--force", str(folder))
    assert again.returncode != 0 and "does not match its content" in again.stderr


def test_the_evidence_portfolios_files_travel_with_the_backup_checked_by_hash(system: System,
                                                                            tmp_path: Path) -> None:
    from services.applications.service import EVIDENCE_FILES
    from shared.files import FileStore

    populate(system.open())
    files = FileStore(system.store.settings.data_dir / EVIDENCE_FILES)
    digest = files.put(b"\xff\xd8\xff a school display photo")
    folder = tmp_path / "with-evidence"
    made = sanctuary(system, "backup", str(folder))
    assert made.returncode == 0, made.stderr
    assert "1 evidence files" in made.stdout
    system.close()

    files.path(digest).unlink()
    wipe(system.store, schema_too=True)
    restored = sanctuary(system, "restore", str(folder))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "evidence files restored: 1" in restored.stdout
    assert files.read(digest) == b"\xff\xd8\xff a school display photo"

    files.path(digest).unlink()
    (folder / "evidence-files" / digest).write_bytes(b"altered")
    wipe(system.store, schema_too=True)
    again = sanctuary(system, "restore", "--force", str(folder))
    assert again.returncode != 0 and "does not match its content" in again.stderr
