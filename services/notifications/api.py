"""Every operation of the notifications service, declared once (see shared/operations.py)."""

from __future__ import annotations

from services.notifications import schemas
from services.notifications.application import Notifications
from shared.access import LEAD, PUBLIC, SCHOOL_STAFF
from shared.operations import Operation
from shared.subject_access import PersonalDataApi


def _delivery_log(app: Notifications, status: str | None = None, kind: str | None = None) -> dict:
    return {"items": app.delivery_log(status, kind), "counts": app.counts()}


class NotificationsApi(PersonalDataApi):
    service = "notifications"

    # -- the lead's ---------------------------------------------------------------
    delivery_log = Operation(LEAD, _delivery_log, input=schemas.LogQuery, output=schemas.DeliveryLog,
                             caller=None)

    # messages to a group: who it reaches (a preview), sending it, and those sent
    audience = Operation(LEAD, lambda app, group: app.audience(group), input=schemas.AudienceQuery,
                         output=schemas.Audience, caller=None)
    send_message = Operation(LEAD, Notifications.send_message, input=schemas.NewMessage,
                             output=schemas.MessageView)
    messages = Operation(LEAD, lambda app: {"items": app.messages()}, output=schemas.MessageList, caller=None)

    # -- a school's staff: the messages the lead sent the school, part of its history ------
    school_messages = Operation(SCHOOL_STAFF, lambda app, urn: {"items": app.messages(urn)}, ("urn",),
                                output=schemas.MessageList, caller=None)

    # -- anyone holding a link from an email (the link is the key) -------------------------
    offer = Operation(PUBLIC, Notifications.offer, input=schemas.LinkToken, output=schemas.OfferView,
                      caller=None)
    unsubscription = Operation(PUBLIC, Notifications.unsubscription, input=schemas.LinkToken,
                               output=schemas.Unsubscription, caller=None)
    unsubscribe = Operation(PUBLIC, Notifications.unsubscribe, input=schemas.LinkToken,
                            output=schemas.Unsubscription, caller=None)
