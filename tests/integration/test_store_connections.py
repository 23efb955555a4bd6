"""The PostgreSQL connections a service's store holds are the settings' (SANCTUARY_POSTGRES_POOL_SIZE
kept open, up to SANCTUARY_POSTGRES_MAX_OVERFLOW more while busy), counted by PostgreSQL itself:
docs/operations.md adds them up against max_connections."""

from __future__ import annotations

import dataclasses
import os
import threading
import uuid

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from services.pledges.application import Pledges
from shared.store import store_env
from tests.components import POSTGRES, Store


def connections(name: str) -> int:
    with psycopg.connect(POSTGRES, autocommit=True, application_name="sanctuary-test-counting") as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                            (name,)).fetchone()[0]


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_store_keeps_its_pool_size_open_and_grows_no_further_than_the_overflow(
        store: Store, coventry, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"sanctuary-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(os.environ, "PGAPPNAME", name)  # what `sanctuary serve` sets, per service
    settings = dataclasses.replace(store.settings, postgres_pool_size=1, postgres_max_overflow=2)
    env = {**store.env("pledges"), **{k: v for k, v in store_env("pledges", settings).items()
                                      if k.startswith("POSTGRES_")}}
    app = Pledges(env=env, rules=coventry.pledge)
    try:
        pool = app.factory.datastore.pool
        assert (pool.min_size, pool.max_size) == (1, 3)
        app.recorder_.max_notification_id()
        assert 1 <= connections(name) <= 3

        held, release = [], threading.Event()

        def hold() -> None:
            with pool.connection() as conn:
                held.append(conn)
                release.wait(10)

        threads = [threading.Thread(target=hold) for _ in range(3)]
        for thread in threads:
            thread.start()
        try:
            while len(held) < 3:
                threading.Event().wait(0.05)
            assert connections(name) == 3  # busy: the overflow opened
            with pytest.raises(PoolTimeout):  # and no more: a fourth user waits its turn
                pool.getconn(timeout=0.5)
            assert connections(name) == 3
        finally:
            release.set()
            for thread in threads:
                thread.join(10)
    finally:
        app.close()
