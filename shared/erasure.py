"""Every service that keeps personal data shreds it when the accounts service says so."""

from __future__ import annotations

from typing import Any

from shared.consumer import consume, integration_handler
from shared.subject_access import forget


class PersonalDataService:
    """Mixed into a service whose ``application`` is a PersonalDataApplication: shreds the
    subjects named in the accounts service's ``PersonalDataErased`` events."""

    application: Any

    @integration_handler("accounts", "PersonalDataErased")
    def on_personal_data_erased(self, body: dict) -> None:
        consume(self.application, body, lambda news: forget(self.application, news))
