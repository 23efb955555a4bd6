"""The accounts service's read model of its own log: every account, and the
sign-in emails not yet delivered (a delivered one is forgotten, so thousands of
sign-ins do not pile up in memory)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.accounts.domain import SignInMail
from shared.projection import AggregateProjection


class Directory(AggregateProjection):
    def _apply(self, domain_event: Any) -> None:
        if isinstance(domain_event, SignInMail.Event) and domain_event.originator_version > 1 \
                and domain_event.originator_id not in self.aggregates:
            return  # an email forgotten once finished (events after that: none, by design)
        super()._apply(domain_event)
        mail = self.aggregates[domain_event.originator_id]
        if isinstance(mail, SignInMail) and mail.finished:
            del self.aggregates[domain_event.originator_id]

    def mail_due(self, now: dt.datetime) -> list[SignInMail]:
        return [m for m in self.all() if isinstance(m, SignInMail) and m.due(now)]
