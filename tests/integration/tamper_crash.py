"""Run in a child process by the tamper suite: register a school in the pledges store.

With SANCTUARY_CRASH_AT=ledger.before_commit (the new person's key recorded, not committed) or
seal.before_commit (the events and their links written, not committed) the process SIGKILLs
itself there, as a power cut would.
"""

from __future__ import annotations

import json
import os
import sys

from services.pledges.application import Pledges
from shared.authority import load_authority
from shared.config import ROOT


def main() -> int:
    rules = load_authority(ROOT / "deploy" / "authorities" / "coventry.toml").pledge
    app = Pledges(env=json.loads(os.environ["TAMPER_STORE_ENV"]), rules=rules)
    app.register_school("account:lead", "100007", "School 100007", "primary", "CV1 2AB",
                        {"name": "Killed Midway", "email": "killed@100007.example.org"})
    print("registered: the crash point was never reached")
    return 0


if __name__ == "__main__":
    sys.exit(main())
