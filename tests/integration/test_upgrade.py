"""``sanctuary audit upgrade`` on stores written by the release before tracking rows and heard heads
were sealed (git commit d1509b7, which sealed events under the key): that release's own code
writes them (tests/integration/previous_release.py, run from its tree), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from eventsourcing.persistence import Tracking

from services.accounts.application import Accounts
from services.pledges.application import Pledges
from shared.authority import Authority
from shared.config import ROOT
from tests.components import SERVICE_ROLE, Store
from tests.integration.test_audit import Raw

pytestmark = pytest.mark.integration

PREVIOUS = "d1509b7"  # the release before: events sealed under the key, tracking and heads not
WRITER = Path(__file__).parent / "previous_release.py"


@pytest.fixture(scope="module")
def previous_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """That release's code, from this repository's history."""
    tree = tmp_path_factory.mktemp("previous-release")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", PREVIOUS], capture_output=True)
    if archive.returncode != 0:
        pytest.skip(f"the release before ({PREVIOUS}) is not in this checkout's history: "
                    f"{archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def written_by_the_release_before(store: Store, tree: Path) -> None:
    envs = {service: store.env(service) for service in ("pledges", "accounts")}
    environ = {**os.environ, **store.os_environ(), "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, str(WRITER), json.dumps(envs)], cwd=tree, env=environ,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def tracking_table(raw: Raw) -> str:
    return "tracking" if raw.sqlite else f"{raw.schema}.{raw.service}_tracking"


def ledger_size(raw: Raw) -> int:
    table = f"{raw.service}_ledger" if raw.sqlite else f"{raw.schema}.{raw.service}_ledger"
    return raw.run(f"SELECT COUNT(*) FROM {table}")[0][0]


def test_a_store_of_the_release_before_is_upgraded_once_after_it_verifies(
        store: Store, previous_tree: Path, coventry: Authority, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    from sanctuary.cli import main

    written_by_the_release_before(store, previous_tree)
    for name, value in store.os_environ().items():
        monkeypatch.setenv(name, value)
    pledges, accounts = Raw(store, "pledges"), Raw(store, "accounts")
    # as that release left them: heads without a MAC (on SQLite, a table without its columns)
    assert accounts.run(f"SELECT position FROM {accounts.witness} ORDER BY position") == [(5,), (10,)]
    assert sorted(pledges.run(f"SELECT * FROM {tracking_table(pledges)}")) == [("applications", 3),
                                                                               ("outbox", 10)]

    def run(*args: str) -> tuple[int, str]:
        code = main(["audit", *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    # the release after runs before the step: what it writes is recorded, what was there is not
    app = Accounts(env=store.env("accounts"), secret_key="k" * 40, send_link=lambda *_: None)
    try:
        assert app.save_tracked(Tracking("pledges", 6))
    finally:
        app.close()

    # verify says, in one line, that the step is needed
    code, out = run("verify", "pledges")
    assert code == 1 and "TAMPERED" not in out, out
    assert "NOT UPGRADED: not upgraded: 2 tracking row(s) and 0 heard head(s) were written by the release " \
           "before" in out and "run `sanctuary audit upgrade pledges --by <you>`" in out, out
    code, out = run("verify", "accounts")
    assert code == 1 and "NOT UPGRADED: not upgraded: 1 tracking row(s) and 2 heard head(s)" in out, out
    code, out = run("verify", "--all")
    assert code == 1, out
    assert "accounts      NOT UPGRADED  run `sanctuary audit upgrade accounts --by <you>`" in out, out
    assert "0 TAMPERED, 2 NOT UPGRADED (accounts, pledges)" in out, out

    # a store that does not verify is not upgraded: nothing recorded
    [(state,)] = pledges.run(f"SELECT state FROM {pledges.events} WHERE {pledges.position} = 3")
    before = ledger_size(pledges)
    pledges.unprotect()
    pledges.alter(3, b'"body":"slt"', b'"body":"pta"')
    code, out = run("upgrade", "pledges", "--by", "Ann Operator")
    assert code == 1 and "NOT UPGRADED: pledges does not verify" in out and "position 3: altered" in out, out
    assert ledger_size(pledges) == before
    pledges.run(f"UPDATE {pledges.events} SET state = {pledges.mark} WHERE {pledges.position} = 3", (state,))
    role = dict(item.split("=", 1) for item in SERVICE_ROLE.split()).get("user", "sanctuary_service")
    assert main(["prepare-stores", "--grant", role]) == 0  # the triggers back

    code, out = run("upgrade", "pledges", "--by", "Ann Operator")
    assert code == 0 and "UPGRADED: pledges: 2 tracking row(s) and 0 heard head(s)" in out, out
    code, out = run("upgrade", "accounts", "--by", "Ann Operator")
    assert code == 0 and "UPGRADED: accounts: 1 tracking row(s) and 2 heard head(s)" in out, out
    assert "(2 head(s) matched their service's chain, 0 could not be checked, 0 differ)" in out, out
    code, out = run("verify", "--all")
    assert code == 0 and "0 TAMPERED" in out and "NOT UPGRADED" not in out, out
    assert "upgraded by Ann Operator: 1 tracking row(s) and 2 heard head(s) of the release before " \
           "adopted" in out, out

    # twice: nothing more to record
    before = ledger_size(accounts)
    code, out = run("upgrade", "accounts", "--by", "Ann Operator")
    assert code == 0 and "nothing to upgrade" in out, out
    assert ledger_size(accounts) == before

    # the release after writes on, recording as it goes
    app = Pledges(env=store.env("pledges"), rules=coventry.pledge)
    try:
        assert app.save_tracked(Tracking("applications", 5))
        app.register_school("account:lead", "100003", "School 100003", "primary", "CV1 2AB",
                            {"name": "Ann", "email": "ann@example.org"})
    finally:
        app.close()
    assert run("verify", "pledges")[0] == 0

    # after the step a row added (or altered) is named as it is, not as an upgrade to make
    accounts.run(f"INSERT INTO {tracking_table(accounts)} (application_name, notification_id) "
                 "VALUES ('pledges', 99)")
    head = accounts.run(f"SELECT origin, position, digest, ledger, ledger_digest, published_at, heard_at "
                        f"FROM {accounts.witness} WHERE position = 10")[0]
    accounts.run(f"INSERT INTO {accounts.witness} (origin, position, digest, ledger, ledger_digest, "
                 f"published_at, heard_at) VALUES ({', '.join([accounts.mark] * 7)})",
                 (head[0], 12, *head[2:]))
    code, out = run("verify", "accounts")
    assert code == 1 and "NOT UPGRADED" not in out and "TAMPERED: 2 problem(s)" in out, out
    assert "tracking row pledges at 99: inserted (or altered)" in out, out
    assert "the head heard from pledges at 12: altered" in out, out
    code, out = run("upgrade", "accounts", "--by", "Mallory")
    assert code == 1 and "NOT UPGRADED: accounts does not verify (2 problem(s))" in out, out
