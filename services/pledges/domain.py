"""Schools and their pledge to a culture of welcome. Plain Python: no bus, no database.

A school is registered once per deployment (its 6-digit URN is its identity),
expresses interest, gathers the commitments its authority requires (Coventry:
SLT and governors; Lancashire: the head teacher), signs the City of Sanctuary
pledge, and renews it; a signed pledge lapses ``lapse_years`` after it was
signed or last renewed. Every change records who made it.

Sharing the news, safely: awarded schools have faced hostility, so nothing is
public by default. A school's own staff may choose to share its award
(``share_award``: the name always; the town or area, a short statement and a
link to its own news page only if it chooses) and stop at any time
(``stop_sharing``). ``AwardRecord`` is what this service knows of a school's
awards, learnt only from the applications service's public events. A school is
listed (``public_listing``) only while it has chosen to share AND holds a
current award.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from eventsourcing.domain import Aggregate, event

from shared.errors import Conflict, Invalid

_NAMESPACE = uuid.UUID("b3c9a8de-51a4-4f7e-8d0c-6a1f2e9b7c44")

COMMITMENT_BODIES = ("slt", "governors", "head_teacher")
BODY_NAMES = {"slt": "the senior leadership team", "governors": "the governors",
              "head_teacher": "the head teacher"}


# what a school may choose to show beside its name, and how long each may be
TOWN_MAX = 100
STATEMENT_MAX = 500
LINK_MAX = 500
SHARED_FIELDS = ("town", "statement", "link")
# characters XML 1.0 cannot carry (the feed is XML): C0 controls but tab and line
# breaks, DEL and C1 controls, lone surrogates, and the non-characters U+FFFE/U+FFFF
_NOT_PUBLISHABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"[\t\n\r\u2028\u2029]")
_NOT_IN_URLS = re.compile(r'[\s<>"{}|\\^`]')  # RFC 3986 never allows these unencoded


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
        self.lapses: dt.date | None = None  # when the current pledge lapses, as set at signing or renewal
        self.withdrawn: dict | None = None  # reason, on
        self.newsletter = False
        self.sharing: dict | None = None  # town, statement, link, chosen_at: None until it opts in

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
        if self.commitments.get(body) == {"given_by": given_by, "role": role, "on": on}:
            return  # the same commitment again (a command redelivered after a crash): nothing new
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
        self._pledge_signed(urn=self.urn, signed_by=signed_by, role=role, signed_on=on,
                            lapses_on=add_years(on, lapse_years), imported=False, actor=actor)

    def import_pledge(self, signed_by: str, role: str, on: dt.date, today: dt.date,
                      lapse_years: int, actor: str) -> None:
        """A pledge signed before the school's records came into this system (the lead moving
        them from a spreadsheet): kept as signed that day, lapsing ``lapse_years`` after it
        (already, if that day has passed), and marked imported, so nobody is thanked for
        signing again. The interest and commitments it rested on are in the earlier records."""
        if self.signed is not None and not self.withdrawn:
            raise Conflict("This school's pledge is recorded already; renew it instead.", "pledge")
        _not_future(on, today, "signed_on")
        self._pledge_signed(urn=self.urn, signed_by=signed_by, role=role, signed_on=on,
                            lapses_on=add_years(on, lapse_years), imported=True, actor=actor)

    def renew_pledge(self, renewed_by: str, role: str, on: dt.date, today: dt.date,
                     lapse_years: int, actor: str) -> None:
        if self.withdrawn:
            raise Conflict("A withdrawn pledge cannot be renewed; sign a new pledge.", "pledge")
        if self.signed is None:
            raise Conflict("There is no signed pledge to renew.", "pledge")
        _not_future(on, today, "renewed_on")
        if on <= self.pledged_on:
            raise Invalid("A renewal must come after the last signature or renewal.",
                          {"renewed_on": [f"Must be after {self.pledged_on.isoformat()}."]})
        self._pledge_renewed(urn=self.urn, renewed_by=renewed_by, role=role, renewed_on=on,
                             lapses_on=add_years(on, lapse_years), actor=actor)

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

    def share_award(self, town: str | None, statement: str | None, link: str | None,
                    at: dt.datetime, actor: str) -> bool:
        """Choose to be listed publicly while the school holds a current award, showing its
        name and only the extras given (each None: not shown). The whole choice is replaced.
        Returns False (and records nothing) when the choice is already exactly this."""
        town = _publishable(town, "town", TOWN_MAX, one_line=True)
        statement = _publishable(statement, "statement", STATEMENT_MAX, one_line=False)
        link = https_link(link)
        if self.sharing is not None and self.shared() == _chosen(town, statement, link):
            return False
        self._award_shared(urn=self.urn, town=town, statement=statement, link=link, at=at, actor=actor)
        return True

    def stop_sharing(self, at: dt.datetime, actor: str) -> bool:
        """Withdraw from the public list at once. Returns False (and records nothing) when
        the school was not sharing: stopping twice is never an error."""
        if self.sharing is None:
            return False
        self._award_sharing_stopped(urn=self.urn, at=at, actor=actor)
        return True

    # -- queries -------------------------------------------------------------

    @property
    def pledged_on(self) -> dt.date | None:
        """When the current pledge was signed or last renewed."""
        if self.signed is None:
            return None
        return self.renewed_on or self.signed["signed_on"]

    def lapses_on(self, lapse_years: int) -> dt.date | None:
        """The day the current pledge lapses, as set when it was signed or renewed (for one
        recorded before that day was kept, ``lapse_years`` after it, the rule it was set by)."""
        pledged = self.pledged_on
        if pledged is None or self.withdrawn:
            return None
        return self.lapses or add_years(pledged, lapse_years)

    def shared(self) -> dict | None:
        """What the school chose to show beside its name (only the fields it chose)."""
        if self.sharing is None:
            return None
        return _chosen(*(self.sharing[f] for f in SHARED_FIELDS))

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

    class PledgeSigned(Aggregate.Event):
        """Version 2 records the day the pledge lapses, which the service sets (and publishes);
        version 3 whether it was imported from earlier records rather than signed here."""

        urn: str
        signed_by: Any
        role: str
        signed_on: dt.date
        lapses_on: dt.date | None
        imported: bool | None
        actor: str

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["lapses_on"] = None  # signed before the day was recorded: see ``lapses_on``

        @staticmethod
        def upcast_v2_v3(state: dict) -> None:
            state["imported"] = None  # recorded before imports were: none was (see the contract)

    @event(PledgeSigned)
    def _pledge_signed(self, urn: str, signed_by: Any, role: str, signed_on: dt.date,
                       lapses_on: dt.date | None, imported: bool | None, actor: str) -> None:
        self.signed = {"signed_by": signed_by, "role": role, "signed_on": signed_on,
                       "imported": bool(imported)}
        self.renewed_on = None
        self.lapses = lapses_on
        self.withdrawn = None

    class PledgeRenewed(Aggregate.Event):
        """Version 2 records the day the renewed pledge lapses."""

        urn: str
        renewed_by: Any
        role: str
        renewed_on: dt.date
        lapses_on: dt.date | None
        actor: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["lapses_on"] = None  # renewed before the day was recorded: see ``lapses_on``

    @event(PledgeRenewed)
    def _pledge_renewed(self, urn: str, renewed_by: Any, role: str, renewed_on: dt.date,
                        lapses_on: dt.date | None, actor: str) -> None:
        self.renewed_on = renewed_on
        self.lapses = lapses_on

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

    @event("AwardShared")
    def _award_shared(self, urn: str, town: str | None, statement: str | None, link: str | None,
                      at: dt.datetime, actor: str) -> None:
        self.sharing = {"town": town, "statement": statement, "link": link, "chosen_at": at}

    @event("AwardSharingStopped")
    def _award_sharing_stopped(self, urn: str, at: dt.datetime, actor: str) -> None:
        self.sharing = None


class AwardRecord(Aggregate):
    """A school's awards as the applications service announced them (``Awarded``), learnt
    over the bus, never by calling across. Keyed by application, so a renewal is a second
    award; news of one application older than what is known changes nothing."""

    @staticmethod
    def create_id(urn: str, **_: object) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"awards/{urn}")

    @event("Opened")
    def __init__(self, urn: str) -> None:
        self.urn = urn
        self.awards: dict[str, dict] = {}  # application -> school_year, awarded_on, expires_on, position

    def learn_award(self, application: str, school_year: str, awarded_on: dt.date,
                    expires_on: dt.date, position: int, actor: str) -> bool:
        known = self.awards.get(application)
        if known is not None and known["position"] >= position:
            return False
        self._award_learnt(application=application, school_year=school_year, awarded_on=awarded_on,
                           expires_on=expires_on, position=position, actor=actor)
        return True

    def current(self, today: dt.date) -> dict | None:
        """The latest award in force today (awarded on or before today, not yet expired)."""
        live = [a for a in self.awards.values() if a["awarded_on"] <= today < a["expires_on"]]
        best = max(live, key=lambda a: (a["awarded_on"], a["expires_on"]), default=None)
        return None if best is None else {k: v for k, v in best.items() if k != "position"}

    @event("AwardLearnt")
    def _award_learnt(self, application: str, school_year: str, awarded_on: dt.date,
                      expires_on: dt.date, position: int, actor: str) -> None:
        self.awards[application] = {"application": application, "school_year": school_year,
                                    "awarded_on": awarded_on, "expires_on": expires_on,
                                    "position": position}


def public_listing(school: School, awards: AwardRecord | None, today: dt.date) -> dict | None:
    """What the public may see of a school today: None unless it chose to share AND holds a
    current award; then its name, the award's date, and only the extras it chose."""
    shared = school.shared()
    award = awards.current(today) if awards is not None else None
    if shared is None or award is None:
        return None
    return {"name": school.name, "awarded_on": award["awarded_on"], **shared}


def strip_unpublishable(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (for text stored before these rules)."""
    return _NOT_PUBLISHABLE.sub("", text)


def _chosen(town: str | None, statement: str | None, link: str | None) -> dict:
    values = {"town": town, "statement": statement, "link": link}
    return {k: v for k, v in values.items() if v is not None}


def _publishable(text: str | None, field: str, limit: int, one_line: bool) -> str | None:
    """Plain text fit to publish (in JSON and in XML): trimmed, limited, no control characters."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    if len(text) > limit:
        raise Invalid(f"The {field} is too long.", {field: [f"At most {limit} characters."]})
    if _NOT_PUBLISHABLE.search(text) or (one_line and _LINE_BREAKS.search(text)):
        raise Invalid(f"The {field} holds characters that cannot be published.",
                      {field: ["Plain text only: no control characters" + (" or line breaks." if one_line
                                                                           else ".")]})
    return text


def https_link(link: str | None) -> str | None:
    """A link to the school's own page: https only, a dotted host, no credentials, nothing
    a URL may not hold unencoded (spaces, quotes, angle brackets)."""
    if link is None or not link.strip():
        return None
    link = link.strip()
    problem = None
    if len(link) > LINK_MAX:
        problem = f"At most {LINK_MAX} characters."
    else:
        try:
            parts = urlsplit(link)
            ok = (parts.scheme == "https" and parts.hostname and "." in parts.hostname
                  and not parts.username and not parts.password and parts.port != 0
                  and not _NOT_PUBLISHABLE.search(link) and not _NOT_IN_URLS.search(link))
        except ValueError:
            ok = False
        if not ok:
            problem = "Must be an https:// link to the school's own page."
    if problem:
        raise Invalid("The link cannot be published.", {"link": [problem]})
    return link


def _not_future(day: dt.date, today: dt.date, field: str) -> None:
    if day > today:
        raise Invalid("The date cannot be in the future.",
                      {field: [f"Must be on or before {today.isoformat()}."]})
