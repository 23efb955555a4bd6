"""One email's life (the Notification aggregate) and what the notifications service
knows of the world (directory entries), as plain Python: no store, no SMTP.

A notification is due when pending and its time has come, or when its claim has
gone stale (its sender died); a fresh claim cannot be taken twice; a transient
failure is retried after a pause that doubles from 30 s up to an hour; a permanent
failure, or the eighth attempt, gives up; sent is final. An entry never lets older
news (a lower position from the same origin) overwrite newer.
"""

from __future__ import annotations

import datetime as dt

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError

from services.notifications.delivery import CLAIM_TIMEOUT, MAX_ATTEMPTS, Notification, backoff
from services.notifications.directory import Entry
from shared.errors import Conflict

T0 = dt.datetime(2027, 3, 11, 8, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


def note(key: str = "pledges:7/school-registered/email:abc", due_at: dt.datetime = T0) -> Notification:
    return Notification(
        key=key,
        kind="school-registered",
        recipient="email:abc",
        message={"to": "ann@school.example.org", "subject": "Registered"},
        reason="you are your school's Schools of Sanctuary coordinator",
        optional=False,
        due_at=due_at,
        actor="system:notifications",
    )


def claimed(at: dt.datetime = T0) -> Notification:
    n = note()
    n.claim(at)
    return n


def replayed(n: Notification) -> Notification:
    """The aggregate rebuilt from its own events, as a store would give it back."""
    copy = None
    for e in n.collect_events():
        copy = e.mutate(copy)
    return copy


# -- identity --------------------------------------------------------------------------------


def test_one_key_one_notification_id() -> None:
    assert note("a").id == note("a").id == Notification.create_id("a")
    assert note("a").id != note("b").id


def test_a_new_notification_is_pending_and_due_from_its_time() -> None:
    n = note(due_at=T0)
    assert (n.status, n.attempts, n.claimed_at, n.sent_at) == ("pending", [], None, None)
    assert not n.due(T0 - SECOND)
    assert n.due(T0) and n.due(T0 + dt.timedelta(days=30))


# -- claiming ----------------------------------------------------------------------------------


def test_a_claim_before_the_time_is_refused() -> None:
    n = note(due_at=T0)
    with pytest.raises(Conflict):
        n.claim(T0 - SECOND)
    assert n.status == "pending"


def test_nothing_can_be_claimed_twice_while_the_claim_is_fresh() -> None:
    n = claimed(T0)
    assert (n.status, n.claimed_at) == ("sending", T0)
    for later in (T0, T0 + SECOND, T0 + CLAIM_TIMEOUT - SECOND):
        assert not n.due(later)
        with pytest.raises(Conflict):
            n.claim(later)
    # a shorter timeout is the caller's to choose, and is honoured the same way
    assert not n.due(T0 + dt.timedelta(seconds=9), dt.timedelta(seconds=10))
    with pytest.raises(Conflict):
        n.claim(T0 + dt.timedelta(seconds=9), dt.timedelta(seconds=10))


def test_a_stale_claim_is_due_again_and_may_be_taken_over() -> None:
    n = claimed(T0)
    assert n.due(T0 + CLAIM_TIMEOUT)  # at exactly the timeout, its sender is taken to be dead
    assert n.due(T0 + dt.timedelta(seconds=10), dt.timedelta(seconds=10))
    n.claim(T0 + CLAIM_TIMEOUT)
    assert (n.status, n.claimed_at) == ("sending", T0 + CLAIM_TIMEOUT)
    assert not n.due(T0 + CLAIM_TIMEOUT + SECOND)  # the new claim is fresh
    n.sent(T0 + CLAIM_TIMEOUT + SECOND)
    assert n.status == "sent"


def test_two_senders_with_the_same_version_cannot_both_record_a_claim() -> None:
    """The claim is a recorded event: the second sender's save collides on the version."""
    app = Application()
    app.save(note())
    first, second = app.repository.get(note().id), app.repository.get(note().id)
    first.claim(T0)
    second.claim(T0)
    app.save(first)
    with pytest.raises(IntegrityError):
        app.save(second)
    stored = app.repository.get(note().id)
    assert (stored.status, stored.claimed_at) == ("sending", T0)
    assert not stored.due(T0 + SECOND)


# -- sent is final -----------------------------------------------------------------------------


def test_only_a_claimed_notification_can_be_recorded_sent_or_failed() -> None:
    n = note()
    with pytest.raises(Conflict):
        n.sent(T0)
    with pytest.raises(Conflict):
        n.failed(T0, "451 try later", permanent=False)
    assert (n.status, n.attempts) == ("pending", [])


def test_sent_is_final() -> None:
    n = claimed(T0)
    n.sent(T0 + SECOND)
    assert (n.status, n.sent_at) == ("sent", T0 + SECOND)
    forever = T0 + dt.timedelta(days=3650)
    assert not n.due(forever) and not n.due(forever, dt.timedelta(0))
    with pytest.raises(Conflict):
        n.claim(forever, dt.timedelta(0))
    with pytest.raises(Conflict):
        n.sent(forever)
    with pytest.raises(Conflict):
        n.failed(forever, "550 no", permanent=True)
    with pytest.raises(Conflict):
        n.suppress("erased", "system:sender")
    assert n.status == "sent"
    assert replayed(n).status == "sent"


# -- failures and back-off ------------------------------------------------------------------------


def test_back_off_doubles_from_30_seconds_and_is_capped_at_an_hour() -> None:
    assert [backoff(a).total_seconds() for a in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff(50) == dt.timedelta(hours=1)


def test_a_transient_failure_is_retried_after_the_pause() -> None:
    n = claimed(T0)
    n.failed(T0 + SECOND, "451 4.3.0 try later", permanent=False)
    retry_at = T0 + SECOND + dt.timedelta(seconds=30)
    assert (n.status, n.next_attempt_at) == ("pending", retry_at)
    assert n.attempts == [{"at": T0 + SECOND, "error": "451 4.3.0 try later"}]
    assert not n.due(retry_at - SECOND)
    with pytest.raises(Conflict):
        n.claim(retry_at - SECOND)
    assert n.due(retry_at)
    n.claim(retry_at)
    n.sent(retry_at)
    assert n.status == "sent" and len(n.attempts) == 1


def test_the_pauses_grow_with_each_failure_and_the_eighth_attempt_gives_up() -> None:
    n, now, pauses = note(), T0, []
    for _ in range(MAX_ATTEMPTS - 1):
        n.claim(now)
        n.failed(now, "cannot talk to SMTP server", permanent=False)
        assert n.status == "pending"
        pauses.append(n.next_attempt_at - now)
        now = n.next_attempt_at
    assert [p.total_seconds() for p in pauses] == [30, 60, 120, 240, 480, 960, 1920]
    n.claim(now)
    n.failed(now, "cannot talk to SMTP server", permanent=False)
    assert MAX_ATTEMPTS == 8
    assert (n.status, len(n.attempts)) == ("failed", 8)
    assert not n.due(now + dt.timedelta(days=365))
    with pytest.raises(Conflict):
        n.claim(now + dt.timedelta(days=365))
    copy = replayed(n)
    assert (copy.status, len(copy.attempts)) == ("failed", 8)


def test_a_permanent_failure_gives_up_at_once() -> None:
    n = claimed(T0)
    n.failed(T0, "550 5.1.1 no such mailbox", permanent=True)
    assert n.status == "failed"
    assert n.attempts == [{"at": T0, "error": "550 5.1.1 no such mailbox"}]
    assert n.next_attempt_at == T0  # no retry was scheduled
    assert not n.due(T0 + dt.timedelta(days=365))
    with pytest.raises(Conflict):
        n.suppress("erased", "system:sender")


def test_a_long_error_is_kept_short() -> None:
    n = claimed(T0)
    n.failed(T0, "x" * 5000, permanent=False)
    assert len(n.attempts[0]["error"]) == 500


# -- holding back -------------------------------------------------------------------------------


def test_a_pending_notification_can_be_held_back_and_then_is_never_due() -> None:
    n = note()
    n.suppress("the person's data was erased", "system:sender")
    assert n.status == "suppressed"
    assert n.reason.endswith("(held back: the person's data was erased)")
    assert not n.due(T0 + dt.timedelta(days=365), dt.timedelta(0))
    with pytest.raises(Conflict):
        n.claim(T0 + dt.timedelta(days=1))
    with pytest.raises(Conflict):
        n.suppress("again", "system:sender")


def test_a_claimed_notification_cannot_be_held_back() -> None:
    n = claimed(T0)
    with pytest.raises(Conflict):
        n.suppress("erased", "system:sender")
    assert n.status == "sending"


def test_replaying_the_events_gives_the_same_state() -> None:
    n = claimed(T0)
    n.failed(T0, "451", permanent=False)
    n.claim(n.next_attempt_at)
    copy = replayed(n)
    assert (copy.status, copy.attempts, copy.next_attempt_at, copy.claimed_at, copy.version) == (
        n.status, n.attempts, n.next_attempt_at, n.claimed_at, n.version)


# -- the directory: late news never overwrites newer ------------------------------------------


def test_older_news_from_the_same_origin_never_overwrites_newer() -> None:
    e = Entry(kind="school", key="103712")
    assert e.learn({"newsletter": False}, "pledges", 9) is True
    assert e.learn({"newsletter": True}, "pledges", 4) is False  # arrived late
    assert e.get("newsletter") is False
    assert e.learn({"newsletter": True}, "pledges", 9) is False  # the same news again
    assert e.get("newsletter") is False
    assert e.learn({"newsletter": True}, "pledges", 12) is True
    assert e.get("newsletter") is True


def test_each_fact_keeps_its_own_position() -> None:
    e = Entry(kind="application", key="a1")
    e.learn({"urn": "103712", "school_year": "2026-27"}, "applications", 3)
    e.learn({"submitted_draft": True}, "applications", 8)
    # news from position 5: the year is newer than what is known, the submission older
    assert e.learn({"school_year": "2027-28", "submitted_draft": False}, "applications", 5) is True
    assert e.facts == {"urn": "103712", "school_year": "2027-28", "submitted_draft": True}
    assert e.get("missing", "default") == "default"


def test_an_entry_rebuilt_from_its_events_still_refuses_older_news() -> None:
    e = Entry(kind="session", key="network-meeting-1")
    e.learn({"sequence": 2}, "events", 20)
    copy = None
    for event in e.collect_events():
        copy = event.mutate(copy)
    assert copy.facts == {"sequence": 2}
    assert copy.learn({"sequence": 1}, "events", 19) is False
    assert copy.get("sequence") == 2


def test_one_kind_and_key_one_entry() -> None:
    assert Entry(kind="school", key="1").id == Entry.create_id("school", "1")
    assert Entry.create_id("school", "1") != Entry.create_id("booking", "1")
