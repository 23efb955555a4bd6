"""psycopg 3 under eventlet: queries must yield to other green threads.

Without ``PSYCOPG_WAIT_FUNC=wait_select`` a query blocks the whole hub. The
check runs in a child process started as a service starts, both without the
variable in its environment (our package must set it) and with psycopg's
default forced (the check must be able to fail).
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.components import POSTGRES


def run_check(**env: str) -> str:
    child_env = {k: v for k, v in os.environ.items() if k != "PSYCOPG_WAIT_FUNC"}
    child_env.update(SANCTUARY_TEST_POSTGRES=POSTGRES, **env)
    result = subprocess.run([sys.executable, "-m", "tests.integration.psycopg_overlap"],
                            env=child_env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_a_service_process_lets_postgres_queries_overlap() -> None:
    assert run_check() == "OVERLAP"


def test_the_check_detects_a_blocked_hub() -> None:
    assert run_check(PSYCOPG_WAIT_FUNC="wait_c").startswith("BLOCKED")
