"""What every test run needs, decided by what it runs.

nameko's pytest plugin no longer monkey-patches, so we do it here, first;
except in a run of the browser tests alone (Playwright's sync API switches
greenlets of its own, and under eventlet's hub the two hang each other;
``./run-tests`` runs them in a second pytest process) and in a run of the
unit tests alone, which touch no broker, database or nameko and should not
pay for them. The fixtures for real components live in tests/components.py.
"""

from __future__ import annotations

import os
import sys
import warnings

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
# every service started by a test fails a call whose result breaks its declared output schema
os.environ["SANCTUARY_STRICT_RESPONSES"] = "1"
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER_DIR = os.path.join(HERE, "e2e", "browser")
UNIT_DIR = os.path.join(HERE, "unit")


def only_under(folder: str, argv: list[str]) -> bool:
    """Whether every path pytest was given lies in ``folder``."""
    paths = [os.path.abspath(arg.split("::")[0]) for arg in argv
             if not arg.startswith("-") and os.path.exists(arg.split("::")[0])]
    return bool(paths) and all(path.startswith(folder + os.sep) or path == folder for path in paths)


def browser_tests_only(argv: list[str]) -> bool:
    return only_under(BROWSER_DIR, argv)


BROWSER_RUN = browser_tests_only(sys.argv[1:])
UNIT_RUN = only_under(UNIT_DIR, sys.argv[1:])
if not (BROWSER_RUN or UNIT_RUN):
    import eventlet

    eventlet.monkey_patch()

import pytest  # noqa: E402

from shared.authority import Authority, load_authority  # noqa: E402
from shared.config import ROOT  # noqa: E402

if not UNIT_RUN:
    from tests.components import *  # noqa: E402, F403 - the fixtures for real components

    pytest_plugins = ["nameko.testing.pytest"]  # container_factory and friends


@pytest.fixture(scope="session")
def coventry() -> Authority:
    return load_authority(ROOT / "deploy" / "authorities" / "coventry.toml")
