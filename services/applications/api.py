"""Every operation of the applications service, declared once (see shared/operations.py)."""

from __future__ import annotations

from shared.subject_access import PersonalDataApi


class ApplicationsApi(PersonalDataApi):
    service = "applications"
