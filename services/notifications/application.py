"""The notifications application: who is told what, when, exactly once in effect.

What it knows of the world (schools and coordinators, applications, CPD
sessions and bookings) is learnt from other services' events by the reactions
in policies.py, which use the small public surface marked below; reminders are
computed from what is known and the clock; the sender hands due notifications
to the SMTP server.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.notifications import messages as m
from services.notifications.delivery import CLAIM_TIMEOUT, Notification
from services.notifications.directory import Entry
from shared import calendar
from shared.authority import Authority, Cycle
from shared.clock import Clock, system_clock
from shared.envelope import IntegrationEvent
from shared.faults import crash_point
from shared.logs import follow, leave, trail
from shared.mail import Attachment, Email, Mailer, MailError, make_message_id, valid_address
from shared.personal import ERASED, Personal, PersonalDataApplication, reveal, subject_for_email
from shared.projection import AggregateProjection

log = logging.getLogger(__name__)


class Notifications(PersonalDataApplication):
    name = "notifications"

    def __init__(
        self,
        env: dict | None = None,
        *,
        authority: Authority,
        mail_from: str,
        mail_domain: str,
        clock: Clock | None = None,
        claim_timeout: dt.timedelta = CLAIM_TIMEOUT,
        send_after: dt.datetime | None = None,
    ) -> None:
        super().__init__(env)
        self.claim_timeout = claim_timeout
        self.send_after = send_after
        self.authority = authority
        self.mail_from = mail_from
        self.mail_domain = mail_domain
        self.clock = clock or system_clock()
        self.index = AggregateProjection(self)

    # -- what policies use: what is known, and the mail it calls for ------------------------

    def entry(self, kind: str, key: str) -> Entry:
        try:
            return self.repository.get(Entry.create_id(kind, key))
        except AggregateNotFoundError:
            return Entry(kind=kind, key=key)

    def entries(self, kind: str) -> list[Entry]:
        return [e for e in self.index.all() if isinstance(e, Entry) and e.kind == kind]

    def learn(self, kind: str, key: str, news: IntegrationEvent, **facts: Any) -> Entry:
        entry = self.entry(kind, key)
        entry.learn(facts, news.origin, news.position)
        return entry

    def coordinator(self, urn: str | None) -> tuple[str, str] | None:
        """The school's coordinator's name and address, if known (and not erased)."""
        if urn is None:
            return None
        contact = reveal(self.entry("school", urn).get("coordinator"))
        if not isinstance(contact, dict) or not contact.get("email"):
            return None
        return contact.get("name", "colleague"), contact["email"]

    def session(self, session_id: str | None) -> dict | None:
        """A CPD session as known, if it is."""
        return None if session_id is None else self.session_of(self.entry("session", session_id))

    def session_of(self, entry: Entry) -> dict | None:
        if not entry.facts:
            return None
        return {**entry.facts, "id": entry.key, "place": calendar_location(entry.facts)}

    def hold_back_replayed(self, news: IntegrationEvent, changed: list) -> None:
        """Events that happened before ``send_after`` (history replayed to rebuild this
        service) still teach it what it needs, but their mail is recorded as held back:
        nobody is sent last year's emails again."""
        if self.send_after is None or dt.datetime.fromisoformat(news.occurred_at) >= self.send_after:
            return
        for note in changed:
            if isinstance(note, Notification):
                note.suppress("history replayed to rebuild the service; sent at the time", "system:rebuild")

    def intend(self, drafts: list[m.Draft], key: str, due_at: dt.datetime | None = None) -> list:
        """New notifications for the drafts, each once per key and recipient."""
        created = []
        for draft in drafts:
            if not valid_address(draft.to_email):
                log.warning("no valid address for %s (%s); not notified", draft.kind, key)
                continue
            note_key = f"{key}/{draft.kind}/{subject_for_email(draft.to_email)}"
            if self._exists(Notification.create_id(note_key)):
                continue
            text, html = m.render(draft, self.authority)
            subject = subject_for_email(draft.to_email)
            message = {
                "to": draft.to_email,
                "subject": " ".join(draft.subject.split()),  # one line, whatever came in
                "text": text,
                "html": html,
                "message_id": make_message_id(note_key, self.mail_domain),
                "attachments": [{**a, "data": _text(a["data"])} for a in draft.attachments],
            }
            note = Notification(
                key=note_key,
                kind=draft.kind,
                recipient=subject,
                message=Personal(subject, message, label="notification"),
                reason=draft.reason,
                optional=draft.optional,
                due_at=due_at or self.clock.now(),
                actor="system:notifications",
            )
            created.append(note)
        return created

    def confirm_booking(self, booking: Entry, session: dict) -> list:
        """The "your place" email, keyed by the booking: sent once, whenever both the
        booking and its session are known (their news may arrive in either order)."""
        person = reveal(booking.get("person"))
        if not isinstance(person, dict) or session is None:
            return []
        draft = m.booked(person["name"], person["email"], session, self.session_calendar(session, True))
        return self.intend([draft], f"booking/{booking.key}")

    def session_calendar(self, session: dict, booked: bool) -> bytes | None:
        if not (session.get("date_status") == "confirmed" and session.get("date")):
            return None
        item = {"title": session.get("title", ""), "description": "", "runs_by": session.get("runs_by", "")}
        as_session = {
            **session,
            "date": _date(session["date"]),
            "start": _time(session.get("start")),
            "end": _time(session.get("end")),
            "sequence": session.get("sequence", 0),
            "status": session.get("status", "scheduled"),
        }
        if as_session["start"] is None:
            as_session["end"] = None
        cal = calendar.calendar("CANCEL" if as_session["status"] == "cancelled" else "PUBLISH", item["title"])
        cal.add_component(
            calendar.vevent(
                item,
                as_session,
                self.authority.slug,
                self.authority.timezone,
                self.clock.now(),
                show_link=booked,
            )
        )
        cal.add_missing_timezones()
        return cal.to_ical()

    # -- reminders ---------------------------------------------------------------------------

    def remind(self) -> int:
        """Create the reminders now due; each has a key of its own, so it goes once."""
        today = self.clock.today(self.authority.timezone)
        notes = self._deadline_reminders(today) + self._cpd_reminders(today) + self._unconfirmed()
        saved = 0
        for note in notes:
            try:
                self.save(note)
                saved += 1
            except IntegrityError:  # another instance made it at the same moment
                pass
        return saved

    def _deadline_reminders(self, today: dt.date) -> list:
        drafts = []
        for app in self.entries("application"):
            owed, school = self.owed(app), self.coordinator(app.get("urn"))
            if owed is None or school is None:
                continue
            stage, deadline = owed
            days = _imminent(self.authority.reminders.deadline_days, deadline, today)
            if days is None:
                continue
            (name, email), school_name, left = school, app.get("school_name", ""), (deadline - today).days
            if stage == "final" and app.get("further_evidence"):
                draft = m.evidence_reminder(name, school_name, email, deadline, left)
            else:
                draft = m.deadline_reminder(name, school_name, email, stage, deadline, left)
            drafts += self.intend([draft], f"reminder/{app.key}/{stage}/{deadline}/{days}")
        return drafts

    def owed(self, app: Entry) -> tuple[str, dt.date] | None:
        """The submission the school owes next, and the day it is due (None: nothing owed,
        or no fixed day)."""
        if app.get("withdrawn") or app.get("decided"):
            return None
        for stage, day in self.due_days(app).items():
            if not app.get(f"submitted_{stage}"):
                return (stage, day) if day is not None else None
        return None

    def due_days(self, app: Entry) -> dict[str, dt.date | None]:
        """Each submission of the application, in order, with the day it is due, as the
        applications service told it: set at the start, moved by an extension or a
        further-evidence decision. News of schema 1 did not tell the days it set at the start
        (nor did news learnt before they were carried): for those alone, the cycle's deadline
        stands in, the day that service set then. The one place they are worked out here."""
        cycle = next((c for c in self.authority.cycles if c.school_year == app.get("school_year")), None)
        stages = app.get("stages") or (cycle.stages if cycle else ())
        return {stage: _date(app.get(f"due_{stage}")) if f"due_{stage}" in app.facts
                else _cycle_day(cycle, stage) for stage in stages}

    def _unconfirmed(self) -> list:
        notes = []
        for booking in self.entries("booking"):
            if booking.get("status") == "booked":
                notes += self.confirm_booking(booking, self.session(booking.get("session")))
        return notes

    def _cpd_reminders(self, today: dt.date) -> list:
        notes = []
        for booking in self.entries("booking"):
            session = self.session(booking.get("session"))
            person = reveal(booking.get("person"))
            if booking.get("status") != "booked" or not session or not isinstance(person, dict):
                continue
            day = _date(session.get("date"))
            if session.get("status") == "cancelled" or session.get("date_status") != "confirmed" or not day:
                continue
            days = _imminent(self.authority.reminders.cpd_days, day, today)
            if days is not None and today < day:
                draft = m.cpd_reminder(person["name"], person["email"], session, (day - today).days)
                notes += self.intend([draft], f"reminder/{booking.key}/{day}/{days}")
        return notes

    # -- sending --------------------------------------------------------------------------------

    def send_due(self, mailer: Mailer) -> dict[str, int]:
        """Send every notification now due; returns counts by what happened."""
        now, counts = self.clock.now(), {"sent": 0, "failed": 0, "retrying": 0}
        due = [n for n in self.index.all() if isinstance(n, Notification) and n.due(now, self.claim_timeout)]
        for seen in due:
            note = self.repository.get(seen.id)
            if not note.due(now, self.claim_timeout):
                continue
            message = reveal(note.message)
            if message == ERASED:
                note.suppress("the person's data was erased", "system:sender")
                self.save(note)
                continue
            token = self._follow(note)  # its lines and events name the request that caused it
            try:
                outcome = self._claim_and_send(mailer, note, message, now)
            finally:
                leave(token)
            if outcome:
                counts[outcome] += 1
        return counts

    def _follow(self, note: Notification) -> Any:
        """Follow the request that caused the notification, as its first event recorded it."""
        intended = next(iter(self.events.get(note.id, lte=1)), None)
        request = getattr(intended, "correlation_id", None) or trail().get("request_id")
        return follow(request_id=request, causation_id=getattr(intended, "causation_id", None) or request,
                      route=f"notifications.send.{note.kind}")

    def _claim_and_send(self, mailer: Mailer, note: Notification, message: dict,
                        now: dt.datetime) -> str | None:
        crash_point("notifications.before_claim")
        note.claim(now, self.claim_timeout)
        try:
            self.save(note)  # the claim: two senders cannot both take it
        except IntegrityError:
            return None
        crash_point("notifications.before_send")
        outcome = self._send(mailer, note, message)
        level = logging.INFO if outcome == "sent" else logging.WARNING
        log.log(level, "%s notification %s %s", note.kind, note.id,
                outcome if outcome == "sent" else f"not sent ({outcome}): {note.attempts[-1]['error']}")
        return outcome

    def _send(self, mailer: Mailer, note: Notification, message: dict) -> str:
        try:
            email = self._email(message, note.kind)
        except (ValueError, TypeError) as error:  # a header no mail server would take
            note.failed(self.clock.now(), f"cannot build the message: {error}", permanent=True)
            self.save(note)
            return "failed"
        try:
            mailer.send(email)
            crash_point("notifications.after_send")
        except MailError as error:
            note.failed(self.clock.now(), str(error), error.permanent)
            self.save(note)
            return "failed" if note.status == "failed" else "retrying"
        note.sent(self.clock.now())
        self.save(note)
        return "sent"

    def _email(self, message: dict, kind: str) -> Email:
        return Email(
            kind=kind,
            to=(message["to"],),
            subject=message["subject"],
            text=message["text"],
            html=message["html"],
            sender=self.mail_from,
            reply_to=self.authority.contact_email,
            message_id=message["message_id"],
            headers={"Auto-Submitted": "auto-generated"},
            attachments=tuple(
                Attachment(a["filename"], a["content_type"], a["data"].encode())
                for a in message["attachments"]
            ),
        )

    # -- queries ------------------------------------------------------------------------------

    def delivery_log(self, status: str | None = None, kind: str | None = None) -> list[dict]:
        notes = [
            n
            for n in self.index.all()
            if isinstance(n, Notification)
            and (status is None or n.status == status)
            and (kind is None or n.kind == kind)
        ]
        return [self.view(n) for n in sorted(notes, key=lambda n: n.created_on, reverse=True)]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for note in (n for n in self.index.all() if isinstance(n, Notification)):
            counts[note.status] = counts.get(note.status, 0) + 1
        return counts

    def view(self, n: Notification) -> dict:
        message = reveal(n.message)
        erased = message == ERASED
        return {
            "id": str(n.id),
            "key": n.key,
            "kind": n.kind,
            "status": n.status,
            "to": ERASED if erased else message["to"],
            "subject": ERASED if erased else message["subject"],
            "reason": n.reason,
            "optional": n.optional,
            "created_at": n.created_on,
            "sent_at": n.sent_at,
            "attempts": n.attempts,
            "next_attempt_at": n.next_attempt_at if n.status == "pending" else None,
        }

    # -- internals ---------------------------------------------------------------------------

    def _exists(self, aggregate_id: Any) -> bool:
        try:
            self.repository.get(aggregate_id)
            return True
        except AggregateNotFoundError:
            return False


def calendar_location(session: dict) -> str:
    return {"online": "online", "tbc": "venue to be confirmed", "at_school": "at the school"}.get(
        session.get("venue_status", ""), session.get("venue") or "venue to be confirmed"
    )


def _imminent(days_ahead: tuple[int, ...], deadline: dt.date | None, today: dt.date) -> int | None:
    """The nearest reminder now due for a deadline (one email, not a burst after downtime)."""
    if deadline is None or today > deadline:
        return None
    due = [d for d in days_ahead if deadline - dt.timedelta(days=d) <= today]
    return min(due) if due else None


def _cycle_day(cycle: Cycle | None, stage: str) -> dt.date | None:
    if cycle is None:
        return None
    return cycle.draft_deadline if stage == "draft" else cycle.final_deadline


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _time(value: Any) -> dt.time | None:
    if value is None or isinstance(value, dt.time):
        return value
    return dt.time.fromisoformat(str(value))


def _text(data: Any) -> str:
    return data.decode() if isinstance(data, bytes) else str(data)

