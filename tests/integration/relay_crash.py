"""Run in a child process by the relay tests: drain the pledges outbox once.

With SANCTUARY_CRASH_AT=relay.after_publish the process SIGKILLs itself after
publishing and before recording the position, as a power cut would.
"""

from __future__ import annotations

import json
import os
import sys

from services.pledges.application import Pledges
from services.pledges.contract import PLEDGES
from shared.authority import load_authority
from shared.bus import BusPublisher
from shared.config import ROOT
from shared.outbox import OutboxRelay
from shared.relay_lock import FileRelayLock


def main() -> int:
    env = json.loads(os.environ["RELAY_TEST_STORE_ENV"])
    rules = load_authority(ROOT / "deploy" / "authorities" / "coventry.toml").pledge
    app = Pledges(env=env, rules=rules)
    publisher = BusPublisher(os.environ["RELAY_TEST_AMQP_URI"], "pledges")
    relay = OutboxRelay(app, PLEDGES, "coventry", publisher,
                        FileRelayLock(os.path.join(os.environ["RELAY_TEST_DIR"], "crash.lock")))
    print(relay.drain())
    return 0


if __name__ == "__main__":
    sys.exit(main())
