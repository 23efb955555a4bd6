"""Crypto-shredding on a real store: the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from eventsourcing.domain import Aggregate, event

from shared.personal import (
    Personal,
    PersonalDataApplication,
    SubjectErased,
    subject_for_email,
    subject_for_name,
)

ADA = "Ada.Lovelace@Example.org"
ADA_SUBJECT = subject_for_email(ADA)
BOB_SUBJECT = subject_for_name("103712", "Bob Governor")


class Contact(Aggregate):
    @event("Registered")
    def __init__(self, urn: str, name: Personal, email: Personal) -> None:
        self.urn = urn
        self.name = name
        self.email = email
        self.notes: list[Personal] = []

    @event("NoteAdded")
    def add_note(self, note: Personal) -> None:
        self.notes.append(note)


class Contacts(PersonalDataApplication):
    name = "Contacts"


@pytest.fixture
def app(store) -> Contacts:
    app = Contacts(env=store.env("contacts"))
    yield app
    app.close()


@pytest.fixture
def other(store, app: Contacts) -> Contacts:
    """A second instance of the same service on the same store."""
    other = Contacts(env=store.env("contacts"))
    yield other
    other.close()


def ada() -> Contact:
    label = "coordinator of 103712"
    return Contact(
        "103712", Personal(ADA_SUBJECT, "Ada Lovelace", label=label), Personal(ADA_SUBJECT, ADA, label=label)
    )


def bob() -> Contact:
    return Contact("103712", Personal(BOB_SUBJECT, "Bob Governor", label="governor of 103712"),
                   Personal(BOB_SUBJECT, None))


def notifications(app: Contacts) -> list:
    return app.recorder.select_notifications(start=1, limit=1000)


def test_stored_events_hold_no_plain_personal_data(app: Contacts) -> None:
    contact = ada()
    contact.add_note(Personal(ADA_SUBJECT, {"text": "prefers phone", "phone": "07700 900123"}))
    app.save(contact)

    states = [stored.state for stored in app.recorder.select_events(contact.id)]
    states += [notification.state for notification in notifications(app)]
    assert len(states) == 4
    for state in states:
        for plain in (b"Ada", b"Lovelace", ADA.encode(), ADA.lower().encode(), b"07700", b"prefers"):
            assert plain not in state
    assert ADA_SUBJECT.encode() in states[0] and b"103712" in states[0]


def test_personal_values_read_back_through_the_app(app: Contacts) -> None:
    contact = ada()
    note = {"text": "café", "n": 1.5, "ok": True, "none": None, "list": [1, "a", [False]]}
    contact.add_note(Personal(ADA_SUBJECT, note))
    app.save(contact, bob())

    copy = app.repository.get(contact.id)
    assert copy.name == Personal(ADA_SUBJECT, "Ada Lovelace")
    assert str(copy.email) == ADA
    assert copy.notes == [Personal(ADA_SUBJECT, note)]


def test_erasure_shreds_one_subject_and_keeps_the_history(app: Contacts) -> None:
    contact, other_contact = ada(), bob()
    contact.add_note(Personal(ADA_SUBJECT, "a note"))
    app.save(contact, other_contact)
    epoch = app.subject_keys.epoch()

    assert app.erase_subject(ADA_SUBJECT) is True
    assert app.erase_subject(ADA_SUBJECT) is False
    assert app.subject_keys.epoch() == epoch + 1

    copy = app.repository.get(contact.id)
    assert copy.version == 2 and copy.urn == "103712"
    assert copy.name == Personal(ADA_SUBJECT, None, erased=True)
    assert str(copy.email) == "[erased]" and copy.notes[0].erased
    assert app.repository.get(other_contact.id).name == Personal(BOB_SUBJECT, "Bob Governor")

    events = [app.mapper.to_domain_event(n) for n in notifications(app)]
    assert len(events) == 3
    assert [e.name.erased for e in events if hasattr(e, "name")] == [True, False]

    count = len(events)
    copy.add_note(Personal(ADA_SUBJECT, "written after erasure"))
    with pytest.raises(SubjectErased):
        app.save(copy)
    with pytest.raises(SubjectErased):
        app.save(ada())
    assert len(notifications(app)) == count


def test_erasing_an_unknown_subject_blocks_later_writes(app: Contacts) -> None:
    assert app.erase_subject(ADA_SUBJECT) is False
    with pytest.raises(SubjectErased):
        app.save(ada())
    assert app.subject_keys.existing(ADA_SUBJECT) is None


def test_two_instances_agree_after_one_erases(app: Contacts, other: Contacts) -> None:
    contact = ada()
    app.save(contact)
    assert other.repository.get(contact.id).name.value == "Ada Lovelace"

    assert other.erase_subject(ADA_SUBJECT) is True
    assert app.subject_keys.existing(ADA_SUBJECT) is None
    assert app.repository.get(contact.id).name.erased
    with pytest.raises(SubjectErased):
        app.save(ada())


def test_keys_kept_across_reads_are_dropped_when_another_instance_erases(app: Contacts,
                                                                         other: Contacts) -> None:
    contact = ada()
    app.save(contact)
    assert app.repository.get(contact.id).name.value == "Ada Lovelace"  # its keys now known to app
    assert app.repository.get(contact.id).email.value == ADA

    assert other.erase_subject(ADA_SUBJECT) is True

    again = app.repository.get(contact.id)
    assert again.name.erased and again.email.erased


def test_concurrent_writers_agree_on_one_key(app: Contacts, other: Contacts) -> None:
    subject = subject_for_email("new@example.org")
    keys: list[bytes] = []

    def create(instance: Contacts) -> None:
        keys.append(instance.subject_keys.key(subject, "new parent"))

    threads = [threading.Thread(target=create, args=(instance,)) for instance in [app, other] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) == 32


def test_subjects_lists_labels_and_erasure_time(app: Contacts) -> None:
    app.save(ada(), bob())
    before = dt.datetime.now(dt.UTC)
    app.erase_subject(ADA_SUBJECT)

    subjects = {row["subject"]: row for row in app.subject_keys.subjects()}
    assert set(subjects) == {ADA_SUBJECT, BOB_SUBJECT}
    assert subjects[ADA_SUBJECT]["label"] == "coordinator of 103712"
    assert subjects[BOB_SUBJECT]["label"] == "governor of 103712"
    assert subjects[BOB_SUBJECT]["erased_at"] is None
    assert before <= subjects[ADA_SUBJECT]["erased_at"] <= dt.datetime.now(dt.UTC)
    assert subjects[ADA_SUBJECT]["created_at"] <= before
    assert "key" not in subjects[ADA_SUBJECT]


def test_a_cache_scope_reads_the_table_once_per_subject(app: Contacts) -> None:
    app.save(ada())
    keys = app.subject_keys
    with keys.cached():
        key = keys.existing(ADA_SUBJECT)
        assert key is not None and keys.existing(ADA_SUBJECT) is key
    assert keys.existing(ADA_SUBJECT) == key
