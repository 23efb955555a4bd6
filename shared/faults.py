"""Named crash points for fault tests.

``SANCTUARY_CRASH_AT=relay.after_publish`` makes a process SIGKILL itself the
first time it reaches that point, exactly as a power cut would: no cleanup,
no ``finally``. Unset in production, where this is a dictionary look-up.
"""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if name in os.environ.get("SANCTUARY_CRASH_AT", "").split(","):
        os.kill(os.getpid(), signal.SIGKILL)
