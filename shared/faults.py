"""Named crash and hold points for fault tests.

``SANCTUARY_CRASH_AT=relay.after_publish`` makes a process SIGKILL itself the
first time it reaches that point, exactly as a power cut would: no cleanup,
no ``finally``. ``SANCTUARY_HOLD_AT=rpc.before_reply.express_interest`` makes it
wait there once, saying so in its log, until the file named by
``SANCTUARY_HOLD_UNTIL`` exists or ``SANCTUARY_HOLD_SECONDS`` (10 by default) pass: a
test stops the broker at that moment and then lets the process go on, however long
stopping took. Unset in production, where each is a dictionary look-up.
"""

from __future__ import annotations

import logging
import os
import signal
import time

log = logging.getLogger(__name__)
_held: set[str] = set()


def crash_point(name: str) -> None:
    if name in os.environ.get("SANCTUARY_CRASH_AT", "").split(","):
        os.kill(os.getpid(), signal.SIGKILL)


def hold_point(name: str) -> None:
    if name in _held or name not in os.environ.get("SANCTUARY_HOLD_AT", "").split(","):
        return
    _held.add(name)
    seconds = float(os.environ.get("SANCTUARY_HOLD_SECONDS", "10"))
    release = os.environ.get("SANCTUARY_HOLD_UNTIL")
    log.warning("holding at %s for up to %.0fs", name, seconds)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (release and os.path.exists(release)):
        time.sleep(0.05)  # green under eventlet: the rest of the process carries on
    log.warning("held at %s; going on", name)
