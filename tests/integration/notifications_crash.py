"""Run in a child process by the notification tests: send what is due, once.

Reads the store's eventsourcing environment (JSON) from NOTIFY_TEST_STORE_ENV, the
mail sink's port from NOTIFY_TEST_SMTP_PORT and the moment to act at (ISO) from
NOTIFY_TEST_NOW. With SANCTUARY_CRASH_AT=notifications.before_claim (or before_send,
or after_send) the process SIGKILLs itself at that point, as a power cut would.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys

from services.notifications.application import Notifications
from shared.authority import load_authority
from shared.clock import FixedClock
from shared.config import ROOT
from shared.mail import Mailer, SmtpSettings

MAIL_FROM = "Schools of Sanctuary <no-reply@sanctuary.invalid>"


def main() -> int:
    authority = load_authority(ROOT / "deploy" / "authorities" / "coventry.toml")
    app = Notifications(
        env=json.loads(os.environ["NOTIFY_TEST_STORE_ENV"]),
        authority=authority,
        mail_from=MAIL_FROM,
        mail_domain="sanctuary.invalid",
        clock=FixedClock(dt.datetime.fromisoformat(os.environ["NOTIFY_TEST_NOW"])),
    )
    settings = SmtpSettings("127.0.0.1", int(os.environ["NOTIFY_TEST_SMTP_PORT"]), "none", None, None, 5.0)
    try:
        print(json.dumps(app.send_due(Mailer(settings))))
    finally:
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
