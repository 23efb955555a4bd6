"""Schools and their pledge to a culture of welcome. Plain Python: no bus, no database.

A school is registered once per deployment (its 6-digit URN is its identity),
expresses interest, gathers the commitments its authority requires (Coventry:
SLT and governors; Lancashire: the head teacher), signs the City of Sanctuary
pledge, and renews it; a signed pledge lapses ``lapse_years`` after it was
signed or last renewed. Every change records who made it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from eventsourcing.domain import Aggregate, event

from shared.errors import Conflict, Invalid

_NAMESPACE = uuid.UUID("b3c9a8de-51a4-4f7e-8d0c-6a1f2e9b7c44")

COMMITMENT_BODIES = ("slt", "governors", "head_teacher")
BODY_NAMES = {"slt": "the senior leadership team", "governors": "the governors",
              "head_teacher": "the head teacher"}


class PledgeStatus:
    REGISTERED = "registered"
    INTERESTED = "interested"
    COMMITTED = "committed"
    SIGNED = "signed"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"
    ALL = (REGISTERED, INTERESTED, COMMITTED, SIGNED, LAPSED, WITHDRAWN)


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class School(Aggregate):
    @staticmethod
    def create_id(urn: str, **_: object) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"school/{urn}")

    @event("Registered")
    def __init__(self, urn: str, name: str, phase: str, postcode: str,
                 coordinator: dict, actor: str) -> None:
        self.urn = urn
        self.name = name
        self.phase = phase
        self.postcode = postcode
        self.coordinator = coordinator
        self.interest_on: dt.date | None = None
        self.commitments: dict[str, dict] = {}
        self.signed: dict | None = None  # signed_by, role, signed_on
        self.renewed_on: dt.date | None = None
        self.withdrawn: dict | None = None  # reason, on
        self.newsletter = False

    # -- commands ----------------------------------------------------------

    def express_interest(self, on: dt.date, today: dt.date, actor: str) -> None:
        if self.interest_on is not None and not self.withdrawn:
            raise Conflict("This school has already expressed interest.", "interest")
        _not_future(on, today, "on")
        self._interest_expressed(urn=self.urn, on=on, actor=actor)

    def record_commitment(self, body: str, given_by: str, role: str, on: dt.date,
                          today: dt.date, actor: str) -> None:
        if body not in COMMITMENT_BODIES:
            raise Invalid(f"Unknown body {body!r}.", {"body": [f"Must be one of {COMMITMENT_BODIES}."]})
        _not_future(on, today, "on")
        self._commitment_recorded(urn=self.urn, body=body, given_by=given_by, role=role, on=on, actor=actor)

    def sign_pledge(self, signed_by: str, role: str, on: dt.date, today: dt.date,
                    required: Sequence[str], lapse_years: int, actor: str) -> None:
        if self.status(today, lapse_years, required) == PledgeStatus.SIGNED:
            raise Conflict("The pledge is already signed; renew it instead.", "pledge")
        if self.interest_on is None:
            raise Conflict("Record the school's expression of interest before the pledge.", "pledge")
        missing = [BODY_NAMES[b] for b in required if b not in self.commitments]
        if missing:
            raise Conflict(f"The pledge needs the commitment of {' and '.join(missing)} first.",
                           "commitments")
        _not_future(on, today, "signed_on")
        if self.interest_on and on < self.interest_on:
            raise Invalid("The pledge cannot be signed before interest was expressed.",
                          {"signed_on": [f"Must be on or after {self.interest_on.isoformat()}."]})
        self._pledge_signed(urn=self.urn, signed_by=signed_by, role=role, signed_on=on, actor=actor)

    def renew_pledge(self, renewed_by: str, role: str, on: dt.date, today: dt.date,
                     actor: str) -> None:
        if self.withdrawn:
            raise Conflict("A withdrawn pledge cannot be renewed; sign a new pledge.", "pledge")
        if self.signed is None:
            raise Conflict("There is no signed pledge to renew.", "pledge")
        _not_future(on, today, "renewed_on")
        if on <= self.pledged_on:
            raise Invalid("A renewal must come after the last signature or renewal.",
                          {"renewed_on": [f"Must be after {self.pledged_on.isoformat()}."]})
        self._pledge_renewed(urn=self.urn, renewed_by=renewed_by, role=role, renewed_on=on, actor=actor)

    def withdraw_pledge(self, reason: str, on: dt.date, today: dt.date, actor: str) -> None:
        if self.withdrawn:
            raise Conflict("The pledge is already withdrawn.", "pledge")
        if self.signed is None:
            raise Conflict("There is no signed pledge to withdraw.", "pledge")
        _not_future(on, today, "withdrawn_on")
        self._pledge_withdrawn(urn=self.urn, reason=reason, withdrawn_on=on, actor=actor)

    def set_newsletter(self, subscribed: bool, actor: str) -> bool:
        """Returns False (and records nothing) when nothing changes."""
        if subscribed == self.newsletter:
            return False
        if subscribed:
            self._newsletter_subscribed(urn=self.urn, actor=actor)
        else:
            self._newsletter_unsubscribed(urn=self.urn, actor=actor)
        return True

    def change_coordinator(self, coordinator: dict, actor: str) -> None:
        self._coordinator_changed(urn=self.urn, coordinator=coordinator, actor=actor)

    # -- queries -------------------------------------------------------------

    @property
    def pledged_on(self) -> dt.date | None:
        """When the current pledge was signed or last renewed."""
        if self.signed is None:
            return None
        return self.renewed_on or self.signed["signed_on"]

    def lapses_on(self, lapse_years: int) -> dt.date | None:
        pledged = self.pledged_on
        return None if pledged is None or self.withdrawn else add_years(pledged, lapse_years)

    def status(self, today: dt.date, lapse_years: int, required: Sequence[str]) -> str:
        if self.withdrawn:
            return PledgeStatus.WITHDRAWN
        if self.signed is not None:
            lapses = self.lapses_on(lapse_years)
            return PledgeStatus.LAPSED if today >= lapses else PledgeStatus.SIGNED
        if self.interest_on is None:
            return PledgeStatus.REGISTERED
        if all(body in self.commitments for body in required):
            return PledgeStatus.COMMITTED
        return PledgeStatus.INTERESTED

    # -- events --------------------------------------------------------------

    @event("InterestExpressed")
    def _interest_expressed(self, urn: str, on: dt.date, actor: str) -> None:
        self.interest_on = on

    @event("CommitmentRecorded")
    def _commitment_recorded(self, urn: str, body: str, given_by: str, role: str, on: dt.date,
                             actor: str) -> None:
        self.commitments[body] = {"given_by": given_by, "role": role, "on": on}

    @event("PledgeSigned")
    def _pledge_signed(self, urn: str, signed_by: str, role: str, signed_on: dt.date, actor: str) -> None:
        self.signed = {"signed_by": signed_by, "role": role, "signed_on": signed_on}
        self.renewed_on = None
        self.withdrawn = None

    @event("PledgeRenewed")
    def _pledge_renewed(self, urn: str, renewed_by: str, role: str, renewed_on: dt.date, actor: str) -> None:
        self.renewed_on = renewed_on

    @event("PledgeWithdrawn")
    def _pledge_withdrawn(self, urn: str, reason: str, withdrawn_on: dt.date, actor: str) -> None:
        self.withdrawn = {"reason": reason, "on": withdrawn_on}

    @event("NewsletterSubscribed")
    def _newsletter_subscribed(self, urn: str, actor: str) -> None:
        self.newsletter = True

    @event("NewsletterUnsubscribed")
    def _newsletter_unsubscribed(self, urn: str, actor: str) -> None:
        self.newsletter = False

    @event("CoordinatorChanged")
    def _coordinator_changed(self, urn: str, coordinator: dict, actor: str) -> None:
        self.coordinator = coordinator


def _not_future(day: dt.date, today: dt.date, field: str) -> None:
    if day > today:
        raise Invalid("The date cannot be in the future.",
                      {field: [f"Must be on or before {today.isoformat()}."]})
