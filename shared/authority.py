"""One local authority's deployment config (deploy/authorities/<slug>.toml).

Each authority runs its own deployment with its own contacts, term dates,
criteria wording, deadlines and CPD programme, so all of that is data. This
module reads one file with tomllib, validates it with marshmallow (unknown keys
are errors, so a typo never silently drops a deadline), cross-checks it, and
returns frozen plain dataclasses: no marshmallow object leaves this module.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from shared.assumed import ToConfirm, marked, unknown_places

COMMITMENTS = ("slt", "governors", "head_teacher")
STAGES = ("draft", "final")
TERM_NAMES = ("autumn-1", "autumn-2", "spring-1", "spring-2", "summer-1", "summer-2")
PRINCIPLES = ("learn", "embed", "share")
CRITERIA_COUNT = 8
# "celebration": the authority's celebration of its awards (Coventry: "presentation
# and celebration event"; Lancashire: "The final step will be a celebration"); an
# awarded school is invited to its next session. At most one per authority.
CPD_KINDS = ("session", "series", "on_request", "run_by_others", "celebration")
DATE_STATUSES = ("confirmed", "tbc", "month")
VENUE_STATUSES = ("confirmed", "tbc", "online", "at_school")
# The order a cycle's dates must follow; absent dates are skipped.
CYCLE_DATE_ORDER = (
    "draft_deadline",
    "draft_panel",
    "final_deadline",
    "final_panel",
    "feedback_by",
)
DRAFT_DATES = ("draft_deadline", "draft_panel")
# When a configured starter pack is emailed to a school's coordinator.
STARTER_PACK_MOMENTS = ("registered", "pledge_signed")
# the largest per-file limit an authority may set for the portfolio: an upload crosses RPC whole
# (base64, under RabbitMQ's 128 MB message) and a photo is decoded in memory to be cleaned, so
# the gateway reads at most this much of one upload (services/gateway/portfolio_routes.py)
MAX_FILE_MB = 60
# The stages of a school's journey a library resource can help with (the
# submission stages among them only where a cycle has them).
JOURNEY_STAGES = ("pledge", "audit", "action-plan", "draft", "final", "renewal")


# ---------------------------------------------------------------- errors


class AuthorityConfigError(Exception):
    """The file is unreadable or invalid. One line per problem, each
    ``"<path>: <dotted.key.path>: <problem>"``; ``problems`` holds the
    (key path, problem) pairs for callers that want them separately."""

    def __init__(self, path: str | Path, problems: Iterable[tuple[str, str]]) -> None:
        self.path = str(path)
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{self.path}: {key}: {msg}" for key, msg in self.problems))


# ---------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class PledgeRules:
    required_commitments: tuple[str, ...]  # subset of COMMITMENTS, needed before the pledge
    lapse_years: int
    advised_months_before_application: int


@dataclass(frozen=True)
class Term:
    """A half-term of the authority's own calendar, both ends inclusive."""

    school_year: str
    name: str
    start: dt.date
    end: dt.date

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class NonSchoolDay:
    """A weekday on which the authority's schools are closed (a bank holiday, a training day)."""

    date: dt.date
    reason: str


@dataclass(frozen=True)
class PanelRule:
    min_members: int
    min_lived_experience: int


@dataclass(frozen=True)
class Cycle:
    """One school year's application round. Dates absent from the file are
    None: draft dates exist only when "draft" is a stage, and some
    authorities (Lancashire) take applications whenever a school is ready."""

    school_year: str
    criteria_version: str
    stages: tuple[str, ...]
    panel: PanelRule
    draft_deadline: dt.date | None
    draft_panel: dt.date | None
    final_deadline: dt.date | None
    final_panel: dt.date | None
    visit_window: Term | None
    feedback_by: dt.date | None
    renewal_deadline: dt.date | None
    # the stages whose decision waits for the school's visit to be recorded (Coventry: final)
    visit_before_decision: tuple[str, ...] = ()

    @property
    def has_draft(self) -> bool:
        return "draft" in self.stages

    @property
    def has_fixed_dates(self) -> bool:
        """False for a cycle that takes applications whenever a school is ready (Lancashire)."""
        dates = (self.draft_deadline, self.draft_panel, self.final_deadline, self.final_panel,
                 self.feedback_by, self.renewal_deadline, self.visit_window)
        return any(day is not None for day in dates)

    def panel_meets_on(self, stage: str) -> dt.date | None:
        return self.draft_panel if stage == "draft" else self.final_panel

    def needs_visit(self, stage: str) -> bool:
        return stage in self.visit_before_decision


@dataclass(frozen=True)
class Criterion:
    code: str  # "<principle>-<number>", e.g. "learn-1"
    principle: str
    number: int
    title: str
    description: str


@dataclass(frozen=True)
class CriteriaSet:
    version: str
    wording_confirmed: bool  # False until the local lead confirms the wording
    criteria: tuple[Criterion, ...]

    def criterion(self, code: str) -> Criterion:
        for item in self.criteria:
            if item.code == code:
                return item
        raise KeyError(f"criteria set {self.version!r} has no criterion {code!r}")


@dataclass(frozen=True)
class CpdItem:
    """One row of the CPD programme. Times are local to the authority's
    timezone; weekdays are derived from the dates, never stored."""

    code: str
    title: str
    kind: str  # CPD_KINDS
    runs_by: str
    date_status: str  # DATE_STATUSES
    dates: tuple[dt.date, ...]  # one per occurrence; empty while TBC or on request
    month: str | None  # "YYYY-MM" when only the month is known
    start: dt.time | None
    end: dt.time | None
    venue_status: str  # VENUE_STATUSES
    venue: str | None
    capacity: int | None
    audience: str
    description: str | None


@dataclass(frozen=True)
class Step:
    """One step of the authority's own journey for a school, in order."""

    code: str
    title: str
    details: tuple[str, ...]


@dataclass(frozen=True)
class Reminders:
    """How many days ahead people are reminded (each reminder goes once)."""

    deadline_days: tuple[int, ...] = (14, 3)
    cpd_days: tuple[int, ...] = (7, 1)
    panel_days: tuple[int, ...] = (7, 2)  # before a panel meets, to members with work unfinished


@dataclass(frozen=True)
class LeadMail:
    """How the lead hears of what waits for them: an email each, or (``daily_digest``) one a
    day, at ``digest_at`` (UK time), gathering everything since the last."""

    daily_digest: bool = False
    digest_at: dt.time = dt.time(8, 0)


@dataclass(frozen=True)
class PortfolioRules:
    """A school's evidence portfolio: how large a file and a whole application's files may
    be, and how long the files are kept after the decision (the award's expiry plus
    ``kept_years_after_award``; not awarded or withdrawn: plus ``kept_years_without_award``)."""

    max_file_mb: int = 20
    max_application_mb: int = 500
    kept_years_after_award: int = 1
    kept_years_without_award: int = 1

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    @property
    def max_application_bytes(self) -> int:
        return self.max_application_mb * 1024 * 1024


@dataclass(frozen=True)
class StarterPack:
    """What a school is sent to get started (Lancashire: "A starter pack will be
    sent out to you electronically"), emailed once to its coordinator when the
    school is registered or signs the pledge (``send_when``). Without a ``url``
    the email says the lead will send the pack and gives the contact address.
    ``support_meetings`` names the on-request programme item (meetings a school
    asks for and the lead schedules) that the email offers alongside the pack."""

    title: str
    description: str
    send_when: str  # STARTER_PACK_MOMENTS
    url: str | None = None
    support_meetings: str | None = None  # the code of an "on_request" CPD item


@dataclass(frozen=True)
class LibraryLink:
    """A resource the authority's file lists for its library, listed once when the
    library service first starts (the lead edits or retires it afterwards). Links
    only: files are uploaded by the lead. Never invent an address: leave an item out
    until its real ``https://`` address is known."""

    title: str
    url: str
    description: str = ""
    criteria: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    public: bool = False


@dataclass(frozen=True)
class Authority:
    slug: str
    name: str
    lead_team: str
    contact_email: str
    timezone: ZoneInfo
    website: str | None
    sign_off: str
    pledge: PledgeRules
    terms: tuple[Term, ...]
    cycles: tuple[Cycle, ...]
    criteria_sets: tuple[CriteriaSet, ...]
    cpd: tuple[CpdItem, ...]
    source: Path
    steps: tuple[Step, ...] = ()
    reminders: Reminders = Reminders()
    lead_mail: LeadMail = LeadMail()
    telephone: str | None = None
    address: str | None = None
    starter_pack: StarterPack | None = None  # None: the authority sends none
    resources: tuple[LibraryLink, ...] = ()  # the library's starting links, if any
    non_school_days: tuple[NonSchoolDay, ...] = ()  # weekdays schools are closed (weekends always)
    portfolio: PortfolioRules = PortfolioRules()
    to_confirm: tuple[ToConfirm, ...] = ()  # what the file marks as assumed (shared/assumed.py)

    def not_a_school_day(self, day: dt.date) -> str | None:
        """Why ``day`` is not a school day ("a Saturday", "Early May bank holiday"), or None."""
        if day.weekday() >= 5:
            return f"a {day:%A}"
        return next((d.reason for d in self.non_school_days if d.date == day), None)

    def cpd_item(self, code: str) -> CpdItem:
        for item in self.cpd:
            if item.code == code:
                return item
        raise KeyError(f"{self.slug}: no CPD item {code!r} in the programme")

    def cycle(self, year: str) -> Cycle:
        for item in self.cycles:
            if item.school_year == year:
                return item
        known = ", ".join(c.school_year for c in self.cycles)
        raise KeyError(f"{self.slug}: no cycle for school year {year!r} (configured: {known})")

    def current_cycle(self, today: dt.date) -> Cycle:
        """The cycle of the school year running today (September to August), else the next one
        configured, else the last."""
        start = today.year if today.month >= 9 else today.year - 1
        this = f"{start}-{(start + 1) % 100:02d}"
        ordered = sorted(self.cycles, key=lambda c: c.school_year)
        return next((c for c in ordered if c.school_year >= this), ordered[-1])

    def criteria(self, version: str) -> CriteriaSet:
        for item in self.criteria_sets:
            if item.version == version:
                return item
        known = ", ".join(c.version for c in self.criteria_sets)
        raise KeyError(f"{self.slug}: no criteria set {version!r} (configured: {known})")


# ---------------------------------------------------------------- fields


class _TomlDate(fields.Field):
    """A native TOML date (unquoted 2027-03-25). Strings and datetimes are
    refused so every file writes dates the same, checkable way."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "Not a valid date. Write an unquoted TOML date, e.g. 2027-03-25."
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        raise self.make_error("invalid")


class _LocalTime(fields.Field):
    """A 24-hour "HH:MM" wall-clock time in the authority's timezone."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": 'Not a valid time. Write 24-hour "HH:MM", e.g. "16:00".'
    }
    _PATTERN = re.compile(r"([01]\d|2[0-3]):[0-5]\d")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.time:
        if isinstance(value, str) and self._PATTERN.fullmatch(value):
            return dt.time.fromisoformat(value)
        raise self.make_error("invalid")


def _school_year(value: str) -> None:
    match = re.fullmatch(r"(\d{4})-(\d{2})", value)
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        raise ValidationError('Not a valid school year. Write e.g. "2026-27".')


def _zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            f'Unknown timezone {value!r}. Use an IANA name such as "Europe/London".'
        ) from error


def _text(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1), **kwargs)


def _choice(options: tuple[str, ...], **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(options), **kwargs)


def _slug(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Regexp(
            r"[a-z][a-z0-9-]*\Z", error="Must be lowercase letters, digits and hyphens."
        ),
        **kwargs,
    )


def _int(minimum: int, **kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=minimum), **kwargs)


def _optional_date() -> _TomlDate:
    return _TomlDate(load_default=None)


# ---------------------------------------------------------------- cross-check helpers


def _duplicates(values: Iterable[Any]) -> set[Any]:
    return {value for value, count in Counter(values).items() if count > 1}


def _flag_duplicates(items: list[dict], *keys: str) -> dict:
    """Errors keyed by list index for every item repeating an earlier
    combination of ``keys``; the error sits on the last key."""
    seen: set[tuple] = set()
    errors: dict = {}
    for index, item in enumerate(items):
        identity = tuple(item[key] for key in keys)
        if identity in seen:
            errors[index] = {keys[-1]: [f"Duplicate: {' '.join(map(str, identity))} appears earlier."]}
        seen.add(identity)
    return errors


def _raise_if(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


# ---------------------------------------------------------------- schemas


class _Strict(Schema):
    class Meta:
        unknown = RAISE  # a misspelt key must fail, not be ignored


class _AuthoritySchema(_Strict):
    slug = _slug(required=True)
    name = _text(required=True)
    lead_team = _text(required=True)
    contact_email = fields.Email(required=True)
    timezone = fields.String(required=True, validate=_zone)
    website = fields.Url(load_default=None)
    sign_off = _text(required=True)
    telephone = _text(load_default=None)
    address = _text(load_default=None)


class _PledgeSchema(_Strict):
    required_commitments = fields.List(_choice(COMMITMENTS), required=True, validate=validate.Length(min=1))
    lapse_years = _int(1, required=True)
    advised_months_before_application = _int(0, required=True)

    @validates_schema
    def _unique(self, data: dict, **kwargs: Any) -> None:
        repeated = _duplicates(data["required_commitments"])
        if repeated:
            raise ValidationError(
                f"Listed more than once: {', '.join(sorted(repeated))}.",
                "required_commitments",
            )


class _TermSchema(_Strict):
    school_year = fields.String(required=True, validate=_school_year)
    name = _choice(TERM_NAMES, required=True)
    start = _TomlDate(required=True)
    end = _TomlDate(required=True)

    @validates_schema
    def _ordered(self, data: dict, **kwargs: Any) -> None:
        if data["end"] < data["start"]:
            raise ValidationError(f"Must not be before start ({data['start']}).", "end")


class _PanelSchema(_Strict):
    min_members = _int(1, required=True)
    min_lived_experience = _int(0, required=True)

    @validates_schema
    def _fits(self, data: dict, **kwargs: Any) -> None:
        if data["min_lived_experience"] > data["min_members"]:
            raise ValidationError("Must not exceed min_members.", "min_lived_experience")


class _CycleSchema(_Strict):
    school_year = fields.String(required=True, validate=_school_year)
    criteria_version = _text(required=True)
    stages = fields.List(_choice(STAGES), required=True)
    draft_deadline = _optional_date()
    draft_panel = _optional_date()
    final_deadline = _optional_date()
    final_panel = _optional_date()
    visit_window = _choice(TERM_NAMES, load_default=None)
    feedback_by = _optional_date()
    renewal_deadline = _optional_date()
    panel = fields.Nested(_PanelSchema, required=True)
    # a visit follows the final submission, so only the final decision can wait for one
    visit_before_decision = fields.List(_choice(("final",)), load_default=list)

    @validates_schema
    def _consistent(self, data: dict, **kwargs: Any) -> None:
        _raise_if({**self._stage_errors(data), **self._order_errors(data)})

    @staticmethod
    def _stage_errors(data: dict) -> dict:
        stages = data["stages"]
        if stages not in (["final"], ["draft", "final"]):
            return {"stages": ['Must be ["final"] or ["draft", "final"].']}
        has_draft = "draft" in stages
        errors: dict = {}
        for key in DRAFT_DATES:
            if has_draft and data[key] is None:
                errors[key] = ['Missing: required when "draft" is a stage.']
            elif not has_draft and data[key] is not None:
                errors[key] = ['Not allowed: "draft" is not a stage.']
        return errors

    @staticmethod
    def _order_errors(data: dict) -> dict:
        present = [(key, data[key]) for key in CYCLE_DATE_ORDER if data[key] is not None]
        errors: dict = {}
        for (before, earlier), (key, later) in itertools.pairwise(present):
            if later <= earlier:
                errors[key] = [f"Must be after {before} ({earlier})."]
        return errors


class _CriterionSchema(_Strict):
    code = fields.String(required=True)
    principle = _choice(PRINCIPLES, required=True)
    number = _int(1, required=True)
    title = _text(required=True)
    description = _text(required=True)

    @validates_schema
    def _code_matches(self, data: dict, **kwargs: Any) -> None:
        expected = f"{data['principle']}-{data['number']}"
        if data["code"] != expected:
            raise ValidationError(f"Must be {expected!r} (principle-number).", "code")


class _CriteriaSetSchema(_Strict):
    version = _text(required=True)
    wording_confirmed = fields.Boolean(load_default=False)
    criteria = fields.List(fields.Nested(_CriterionSchema), required=True)

    @validates_schema
    def _complete(self, data: dict, **kwargs: Any) -> None:
        criteria = data["criteria"]
        if len(criteria) != CRITERIA_COUNT:
            raise ValidationError(
                f"Must hold exactly {CRITERIA_COUNT} criteria, found {len(criteria)}.",
                "criteria",
            )
        errors = _flag_duplicates(criteria, "code")
        numbers = sorted(c["number"] for c in criteria)
        if not errors and numbers != list(range(1, CRITERIA_COUNT + 1)):
            errors = {"_schema": [f"Numbers must be 1..{CRITERIA_COUNT} once each, found {numbers}."]}
        _raise_if({"criteria": errors} if errors else {})


class _CpdSchema(_Strict):
    code = _slug(required=True)
    title = _text(required=True)
    kind = _choice(CPD_KINDS, required=True)
    runs_by = _text(required=True)
    date_status = _choice(DATE_STATUSES, required=True)
    dates = fields.List(_TomlDate(), load_default=list)
    month = fields.String(
        load_default=None,
        validate=validate.Regexp(r"\d{4}-(0[1-9]|1[0-2])\Z", error='Write "YYYY-MM".'),
    )
    start = _LocalTime(load_default=None)
    end = _LocalTime(load_default=None)
    venue_status = _choice(VENUE_STATUSES, required=True)
    venue = _text(load_default=None)
    capacity = _int(1, load_default=None)
    audience = _text(required=True)
    description = _text(load_default=None)

    @validates_schema
    def _consistent(self, data: dict, **kwargs: Any) -> None:
        _raise_if(
            {
                **self._date_errors(data),
                **self._time_errors(data),
                **self._venue_errors(data),
            }
        )

    @staticmethod
    def _date_errors(data: dict) -> dict:
        status, dates, kind = data["date_status"], data["dates"], data["kind"]
        if status == "confirmed" and not dates:
            return {"dates": ['Missing: date_status is "confirmed".']}
        if status != "confirmed" and dates:
            return {"dates": [f'Not allowed: date_status is "{status}".']}
        if (status == "month") != (data["month"] is not None):
            return {"month": ['Required exactly when date_status is "month".']}
        if kind == "session" and len(dates) > 1:
            return {"dates": ['A "session" has one date; use kind "series" for several.']}
        if dates != sorted(set(dates)):
            return {"dates": ["Must be in order, without repeats."]}
        return {}

    @staticmethod
    def _time_errors(data: dict) -> dict:
        start, end = data["start"], data["end"]
        if (start is None) != (end is None):
            return {"end" if end is None else "start": ["Give both start and end, or neither."]}
        if start is not None and end <= start:
            return {"end": [f"Must be after start ({start:%H:%M})."]}
        return {}

    @staticmethod
    def _venue_errors(data: dict) -> dict:
        if data["venue_status"] == "confirmed" and data["venue"] is None:
            return {"venue": ['Missing: venue_status is "confirmed".']}
        return {}


class _NonSchoolDaySchema(_Strict):
    date = _TomlDate(required=True)
    reason = _text(required=True)


class _ToConfirmSchema(_Strict):
    value = _text(required=True)  # its place in this file: see shared/assumed.py
    note = _text(required=True)


class _StepSchema(_Strict):
    code = _slug(required=True)
    title = _text(required=True)
    details = fields.List(_text(), load_default=list)


class _RemindersSchema(_Strict):
    deadline_days = fields.List(fields.Integer(validate=validate.Range(min=0, max=90)),
                                load_default=lambda: [14, 3])
    cpd_days = fields.List(fields.Integer(validate=validate.Range(min=0, max=60)),
                           load_default=lambda: [7, 1])
    panel_days = fields.List(fields.Integer(validate=validate.Range(min=0, max=60)),
                             load_default=lambda: [7, 2])


class _LeadMailSchema(_Strict):
    daily_digest = fields.Boolean(load_default=False, truthy={True}, falsy={False})
    digest_at = _LocalTime(load_default=lambda: dt.time(8, 0))


class _StarterPackSchema(_Strict):
    title = _text(required=True)
    description = _text(required=True)
    url = fields.Url(load_default=None)  # absent: the lead sends the pack; never invent one
    send_when = _choice(STARTER_PACK_MOMENTS, required=True)
    support_meetings = _slug(load_default=None)


_FILE_LIMIT = (f"Must be from 1 to {MAX_FILE_MB}: an upload crosses the message bus whole, so the gateway "
               f"takes at most {MAX_FILE_MB} MB a file (link to larger files, such as videos, instead).")


class _PortfolioSchema(_Strict):
    max_file_mb = fields.Integer(strict=True, load_default=PortfolioRules.max_file_mb,
                                 validate=validate.Range(1, MAX_FILE_MB, error=_FILE_LIMIT))
    max_application_mb = _int(1, load_default=PortfolioRules.max_application_mb)
    kept_years_after_award = _int(0, load_default=PortfolioRules.kept_years_after_award)
    kept_years_without_award = _int(0, load_default=PortfolioRules.kept_years_without_award)

    @validates_schema
    def _one_file_fits(self, data: dict, **kwargs: Any) -> None:
        if data["max_file_mb"] > data["max_application_mb"]:
            raise ValidationError({"max_file_mb": ["Larger than max_application_mb: one file could "
                                                   "never be taken."]})


class _ResourceSchema(_Strict):
    title = _text(required=True)
    url = fields.Url(required=True, schemes={"https"})
    description = fields.String(load_default="")
    criteria = fields.List(_text(), load_default=list)
    stages = fields.List(_choice(JOURNEY_STAGES), load_default=list)
    public = fields.Boolean(load_default=False, truthy={True}, falsy={False})


class _FileSchema(_Strict):
    authority = fields.Nested(_AuthoritySchema, required=True)
    pledge = fields.Nested(_PledgeSchema, required=True)
    terms = fields.List(fields.Nested(_TermSchema), load_default=list)
    cycles = fields.List(fields.Nested(_CycleSchema), required=True, validate=validate.Length(min=1))
    criteria_sets = fields.List(
        fields.Nested(_CriteriaSetSchema),
        required=True,
        validate=validate.Length(min=1),
    )
    cpd = fields.List(fields.Nested(_CpdSchema), load_default=list)
    steps = fields.List(fields.Nested(_StepSchema), load_default=list)
    reminders = fields.Nested(_RemindersSchema, load_default=lambda: _RemindersSchema().load({}))
    lead_mail = fields.Nested(_LeadMailSchema, load_default=lambda: _LeadMailSchema().load({}))
    starter_pack = fields.Nested(_StarterPackSchema, load_default=None)
    resources = fields.List(fields.Nested(_ResourceSchema), load_default=list)
    non_school_days = fields.List(fields.Nested(_NonSchoolDaySchema), load_default=list)
    portfolio = fields.Nested(_PortfolioSchema, load_default=lambda: _PortfolioSchema().load({}))
    to_confirm = fields.List(fields.Nested(_ToConfirmSchema), load_default=list)

    @validates_schema
    def _cross_check(self, data: dict, **kwargs: Any) -> None:
        errors = {
            "terms": self._term_errors(data["terms"]),
            "cycles": self._cycle_errors(data),
            "criteria_sets": _flag_duplicates(data["criteria_sets"], "version"),
            "cpd": _flag_duplicates(data["cpd"], "code") or self._celebration_errors(data["cpd"]),
            "steps": _flag_duplicates(data["steps"], "code"),
            "starter_pack": self._starter_pack_errors(data),
            "resources": self._resource_errors(data),
            "non_school_days": self._non_school_day_errors(data["non_school_days"]),
            "to_confirm": unknown_places(data["to_confirm"], data),
        }
        _raise_if({key: value for key, value in errors.items() if value})

    @staticmethod
    def _celebration_errors(cpd: list[dict]) -> dict:
        """One celebration per authority: an awarded school is invited to its next session."""
        found = [index for index, item in enumerate(cpd) if item["kind"] == "celebration"]
        return {index: {"kind": [f'Only one item may be kind "celebration" (the first is cpd[{found[0]}]); '
                                 "give it several dates instead."]}
                for index in found[1:]}

    @staticmethod
    def _starter_pack_errors(data: dict) -> dict:
        code = (data["starter_pack"] or {}).get("support_meetings")
        if code is None:
            return {}
        kinds = {item["code"]: item["kind"] for item in data["cpd"]}
        if code not in kinds:
            return {"support_meetings": [f"No CPD item with code {code!r}."]}
        if kinds[code] != "on_request":
            return {"support_meetings": [f'CPD item {code!r} is kind "{kinds[code]}", not "on_request".']}
        return {}

    @staticmethod
    def _resource_errors(data: dict) -> dict:
        codes = {c["code"] for s in data["criteria_sets"] for c in s["criteria"]}
        stages = {stage for cycle in data["cycles"] for stage in cycle["stages"]}
        errors = _flag_duplicates(data["resources"], "url")
        for index, item in enumerate(data["resources"]):
            problems = errors.setdefault(index, {})
            unknown = [code for code in item["criteria"] if code not in codes]
            if unknown:
                problems["criteria"] = [f"No criterion {code!r} in any criteria set." for code in unknown]
            missing = [s for s in item["stages"] if s in STAGES and s not in stages]
            if missing:
                problems["stages"] = [f"No cycle has a {s!r} stage." for s in missing]
        return {index: problems for index, problems in errors.items() if problems}

    @staticmethod
    def _non_school_day_errors(days: list[dict]) -> dict:
        errors = _flag_duplicates(days, "date")
        for index, day in enumerate(days):
            if day["date"].weekday() >= 5:
                errors.setdefault(index, {"date": [f"{day['date']} is a {day['date']:%A}: weekends are "
                                                   "never school days, so need no listing."]})
        return errors

    @staticmethod
    def _term_errors(terms: list[dict]) -> dict:
        errors = _flag_duplicates(terms, "school_year", "name")
        ordered = sorted(enumerate(terms), key=lambda pair: pair[1]["start"])
        for (_, earlier), (index, later) in itertools.pairwise(ordered):
            if later["start"] <= earlier["end"]:
                errors.setdefault(
                    index,
                    {"start": [f"Overlaps {earlier['school_year']} {earlier['name']}."]},
                )
        return errors

    @staticmethod
    def _cycle_errors(data: dict) -> dict:
        versions = {c["version"] for c in data["criteria_sets"]}
        terms = {(t["school_year"], t["name"]) for t in data["terms"]}
        errors = _flag_duplicates(data["cycles"], "school_year")
        for index, cycle in enumerate(data["cycles"]):
            problems = errors.setdefault(index, {})
            if cycle["criteria_version"] not in versions:
                problems["criteria_version"] = [
                    f"No criteria set with version {cycle['criteria_version']!r}."
                ]
            window = cycle["visit_window"]
            if window is not None and (cycle["school_year"], window) not in terms:
                problems["visit_window"] = [f"No term {window!r} defined for {cycle['school_year']}."]
        return {index: problems for index, problems in errors.items() if problems}


# ---------------------------------------------------------------- loading


def load_authority(path: str | Path) -> Authority:
    """Read, validate and cross-check one authority file.

    Raises AuthorityConfigError naming the file, the key path and the problem
    for every problem found (one per line)."""
    raw = _read_toml(path)
    try:
        data = _FileSchema().load(raw)
    except ValidationError as error:
        raise AuthorityConfigError(path, _flatten(error.messages)) from None
    return _build(data, Path(path))


def _read_toml(path: str | Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise AuthorityConfigError(path, [("file", error.strerror or str(error))]) from error
    except tomllib.TOMLDecodeError as error:
        # tomllib (3.11) puts the location only in the text: "... (at line 3, column 9)".
        match = re.fullmatch(r"(.*?)\s*\(at (.+)\)", str(error))
        where, problem = (match[2], match[1]) if match else ("TOML", str(error))
        raise AuthorityConfigError(path, [(where, f"TOML syntax error: {problem}.")]) from error


def _flatten(messages: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Turn marshmallow's nested error dict into (dotted.key[0].path, message)."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, _join(prefix, key))
    elif isinstance(messages, list):
        for item in messages:
            yield from _flatten(item, prefix)
    else:
        yield prefix or "(top level)", str(messages)


def _join(prefix: str, key: str | int) -> str:
    if key == "_schema":
        return prefix
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def _build(data: dict, source: Path) -> Authority:
    head = data["authority"]
    terms = tuple(Term(**term) for term in data["terms"])
    return Authority(
        **{**head, "timezone": ZoneInfo(head["timezone"])},
        pledge=_pledge(data["pledge"]),
        terms=terms,
        cycles=tuple(_cycle(cycle, terms) for cycle in data["cycles"]),
        criteria_sets=tuple(_criteria_set(item) for item in data["criteria_sets"]),
        cpd=tuple(CpdItem(**{**item, "dates": tuple(item["dates"])}) for item in data["cpd"]),
        steps=tuple(Step(**{**step, "details": tuple(step["details"])}) for step in data["steps"]),
        reminders=Reminders(*(tuple(sorted(set(data["reminders"][name]), reverse=True))
                              for name in ("deadline_days", "cpd_days", "panel_days"))),
        lead_mail=LeadMail(**data["lead_mail"]),
        starter_pack=StarterPack(**data["starter_pack"]) if data["starter_pack"] else None,
        resources=tuple(LibraryLink(**{**item, "criteria": tuple(item["criteria"]),
                                       "stages": tuple(item["stages"])}) for item in data["resources"]),
        non_school_days=tuple(sorted((NonSchoolDay(**day) for day in data["non_school_days"]),
                                     key=lambda d: d.date)),
        portfolio=PortfolioRules(**data["portfolio"]),
        to_confirm=marked(data),
        source=source,
    )


def _pledge(data: dict) -> PledgeRules:
    return PledgeRules(**{**data, "required_commitments": tuple(data["required_commitments"])})


def _cycle(data: dict, terms: tuple[Term, ...]) -> Cycle:
    window = next(
        (t for t in terms if (t.school_year, t.name) == (data["school_year"], data["visit_window"])),
        None,
    )
    return Cycle(
        **{
            **data,
            "stages": tuple(data["stages"]),
            "visit_window": window,
            "panel": PanelRule(**data["panel"]),
            "visit_before_decision": tuple(data["visit_before_decision"]),
        }
    )


def _criteria_set(data: dict) -> CriteriaSet:
    criteria = tuple(Criterion(**item) for item in sorted(data["criteria"], key=lambda c: c["number"]))
    return CriteriaSet(
        version=data["version"],
        wording_confirmed=data["wording_confirmed"],
        criteria=criteria,
    )
