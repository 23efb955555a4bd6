"""Every operation of the events service, declared once (see shared/operations.py)."""

from __future__ import annotations

from shared.subject_access import PersonalDataApi


class EventsApi(PersonalDataApi):
    service = "events"
