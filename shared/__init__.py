"""Code every Schools of Sanctuary service shares: store set-up, outbox relay,
idempotent consumption, the integration-event envelope, configuration."""

import os

# psycopg reads this once, at import: without it every query blocks the whole
# eventlet hub (measured: five 1 s queries took 5.1 s, with it 1.05 s). Set
# here, the first thing any of our processes imports, so no service forgets it.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
