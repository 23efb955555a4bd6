"""The authority's library: resources, partner organisations, and schools' links
with them. Plain Python: no bus, no database.

The lead keeps the resources (links and files: the resource pack, the audit
tool, application guidance, example applications, Refugee Week ideas), each
tagged with the criteria and the stages of the journey it helps with, and a
directory of local organisations (sanctuary-seeking organisations, churches,
libraries, theatres). A school records its links with those organisations;
a link names the Share criteria it is evidence for. Partners are organisations
only: no person's name or contact details are kept about them.

What the authority's configuration decides (which criteria codes exist, which
of them are Share criteria, which stages its cycles have) is passed in, so the
aggregates never read configuration themselves.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Collection, Sequence

from eventsourcing.domain import Aggregate, event

from shared.authority import JOURNEY_STAGES
from shared.errors import Conflict, Invalid

_NAMESPACE = uuid.UUID("4d3f0e7a-9b21-4c6e-a8d5-0f6b2c1e9a73")

RESOURCE_KINDS = ("link", "file")
# the stages of a school's journey a resource can help with: before the
# application (pledge, audit, action plan), its submissions (the names the
# applications service uses: draft, final), and the renewal three years on
STAGES = JOURNEY_STAGES
PARTNER_KINDS = ("sanctuary_organisation", "faith_group", "library", "theatre_arts",
                 "community_group", "other")
PARTNER_KIND_NAMES = {
    "sanctuary_organisation": "sanctuary-seeking organisation", "faith_group": "faith group",
    "library": "library", "theatre_arts": "theatre or arts organisation",
    "community_group": "community group", "other": "other organisation",
}

_EMAIL = re.compile(r"[^\s@<>]+@[^\s@<>]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w/])(?:\+44\s?|0)(?:\d[\s-]?){9,10}(?!\w)")


def stages_for(cycle_stages: Collection[str]) -> tuple[str, ...]:
    """The stages an authority's resources can name: its submission stages (Lancashire
    has no draft) among the journey's others, in journey order."""
    submitted = set(cycle_stages)
    return tuple(s for s in STAGES if s not in ("draft", "final") or s in submitted)


# -- resources -------------------------------------------------------------------------


class Resource(Aggregate):
    """A link or a file the lead offers schools."""

    @staticmethod
    def create_id(**_: object) -> uuid.UUID:
        return uuid.uuid4()

    @classmethod
    def seeded_id(cls, authority: str, url: str) -> uuid.UUID:
        """A configured resource's id: the same at every start, so it is listed once."""
        return uuid.uuid5(_NAMESPACE, f"resource/{authority}/{url}")

    @event("Added")
    def __init__(self, title: str, description: str, kind: str, url: str | None, file: dict | None,
                 criteria: list[str], stages: list[str], public: bool, actor: str) -> None:
        self.title = title
        self.description = description
        self.kind = kind
        self.url = url
        self.file = file
        self.criteria = list(criteria)
        self.stages = list(stages)
        self.public = public
        self.retired: dict | None = None  # reason, by

    @classmethod
    def add(cls, title: str, description: str, kind: str, url: str | None, file: dict | None,
            criteria: Sequence[str], stages: Sequence[str], public: bool, actor: str,
            known_criteria: Sequence[str], known_stages: Sequence[str],
            id: uuid.UUID | None = None) -> Resource:
        values = _resource_values(title, description, kind, url, file, criteria, stages, public,
                                  known_criteria, known_stages)
        if id is None:
            return cls(actor=actor, **values)
        return cls._create(cls.Added, id=id, actor=actor, **values)  # a configured resource

    # -- commands ----------------------------------------------------------------

    def edit(self, title: str, description: str, kind: str, url: str | None, file: dict | None,
             criteria: Sequence[str], stages: Sequence[str], public: bool, actor: str,
             known_criteria: Sequence[str], known_stages: Sequence[str]) -> bool:
        """Replace what the resource says; False (and nothing recorded) if nothing changes."""
        if self.retired:
            raise Conflict("This resource is retired: add it again instead.", "resource")
        values = _resource_values(title, description, kind, url, file, criteria, stages, public,
                                  known_criteria, known_stages)
        if values == self.values():
            return False
        self._edited(**values, actor=actor)
        return True

    def retire(self, reason: str, actor: str) -> None:
        if self.retired:
            raise Conflict("This resource is already retired.", "resource")
        self._retired(reason=reason, actor=actor)

    # -- queries -------------------------------------------------------------------

    def values(self) -> dict:
        return {"title": self.title, "description": self.description, "kind": self.kind,
                "url": self.url, "file": self.file, "criteria": list(self.criteria),
                "stages": list(self.stages), "public": self.public}

    def helps_with(self, criterion: str | None = None, stage: str | None = None) -> bool:
        return (criterion is None or criterion in self.criteria) and (stage is None or stage in self.stages)

    # -- events ----------------------------------------------------------------------

    @event("Edited")
    def _edited(self, title: str, description: str, kind: str, url: str | None, file: dict | None,
                criteria: list[str], stages: list[str], public: bool, actor: str) -> None:
        self.title, self.description, self.kind = title, description, kind
        self.url, self.file = url, file
        self.criteria, self.stages, self.public = list(criteria), list(stages), public

    @event("Retired")
    def _retired(self, reason: str, actor: str) -> None:
        self.retired = {"reason": reason, "by": actor}


def _resource_values(title: str, description: str, kind: str, url: str | None, file: dict | None,
                     criteria: Sequence[str], stages: Sequence[str], public: bool,
                     known_criteria: Sequence[str], known_stages: Sequence[str]) -> dict:
    problems: dict[str, list[str]] = {}
    if not title.strip():
        problems["title"] = ["A resource needs a title."]
    if kind not in RESOURCE_KINDS:
        problems["kind"] = [f"Must be one of {', '.join(RESOURCE_KINDS)}."]
    elif kind == "link":
        if not url:
            problems["url"] = ["A link needs its address (https://...)."]
        elif not url.lower().startswith("https://"):
            problems["url"] = ["Only https:// addresses are listed."]
        if file is not None:
            problems["file"] = ["A link has no file: choose kind \"file\" to offer a file."]
    else:
        if not file:
            problems["file"] = ["A file resource needs its uploaded file (its sha256 and name)."]
        elif set(file) != {"filename", "content_type", "size", "sha256"}:
            problems["file"] = ["Give the file's filename, content_type, size and sha256."]
        if url is not None:
            problems["url"] = ["A file resource has no address: choose kind \"link\" for a link."]
    unknown = [c for c in criteria if c not in known_criteria]
    if unknown:
        problems["criteria"] = [f"No criterion {c!r} in this authority's criteria "
                                f"({', '.join(sorted(known_criteria))})." for c in unknown]
    elif len(set(criteria)) != len(criteria):
        problems["criteria"] = ["Name each criterion once."]
    wrong = [s for s in stages if s not in known_stages]
    if wrong:
        problems["stages"] = [f"No stage {s!r}; the stages are {', '.join(known_stages)}." for s in wrong]
    elif len(set(stages)) != len(stages):
        problems["stages"] = ["Name each stage once."]
    if problems:
        raise Invalid(f"Invalid resource: {', '.join(sorted(problems))}.", problems)
    return {"title": title.strip(), "description": description.strip(), "kind": kind, "url": url,
            "file": dict(file) if file else None,
            "criteria": [c for c in known_criteria if c in criteria],  # in the authority's order
            "stages": [s for s in known_stages if s in stages],  # in journey order
            "public": bool(public)}


# -- partner organisations --------------------------------------------------------------


class Partner(Aggregate):
    """A local organisation in the lead's directory: never a person."""

    @staticmethod
    def create_id(**_: object) -> uuid.UUID:
        return uuid.uuid4()

    @event("Added")
    def __init__(self, name: str, kind: str, area: str, website: str | None, offers: str,
                 actor: str) -> None:
        self.name = name
        self.kind = kind
        self.area = area
        self.website = website
        self.offers = offers
        self.retired: dict | None = None

    @classmethod
    def add(cls, name: str, kind: str, area: str, website: str | None, offers: str,
            actor: str) -> Partner:
        return cls(actor=actor, **_partner_values(name, kind, area, website, offers))

    def edit(self, name: str, kind: str, area: str, website: str | None, offers: str,
             actor: str) -> bool:
        if self.retired:
            raise Conflict("This organisation is no longer listed: add it again instead.", "partner")
        values = _partner_values(name, kind, area, website, offers)
        if values == self.values():
            return False
        self._edited(**values, actor=actor)
        return True

    def retire(self, reason: str, actor: str) -> None:
        """No longer listed: schools' links with it stay, as history and evidence."""
        if self.retired:
            raise Conflict("This organisation is already taken off the directory.", "partner")
        self._retired(reason=reason, actor=actor)

    def values(self) -> dict:
        return {"name": self.name, "kind": self.kind, "area": self.area, "website": self.website,
                "offers": self.offers}

    @event("Edited")
    def _edited(self, name: str, kind: str, area: str, website: str | None, offers: str,
                actor: str) -> None:
        self.name, self.kind, self.area, self.website, self.offers = name, kind, area, website, offers

    @event("Retired")
    def _retired(self, reason: str, actor: str) -> None:
        self.retired = {"reason": reason, "by": actor}


def _partner_values(name: str, kind: str, area: str, website: str | None, offers: str) -> dict:
    problems: dict[str, list[str]] = {}
    if not name.strip():
        problems["name"] = ["The organisation's name is required."]
    if kind not in PARTNER_KINDS:
        problems["kind"] = [f"Must be one of {', '.join(PARTNER_KINDS)}."]
    if website is not None and not website.lower().startswith("https://"):
        problems["website"] = ["Only https:// addresses are listed."]
    for field, text in (("name", name), ("area", area), ("offers", offers)):
        if _EMAIL.search(text) or _PHONE.search(text):
            problems.setdefault(field, []).append(
                "The directory lists organisations only: no email addresses or phone numbers "
                "(give the organisation's website instead).")
    if problems:
        raise Invalid(f"Invalid organisation: {', '.join(sorted(problems))}.", problems)
    return {"name": name.strip(), "kind": kind, "area": area.strip(), "website": website,
            "offers": offers.strip()}


# -- a school's links with partners -------------------------------------------------------


class PartnerLink(Aggregate):
    """One school's link with one organisation: since when, what they do together, and
    the Share criteria it is evidence for. One per school and organisation; an ended
    link can be taken up again."""

    @staticmethod
    def create_id(urn: str, partner_id: str, **_: object) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"link/{urn}/{partner_id}")

    @event("Recorded")
    def __init__(self, urn: str, partner_id: str, since: dt.date, activities: object,
                 criteria: list[str], actor: str) -> None:
        self.urn = urn
        self.partner_id = partner_id
        self.since = since
        self.activities = activities  # free text; the application may wrap it as Personal
        self.criteria = list(criteria)
        self.ended_on: dt.date | None = None

    @classmethod
    def record(cls, urn: str, partner_id: str, since: dt.date, activities: object,
               criteria: Sequence[str], today: dt.date, share_criteria: Sequence[str],
               actor: str) -> PartnerLink:
        _not_future(since, today, "since")
        return cls(urn=urn, partner_id=partner_id, since=since, activities=activities,
                   criteria=_share(criteria, share_criteria), actor=actor)

    # -- commands ----------------------------------------------------------------

    def take_up_again(self, since: dt.date, activities: object, criteria: Sequence[str],
                      today: dt.date, share_criteria: Sequence[str], actor: str) -> None:
        if self.ended_on is None:
            raise Conflict("This school's link with the organisation is already recorded; "
                           "update it instead.", "partner_id")
        _not_future(since, today, "since")
        if since < self.ended_on:
            raise Invalid("A link taken up again starts after it ended.",
                          {"since": [f"Must be on or after {self.ended_on.isoformat()}."]})
        self._resumed(urn=self.urn, partner_id=self.partner_id, since=since, activities=activities,
                      criteria=_share(criteria, share_criteria), actor=actor)

    def update(self, activities: object, criteria: Sequence[str], share_criteria: Sequence[str],
               actor: str) -> bool:
        if self.ended_on is not None:
            raise Conflict("This link has ended; record it again to take it up.", "link")
        criteria = _share(criteria, share_criteria)
        if activities == self.activities and criteria == self.criteria:
            return False
        self._updated(urn=self.urn, partner_id=self.partner_id, activities=activities,
                      criteria=criteria, actor=actor)
        return True

    def end(self, on: dt.date, today: dt.date, actor: str) -> None:
        if self.ended_on is not None:
            raise Conflict("This link has already ended.", "link")
        _not_future(on, today, "on")
        if on < self.since:
            raise Invalid("A link cannot end before it began.",
                          {"on": [f"Must be on or after {self.since.isoformat()}."]})
        self._ended(urn=self.urn, partner_id=self.partner_id, on=on, actor=actor)

    @property
    def active(self) -> bool:
        return self.ended_on is None

    # -- events --------------------------------------------------------------------

    @event("Resumed")
    def _resumed(self, urn: str, partner_id: str, since: dt.date, activities: object,
                 criteria: list[str], actor: str) -> None:
        self.since, self.activities, self.criteria = since, activities, list(criteria)
        self.ended_on = None

    @event("Updated")
    def _updated(self, urn: str, partner_id: str, activities: object, criteria: list[str],
                 actor: str) -> None:
        self.activities, self.criteria = activities, list(criteria)

    @event("Ended")
    def _ended(self, urn: str, partner_id: str, on: dt.date, actor: str) -> None:
        self.ended_on = on


def _share(criteria: Sequence[str], share_criteria: Sequence[str]) -> list[str]:
    """The criteria a link supports: Share criteria only, each once, in their order."""
    wrong = [c for c in criteria if c not in share_criteria]
    if wrong:
        raise Invalid("A link with an organisation is evidence for the Share criteria only.", {
            "criteria": [f"{c!r} is not a Share criterion; choose from {', '.join(share_criteria)}."
                         for c in wrong]})
    if len(set(criteria)) != len(criteria):
        raise Invalid("Name each criterion once.", {"criteria": ["Name each criterion once."]})
    return [c for c in share_criteria if c in criteria]


def _not_future(day: dt.date, today: dt.date, field: str) -> None:
    if day > today:
        raise Invalid("The date cannot be in the future.",
                      {field: [f"Must be on or before {today.isoformat()}."]})
