"""Every operation of the pledges service, declared once (see shared/operations.py)."""

from __future__ import annotations

from shared.subject_access import PersonalDataApi


class PledgesApi(PersonalDataApi):
    service = "pledges"
