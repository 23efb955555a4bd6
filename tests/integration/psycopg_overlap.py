"""Run as a child process, started the way a service starts: import our package,
patch eventlet, then check that a PostgreSQL query waiting on a lock lets other
green threads run. Prints OVERLAP or BLOCKED."""

from __future__ import annotations

import eventlet  # noqa: E402

import shared  # noqa: F401  (first, as in every service process)

eventlet.monkey_patch()

import os  # noqa: E402
import sys  # noqa: E402

import psycopg  # noqa: E402

LOCK = 424242


def main() -> int:
    conninfo = os.environ["SANCTUARY_TEST_POSTGRES"]
    holder = psycopg.connect(conninfo, autocommit=True)
    waiter = psycopg.connect(conninfo, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (LOCK,))
    waiter.execute("SET statement_timeout = '3s'")

    def wait_for_lock() -> str:
        waiter.execute("SELECT pg_advisory_lock(%s)", (LOCK,))
        return "acquired"

    thread = eventlet.spawn(wait_for_lock)
    eventlet.sleep(0.3)  # the waiter is now blocked inside its query
    # Reaching this line while the waiter still waits is the proof: a blocked
    # hub would have run nothing until the statement timeout killed the query.
    overlapped = not thread.dead
    holder.execute("SELECT pg_advisory_unlock(%s)", (LOCK,))
    try:
        result = thread.wait()
    except psycopg.errors.QueryCanceled:
        result = "timed out"
    print("OVERLAP" if overlapped and result == "acquired" else f"BLOCKED ({result})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
