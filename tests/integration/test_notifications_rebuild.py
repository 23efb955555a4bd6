"""Rebuilding the notifications service from the other services' history: it learns
everything again, but nobody is sent last year's emails a second time."""

from __future__ import annotations

import datetime as dt
import functools

from services.notifications.application import Notifications
from services.notifications.policies import react
from shared.clock import FixedClock
from shared.consumer import consume
from shared.envelope import IntegrationEvent

NOW = dt.datetime(2027, 5, 1, 9, 0, tzinfo=dt.UTC)


def registered(position: int, occurred_at: str, urn: str, email: str) -> dict:
    return IntegrationEvent(
        id=f"00000000-0000-4000-8000-{position:012d}", type="SchoolRegistered", schema_version=1,
        origin="pledges", position=position, occurred_at=occurred_at, authority="coventry",
        actor="account:lead",
        payload={"urn": urn, "name": f"School {urn}", "phase": "primary", "postcode": "CV1 2AB",
                 "coordinator": {"name": "Ann", "email": email}}).to_dict()


def test_replayed_history_is_learnt_but_not_mailed_again(store, coventry) -> None:
    app = Notifications(env=store.env("notifications"), authority=coventry,
                        mail_from="Schools of Sanctuary <no-reply@sanctuary.invalid>",
                        mail_domain="sanctuary.invalid", clock=FixedClock(NOW), send_after=NOW)
    try:
        hear = functools.partial(react, app)
        consume(app, registered(1, "2026-10-01T10:00:00+00:00", "100001", "old@example.org"), hear)
        consume(app, registered(2, "2027-05-01T10:00:00+00:00", "100002", "new@example.org"), hear)
        log = {entry["to"]: entry["status"] for entry in app.delivery_log()}
        assert log == {"old@example.org": "suppressed", "new@example.org": "pending"}
        assert app.coordinator("100001") == ("Ann", "old@example.org")  # learnt all the same
    finally:
        app.close()
