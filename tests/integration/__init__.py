"""Integration tests: the applications on a real store and RabbitMQ.

The modules about the store itself (audit and seal, backup, relay, tamper, upcasting, personal
data and erasure, store connections) run on SQLite and on PostgreSQL. The modules about the
applications' behaviour (ON_POSTGRES) run on PostgreSQL, the production store, only: the same
behaviour on SQLite is what every end-to-end system runs on (tests/e2e), and running each
behaviour twice cost a third of this folder's time.
"""

import pytest

ON_POSTGRES = pytest.mark.parametrize("store", ["postgres"], indirect=True)
