"""Subject access and erasure, for every service that keeps personal data.

``records_about`` finds everything a service's log holds about some subjects
(a subject access export) and ``PersonalDataApi`` answers it over RPC;
``shared.erasure`` shreds the subjects the accounts service names as erased.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.access import LEAD
from shared.envelope import IntegrationEvent
from shared.operations import Api, Operation
from shared.personal import Personal, PersonalDataApplication, subject_for_email, subject_for_name

BATCH = 1000


def records_about(app: PersonalDataApplication, subjects: set[str]) -> list[dict]:
    """Every stored event of ``app`` holding personal data of ``subjects``, with that data."""
    found = []
    position = 0
    while True:
        notifications = app.recorder.select_notifications(start=position + 1, limit=BATCH)
        for notification in notifications:
            event = app.mapper.to_domain_event(notification)
            fields = dict(_personal_fields(vars(event), subjects))
            if fields:
                found.append({
                    "service": app.name, "event": type(event).__qualname__.split(".")[-1],
                    "aggregate": str(event.originator_id), "version": event.originator_version,
                    "at": event.timestamp.isoformat(), "fields": fields,
                })
            position = notification.id
        if len(notifications) < BATCH:
            return found


def _personal_fields(value: Any, subjects: set[str], path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Personal):
        if value.subject in subjects:
            yield path, "[erased]" if value.erased else value.value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _personal_fields(item, subjects, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _personal_fields(item, subjects, f"{path}[{index}]")


def subjects_of(person: dict) -> list[str]:
    """The subject ids for a person named by email and/or by name at a school."""
    subjects = []
    if person.get("email"):
        subjects.append(subject_for_email(person["email"]))
    if person.get("name") and person.get("urn"):
        subjects.append(subject_for_name(person["urn"], person["name"]))
    return subjects


def forget(app: PersonalDataApplication, news: IntegrationEvent) -> list:
    """Shred every subject named; repeating it changes nothing."""
    for subject in news.payload["subjects"]:
        app.erase_subject(subject)
    return []


class PersonalDataApi(Api):
    """What every service that keeps personal data answers: a subject access export."""

    personal_data = Operation(LEAD, lambda app, subjects: records_about(app, set(subjects)),
                              ("subjects",), caller=None)
