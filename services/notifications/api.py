"""Every operation of the notifications service, declared once (see shared/operations.py)."""

from __future__ import annotations

from services.notifications import schemas
from services.notifications.application import Notifications
from shared.access import LEAD
from shared.operations import Operation
from shared.subject_access import PersonalDataApi


def _delivery_log(app: Notifications, status: str | None = None, kind: str | None = None) -> dict:
    return {"items": app.delivery_log(status, kind), "counts": app.counts()}


class NotificationsApi(PersonalDataApi):
    service = "notifications"

    # -- the lead's ---------------------------------------------------------------
    delivery_log = Operation(LEAD, _delivery_log, input=schemas.LogQuery, output=schemas.DeliveryLog,
                             caller=None)
