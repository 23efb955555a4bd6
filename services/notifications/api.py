"""Every operation of the notifications service, declared once (see shared/operations.py)."""

from __future__ import annotations

from shared.subject_access import PersonalDataApi


class NotificationsApi(PersonalDataApi):
    service = "notifications"
