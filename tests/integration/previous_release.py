"""Writes stores with the code of the release before tracking rows and heard heads were sealed
(git commit d1509b7): run by tests/integration/test_upgrade.py as its own process, with that
release's tree as the working directory and first on the path, and the stores' settings (as
``Store.env``, by service) as JSON in its one argument.

Pledges: two pledge journeys (10 events), a tracking row of an upstream event it processed and
one of the relay's; accounts: the pledges heads at 5 and at 10 heard, and one tracking row.
"""

from __future__ import annotations

import json
import sys

from eventsourcing.persistence import Tracking

from services.accounts.application import Accounts
from services.pledges.application import Pledges
from shared.authority import load_authority
from shared.config import ROOT
from shared.outbox import RELAY
from shared.witness import head_event, head_of, witness


def journey(app: Pledges, urn: str) -> None:
    app.register_school("account:lead", urn, f"School {urn}", "primary", "CV1 2AB",
                        {"name": "Ann Coordinator", "email": f"ann@{urn}.example.org"})
    app.express_interest("account:lead", urn)
    app.record_commitment("account:lead", urn, "slt", "Ms Head", "Head teacher")
    app.record_commitment("account:lead", urn, "governors", "Mr Chair", "Chair")
    app.sign_pledge("account:coordinator", urn, "Ms Head", "Head teacher")


def main(envs: dict[str, dict[str, str]]) -> None:
    rules = load_authority(ROOT / "deploy" / "authorities" / "coventry.toml").pledge
    pledges = Pledges(env=envs["pledges"], rules=rules)
    accounts = Accounts(env=envs["accounts"], secret_key="k" * 40, send_link=lambda *_: None)
    try:
        for urn in ("100001", "100002"):
            journey(pledges, urn)
            assert witness(accounts, head_event("pledges", head_of(pledges), "coventry").to_dict())
        assert pledges.save_tracked(Tracking("applications", 3))
        pledges.recorder_.insert_tracking(Tracking(RELAY, 10))
        assert accounts.save_tracked(Tracking("pledges", 4))
    finally:
        pledges.close()
        accounts.close()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
