"""The pledges application: commands and queries over schools and their pledges."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.pledges.domain import AwardRecord, School, public_listing
from services.pledges.feed import Publisher, atom_feed
from services.pledges.joining import JoinRequest, JoinStatus, head_approval_given
from shared.clock import Clock, system_clock
from shared.envelope import IntegrationEvent
from shared.errors import Conflict, NotFound
from shared.history import history_entry
from shared.personal import (
    ERASED,
    Personal,
    PersonalDataApplication,
    reveal,
    subject_for_email,
    subject_for_name,
)
from shared.projection import AggregateProjection

if TYPE_CHECKING:
    from shared.authority import PledgeRules


class Pledges(PersonalDataApplication):
    """Names, contacts and free text are stored as ``Personal`` values, encrypted
    per person, so a person's data can be erased without rewriting history."""

    name = "pledges"

    def __init__(self, env: dict | None = None, *, rules: PledgeRules,
                 clock: Clock | None = None, publisher: Publisher | None = None) -> None:
        super().__init__(env)
        self.rules = rules
        self.clock = clock or system_clock()
        self.publisher = publisher or Publisher()
        self.directory = AggregateProjection(self)

    # -- commands ------------------------------------------------------------

    def register_school(self, actor: str, urn: str, name: str, phase: str, postcode: str,
                        coordinator: dict) -> dict:
        school = School(urn=urn, name=name, phase=phase, postcode=postcode,
                        coordinator=_contact(urn, coordinator), actor=actor)
        try:
            self.save(school)
        except IntegrityError:
            raise Conflict(f"A school with URN {urn} is already registered.", "urn") from None
        return self.view(school)

    def express_interest(self, actor: str, urn: str, on: dt.date | None = None) -> dict:
        today = self.today()
        return self._change(urn, lambda s: s.express_interest(on or today, today, actor))

    def record_commitment(self, actor: str, urn: str, body: str, given_by: str, role: str,
                          on: dt.date | None = None) -> dict:
        today = self.today()
        return self._change(urn, lambda s: s.record_commitment(
            body, _named(urn, given_by), role, on or today, today, actor))

    def sign_pledge(self, actor: str, urn: str, signed_by: str, role: str,
                    signed_on: dt.date | None = None) -> dict:
        today = self.today()
        return self._change(urn, lambda s: s.sign_pledge(
            _named(urn, signed_by), role, signed_on or today, today, self.rules.required_commitments,
            self.rules.lapse_years, actor))

    def import_pledge(self, actor: str, urn: str, signed_by: str, role: str, signed_on: dt.date) -> dict:
        """A pledge signed before, entered from earlier records: no thanks, no starter pack."""
        today = self.today()
        return self._change(urn, lambda s: s.import_pledge(
            _named(urn, signed_by), role, signed_on, today, self.rules.lapse_years, actor))

    def renew_pledge(self, actor: str, urn: str, renewed_by: str, role: str,
                     renewed_on: dt.date | None = None) -> dict:
        today = self.today()
        return self._change(urn, lambda s: s.renew_pledge(
            _named(urn, renewed_by), role, renewed_on or today, today, self.rules.lapse_years,
            actor))

    def withdraw_pledge(self, actor: str, urn: str, reason: str,
                        withdrawn_on: dt.date | None = None) -> dict:
        today = self.today()
        reason_ = Personal(subject_for_name(urn, FREE_TEXT), reason, label=f"free text about {urn}")
        return self._change(urn, lambda s: s.withdraw_pledge(
            reason_, withdrawn_on or today, today, actor))

    def set_newsletter(self, actor: str, urn: str, subscribed: bool) -> dict:
        return self._change(urn, lambda s: s.set_newsletter(subscribed, actor))

    def change_coordinator(self, actor: str, urn: str, coordinator: dict) -> dict:
        return self._change(urn, lambda s: s.change_coordinator(_contact(urn, coordinator), actor))

    # -- sharing the news of an award (opt-in, withdrawable at any time) ------------

    def share_award(self, actor: str, urn: str, town: str | None = None,
                    statement: str | None = None, link: str | None = None) -> dict:
        school = self._get(urn)
        if school.share_award(town, statement, link, self.clock.now(), actor):
            self.save_changes(school)
        return self.sharing_view(school)

    def stop_sharing(self, actor: str, urn: str) -> dict:
        school = self._get(urn)
        if school.stop_sharing(self.clock.now(), actor):
            self.save_changes(school)
        return self.sharing_view(school)

    def sharing(self, urn: str) -> dict:
        return self.sharing_view(self._get(urn))

    def awarded_schools(self) -> list[dict]:
        """The public list: only schools that chose to share and hold a current award,
        each with only what it chose, by name."""
        return [listing for listing, _ in self._listed()]

    def awarded_feed(self) -> bytes:
        entries = [{**listing, "urn": school.urn, "chosen_at": school.sharing["chosen_at"]}
                   for listing, school in self._listed()]
        return atom_feed(entries, self.publisher, self.clock.now())

    def learn_award_news(self, news: IntegrationEvent) -> list[AwardRecord]:
        """The aggregates changed by one award announced by the applications service (saved
        by the caller, with the position consumed). Other news changes nothing."""
        p = news.payload
        if news.type != "Awarded" or p.get("outcome", "awarded") != "awarded" or not p.get("expires_on"):
            return []
        record = self._find_awards(p["urn"]) or AwardRecord(urn=p["urn"])
        awarded_on = dt.date.fromisoformat(p.get("awarded_on") or p["on"])  # v1 names it "on"
        record.learn_award(p["application"], p["school_year"], awarded_on,
                           dt.date.fromisoformat(p["expires_on"]), news.position, news.actor)
        return [record]

    # -- queries -------------------------------------------------------------

    def school(self, urn: str) -> dict:
        return self.view(self._get(urn))

    def schools(self, status: str | None = None) -> list[dict]:
        views = [self.view(school) for school in self._schools()]
        views.sort(key=lambda v: (v["name"].lower(), v["urn"]))
        return [v for v in views if status is None or v["status"] == status]

    def count_by_status(self) -> dict[str, int]:
        """How many schools stand at each pledge status (for the operators' gauges)."""
        today, rules = self.today(), self.rules
        counts: dict[str, int] = {}
        for school in self._schools():
            status = school.status(today, rules.lapse_years, rules.required_commitments)
            counts[status] = counts.get(status, 0) + 1
        return counts

    def history(self, urn: str) -> list[dict]:
        school = self._get(urn)
        return [history_entry(e) for e in self.events.get(school.id)]

    def today(self) -> dt.date:
        return self.clock.today()

    def view(self, school: School) -> dict:
        rules = self.rules
        pledge = None
        if school.signed is not None:
            pledge = {**school.signed, "renewed_on": school.renewed_on,
                      "lapses_on": school.lapses_on(rules.lapse_years)}
        coordinator = reveal(school.coordinator)
        if coordinator == ERASED:
            coordinator = {"name": ERASED, "email": ERASED}
        return reveal({
            "urn": school.urn, "name": school.name, "phase": school.phase,
            "postcode": school.postcode, "coordinator": coordinator,
            "status": school.status(self.today(), rules.lapse_years, rules.required_commitments),
            "interest_on": school.interest_on,
            "commitments": [{"body": body, **c} for body, c in school.commitments.items()],
            "pledge": pledge, "withdrawn": school.withdrawn,
            "newsletter": school.newsletter, "version": school.version,
        })

    def sharing_view(self, school: School) -> dict:
        """What the school's staff see: its choice, its current award, and exactly what
        the public sees of it now (None: not listed)."""
        today = self.today()
        awards = self._find_awards(school.urn)
        award = awards.current(today) if awards is not None else None
        listing = public_listing(school, awards, today)
        return {
            "urn": school.urn, "sharing": school.sharing is not None, "choice": school.shared(),
            "chosen_at": school.sharing["chosen_at"] if school.sharing else None,
            "award": None if award is None else {k: award[k] for k in ("awarded_on", "expires_on")},
            "listed": listing is not None, "public": listing,
        }

    # -- schools asking to join -------------------------------------------------

    def ask_to_join(self, urn: str, school_name: str, phase: str, postcode: str, name: str,
                    role: str, email: str, head_teacher: str | None = None,
                    head_approval: bool | None = None) -> dict:
        """A request from the public page. It says nothing of whether the school is
        registered already: the lead sees that when deciding."""
        required = "head_teacher" in self.rules.required_commitments
        head_approval_given(required, head_teacher, head_approval)
        subject = subject_for_email(email)
        request = JoinRequest(
            urn=urn, school_name=school_name, phase=phase, postcode=postcode,
            contact=Personal(subject, {"name": name, "email": email, "role": role},
                             label=f"asked for {urn} to join"),
            head_teacher=_named(urn, head_teacher.strip()) if required and head_teacher else None,
            received_on=self.today(), actor="public:join-page")
        self.save(request)
        return {"received_on": request.received_on}

    def join_requests(self, status: str | None = None) -> list[dict]:
        requests = [a for a in self.directory.all() if isinstance(a, JoinRequest)
                    and (status is None or a.status == status)]
        requests.sort(key=lambda r: (r.status != JoinStatus.WAITING, r.created_on))
        return [self.join_view(r) for r in requests]

    def join_request(self, request_id: str) -> dict:
        return self.join_view(self._join_request(request_id))

    def accept_join_request(self, actor: str, request_id: str) -> dict:
        """Register the school, its coordinator the person who asked; both saved at once."""
        request = self._join_request(request_id)
        request.accept(self.today(), actor)
        if self._exists(School.create_id(request.urn)):
            raise Conflict(f"A school with URN {request.urn} is registered already: decline this "
                           "request, saying so.", "urn")
        contact = reveal(request.contact)
        if contact == ERASED:
            raise Conflict("The person's details have been erased at their request.", "request")
        school = School(urn=request.urn, name=request.school_name, phase=request.phase,
                        postcode=request.postcode, coordinator=_contact(request.urn, contact), actor=actor)
        try:
            self.save(request, school)
        except IntegrityError:
            raise Conflict("The request or the school changed at the same moment; look again.",
                           "request") from None
        return self.join_view(request)

    def decline_join_request(self, actor: str, request_id: str, reason: str) -> dict:
        request = self._join_request(request_id)
        subject = request.contact.subject if isinstance(request.contact, Personal) else FREE_TEXT
        request.decline(Personal(subject, reason.strip(), label="why a request to join was declined"),
                        self.today(), actor)
        self.save_changes(request)
        return self.join_view(request)

    def coordinator_contact(self, urn: str) -> dict:
        """For the notifications service, which writes to the coordinator: whom (no contact
        travels on the bus). Erased: there is nobody to write to."""
        contact = reveal(self._get(urn).coordinator)
        if not isinstance(contact, dict):
            raise NotFound("The coordinator's details have been erased.", "coordinator")
        return {"urn": urn, "name": contact["name"], "email": contact["email"]}

    def join_request_notice(self, request_id: str) -> dict:
        """For the notifications service, as it writes to the person: whom, and what to say.
        Erased: there is nobody to write to."""
        request = self._join_request(request_id)
        contact = reveal(request.contact)
        if not isinstance(contact, dict):
            raise NotFound("The person's details have been erased.", "request")
        reason = reveal(request.reason)
        return {"name": contact["name"], "email": contact["email"], "school_name": request.school_name,
                "urn": request.urn, "status": request.status,
                "reason": None if reason is None else str(reason)}

    def join_view(self, request: JoinRequest) -> dict:
        contact = reveal(request.contact)
        if not isinstance(contact, dict):
            contact = {"name": ERASED, "email": ERASED, "role": ERASED}
        head = reveal(request.head_teacher)
        reason = reveal(request.reason)
        return {"id": request.id.hex, "urn": request.urn, "school_name": request.school_name,
                "phase": request.phase, "postcode": request.postcode, "contact": contact,
                "head_teacher": None if head is None else str(head), "received_on": request.received_on,
                "status": request.status, "decided_on": request.decided_on,
                "reason": None if reason is None else str(reason),
                "registered": self._exists(School.create_id(request.urn))}

    def _join_request(self, request_id: str) -> JoinRequest:
        try:
            aggregate_id = uuid.UUID(hex=request_id.replace("-", ""))
        except ValueError:
            raise NotFound("No such request to join.", "request") from None
        try:
            found = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound("No such request to join.", "request") from None
        if not isinstance(found, JoinRequest):
            raise NotFound("No such request to join.", "request")
        return found

    def _exists(self, aggregate_id: uuid.UUID) -> bool:
        try:
            self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return False
        return True

    # -- internals -----------------------------------------------------------

    def _schools(self) -> list[School]:
        return [a for a in self.directory.all() if isinstance(a, School)]

    def _listed(self) -> list[tuple[dict, School]]:
        today = self.today()
        aggregates = self.directory.all()
        awards = {a.urn: a for a in aggregates if isinstance(a, AwardRecord)}
        listed = []
        for school in aggregates:
            if isinstance(school, School):
                listing = public_listing(school, awards.get(school.urn), today)
                if listing is not None:
                    listed.append((listing, school))
        listed.sort(key=lambda pair: (pair[0]["name"].casefold(), pair[1].urn))
        return listed

    def _find_awards(self, urn: str) -> AwardRecord | None:
        try:
            return self.repository.get(AwardRecord.create_id(urn))
        except AggregateNotFoundError:
            return None

    def _get(self, urn: str) -> School:
        try:
            return self.repository.get(School.create_id(urn))
        except AggregateNotFoundError:
            raise NotFound(f"No school with URN {urn} is registered.", "urn") from None

    def _change(self, urn: str, command: Any) -> dict:
        school = self._get(urn)
        command(school)
        self.save_changes(school)
        return self.view(school)


FREE_TEXT = "free text"  # the subject scope for free text recorded about a school


def _contact(urn: str, contact: dict) -> Personal:
    return Personal(subject_for_email(contact["email"]), contact, label=f"coordinator of {urn}")


def _named(urn: str, name: str) -> Personal:
    """A person known only by the name typed in (a head teacher, a chair of governors)."""
    return Personal(subject_for_name(urn, name), name, label=f"named at school {urn}")
