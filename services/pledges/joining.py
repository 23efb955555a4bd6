"""Schools asking to join: a request made on a public page, with no account, kept
private until the lead accepts it (the school is then registered) or declines it
with a reason. Plain Python.

The person who will lead the school's work, and the head teacher named as having
approved it, are personal data: they are held as ``Personal`` values, so they are
erased with the person. The school's name and URN are not.
"""

from __future__ import annotations

import datetime as dt

from eventsourcing.domain import Aggregate, event

from shared.errors import Conflict, Invalid


class JoinStatus:
    WAITING = "waiting"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ALL = (WAITING, ACCEPTED, DECLINED)


class JoinRequest(Aggregate):
    """One school's request to join. ``contact``: Personal {name, email, role} of the
    person who will lead it; ``head_teacher``: Personal name of the head teacher who
    approved it, where the authority needs that approval (else None)."""

    @event("Received")
    def __init__(self, urn: str, school_name: str, phase: str, postcode: str, contact: object,
                 head_teacher: object | None, received_on: dt.date, actor: str) -> None:
        self.urn = urn
        self.school_name = school_name
        self.phase = phase
        self.postcode = postcode
        self.contact = contact
        self.head_teacher = head_teacher
        self.received_on = received_on
        self.status = JoinStatus.WAITING
        self.decided_on: dt.date | None = None
        self.reason: object | None = None  # why it was declined (Personal, erased with the person)

    def accept(self, on: dt.date, actor: str) -> None:
        self._require_waiting()
        self._accepted(urn=self.urn, on=on, actor=actor)

    def decline(self, reason: object, on: dt.date, actor: str) -> None:
        """``reason``: a Personal text, told to the person."""
        self._require_waiting()
        if not str(reason).strip():
            raise Invalid("Say why the request is declined.",
                          {"reason": ["Enter the reason, which the person is told."]})
        self._declined(reason=reason, on=on, actor=actor)

    def _require_waiting(self) -> None:
        if self.status != JoinStatus.WAITING:
            raise Conflict(f"This request has been {self.status} already.", "request")

    @event("Accepted")
    def _accepted(self, urn: str, on: dt.date, actor: str) -> None:
        self.status = JoinStatus.ACCEPTED
        self.decided_on = on

    @event("Declined")
    def _declined(self, reason: object, on: dt.date, actor: str) -> None:
        self.status = JoinStatus.DECLINED
        self.decided_on = on
        self.reason = reason


def head_approval_given(required: bool, head_teacher: str | None, approval: bool | None) -> None:
    """Where the authority needs the head teacher's approval (Lancashire), the request
    names the head teacher and says they approved; elsewhere neither is asked."""
    if not required:
        return
    errors = {}
    if not (head_teacher or "").strip():
        errors["head_teacher"] = ["Enter the name of the head teacher who approved this."]
    if approval is not True:
        errors["head_approval"] = ["Confirm that the head teacher has approved the school joining."]
    if errors:
        raise Invalid("The head teacher's approval is needed before a school can join.", errors)
