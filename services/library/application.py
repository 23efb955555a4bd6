"""The library application: commands and queries over resources, partner
organisations and schools' links with them, and the store that keeps files."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.library.domain import PARTNER_KIND_NAMES, Partner, PartnerLink, Resource, stages_for
from services.library.files import FileFacts, FileStore, check_file
from shared.clock import Clock, system_clock
from shared.errors import Conflict, Invalid, NotFound
from shared.personal import Personal, PersonalDataApplication, reveal, subject_for_name
from shared.projection import AggregateProjection

if TYPE_CHECKING:
    from shared.authority import Authority

CONFIG = "system:config"  # the actor of what the authority's file lists
FREE_TEXT = "free text"  # the subject scope for free text a school writes (as in pledges)


class Library(PersonalDataApplication):
    """What a school writes about its links is free text about the school, stored as
    ``Personal`` (it may name people), so it can be erased; resources and the
    directory are about organisations and hold no personal data."""

    name = "library"

    def __init__(self, env: dict | None = None, *, authority: Authority, files: FileStore,
                 clock: Clock | None = None) -> None:
        super().__init__(env)
        self.authority = authority
        self.files = files
        self.clock = clock or system_clock()
        self.index = AggregateProjection(self)
        codes: list[str] = []
        for criteria_set in authority.criteria_sets:
            codes += [c.code for c in criteria_set.criteria if c.code not in codes]
        self.criteria = tuple(codes)
        self.share_criteria = tuple(
            code for code in codes
            if any(c.code == code and c.principle == "share"
                   for s in authority.criteria_sets for c in s.criteria))
        self.stages = stages_for({stage for cycle in authority.cycles for stage in cycle.stages})

    def seed(self) -> int:
        """List each resource the authority's file names, once; the lead's edits are kept."""
        listed = 0
        for item in self.authority.resources:
            resource = Resource.add(item.title, item.description, "link", item.url, None,
                                    list(item.criteria), list(item.stages), item.public, CONFIG,
                                    self.criteria, self.stages,
                                    id=Resource.seeded_id(self.authority.slug, item.url))
            try:
                self.save(resource)
                listed += 1
            except IntegrityError:
                pass  # listed already
        return listed

    # -- files -------------------------------------------------------------------------

    def store_file(self, content: bytes, content_type: str | None, filename: str | None) -> dict:
        """Check an upload and keep it; what it returns is what a resource names."""
        facts = check_file(content, content_type, filename)
        self.files.put(content)
        return facts.to_dict()

    def file_of(self, resource_id: str, lead: bool) -> tuple[dict, bytes]:
        resource = self._resource(resource_id, lead)
        if resource.kind != "file":
            raise NotFound("This resource is a link, not a file.", "resource_id")
        return resource.file, self.files.read(resource.file["sha256"])

    # -- resources -----------------------------------------------------------------------

    def add_resource(self, actor: str, title: str, kind: str, description: str = "",
                     url: str | None = None, file: dict | None = None, criteria: list | None = None,
                     stages: list | None = None, public: bool = False) -> dict:
        resource = Resource.add(title, description, kind, url, self._file(file), criteria or [],
                                stages or [], public, actor, self.criteria, self.stages)
        self.save(resource)
        return self.resource_view(resource)

    def edit_resource(self, actor: str, resource_id: str, title: str, kind: str,
                      description: str = "", url: str | None = None, file: dict | None = None,
                      criteria: list | None = None, stages: list | None = None,
                      public: bool = False) -> dict:
        resource = self._get(Resource, resource_id, "resource")
        resource.edit(title, description, kind, url, self._file(file), criteria or [], stages or [],
                      public, actor, self.criteria, self.stages)
        self.save_changes(resource)
        return self.resource_view(resource)

    def retire_resource(self, actor: str, resource_id: str, reason: str = "") -> dict:
        resource = self._get(Resource, resource_id, "resource")
        resource.retire(reason, actor)
        self.save_changes(resource)
        return self.resource_view(resource)

    def resources(self, criterion: str | None = None, stage: str | None = None,
                  include_retired: bool = False) -> list[dict]:
        self._known(criterion=criterion, stage=stage)
        found = [r for r in self._all(Resource)
                 if r.helps_with(criterion, stage) and (include_retired or not r.retired)]
        found.sort(key=lambda r: (r.title.lower(), str(r.id)))
        return [self.resource_view(r) for r in found]

    def resource(self, resource_id: str, lead: bool) -> dict:
        return self.resource_view(self._resource(resource_id, lead))

    def resource_view(self, resource: Resource) -> dict:
        return {"id": resource.id.hex, **resource.values(), "retired": resource.retired,
                "download": f"/library/resources/{resource.id.hex}/file" if resource.kind == "file" else None,
                "version": resource.version}

    def _resource(self, resource_id: str, lead: bool) -> Resource:
        """A resource as the caller may see it: a retired one only by the lead."""
        resource = self._get(Resource, resource_id, "resource")
        if resource.retired and not lead:
            raise NotFound("This resource has been retired from the library.", "resource_id")
        return resource

    def _file(self, file: dict | None) -> dict | None:
        """The stored file a resource names, checked again under the name given."""
        if file is None:
            return None
        facts: FileFacts = self.files.facts(file["sha256"], file["filename"])
        return facts.to_dict()

    # -- partner organisations ---------------------------------------------------------------

    def add_partner(self, actor: str, name: str, kind: str, area: str = "", website: str | None = None,
                    offers: str = "") -> dict:
        self._unique_name(name)
        partner = Partner.add(name, kind, area, website, offers, actor)
        self.save(partner)
        return self.partner_view(partner)

    def edit_partner(self, actor: str, partner_id: str, name: str, kind: str, area: str = "",
                     website: str | None = None, offers: str = "") -> dict:
        partner = self._get(Partner, partner_id, "partner")
        self._unique_name(name, partner.id)
        partner.edit(name, kind, area, website, offers, actor)
        self.save_changes(partner)
        return self.partner_view(partner)

    def retire_partner(self, actor: str, partner_id: str, reason: str = "") -> dict:
        partner = self._get(Partner, partner_id, "partner")
        partner.retire(reason, actor)
        self.save_changes(partner)
        return self.partner_view(partner)

    def partners(self, kind: str | None = None, include_retired: bool = False) -> list[dict]:
        found = [p for p in self._all(Partner)
                 if (kind is None or p.kind == kind) and (include_retired or not p.retired)]
        found.sort(key=lambda p: (p.name.lower(), str(p.id)))
        return [self.partner_view(p) for p in found]

    def partner_view(self, partner: Partner) -> dict:
        return {"id": partner.id.hex, **partner.values(), "kind_name": PARTNER_KIND_NAMES[partner.kind],
                "retired": partner.retired, "version": partner.version}

    def _unique_name(self, name: str, itself: uuid.UUID | None = None) -> None:
        wanted = " ".join(name.split()).casefold()
        for other in self._all(Partner):
            if other.id != itself and not other.retired and " ".join(other.name.split()).casefold() == wanted:
                raise Conflict(f"{other.name} is already in the directory.", "name")

    # -- schools' links ------------------------------------------------------------------------

    def record_link(self, actor: str, urn: str, partner_id: str, activities: str,
                    since: dt.date | None = None, criteria: list | None = None) -> dict:
        partner = self._get(Partner, partner_id, "partner", field="partner_id")
        if partner.retired:
            raise Conflict(f"{partner.name} is no longer in the directory.", "partner_id")
        today, text = self.today(), _free_text(urn, activities)
        try:
            link = self.repository.get(PartnerLink.create_id(urn=urn, partner_id=partner.id.hex))
        except AggregateNotFoundError:
            link = PartnerLink.record(urn, partner.id.hex, since or today, text, criteria or [],
                                      today, self.share_criteria, actor)
        else:
            link.take_up_again(since or today, text, criteria or [], today, self.share_criteria, actor)
        self.save_changes(link)
        return self.link_view(link)

    def update_link(self, actor: str, urn: str, partner_id: str, activities: str,
                    criteria: list | None = None) -> dict:
        link = self._link(urn, partner_id)
        link.update(_free_text(urn, activities), criteria or [], self.share_criteria, actor)
        self.save_changes(link)
        return self.link_view(link)

    def end_link(self, actor: str, urn: str, partner_id: str, on: dt.date | None = None) -> dict:
        link = self._link(urn, partner_id)
        today = self.today()
        link.end(on or today, today, actor)
        self.save_changes(link)
        return self.link_view(link)

    def links(self, urn: str | None = None, partner_id: str | None = None,
              criterion: str | None = None, include_ended: bool = True) -> list[dict]:
        self._known(criterion=criterion)
        found = [link for link in self._all(PartnerLink)
                 if (urn is None or link.urn == urn)
                 and (partner_id is None or link.partner_id == _hex(partner_id))
                 and (criterion is None or criterion in link.criteria)
                 and (include_ended or link.active)]
        names = {p.id.hex: p for p in self._all(Partner)}
        views = [self.link_view(link, names.get(link.partner_id)) for link in found]
        views.sort(key=lambda v: (v["urn"], v["partner"]["name"].lower(), v["partner_id"]))
        return views

    def link_view(self, link: PartnerLink, partner: Partner | None = None) -> dict:
        if partner is None:
            partner = self._get(Partner, link.partner_id, "partner")
        return reveal({
            "urn": link.urn, "partner_id": link.partner_id,
            "partner": {"name": partner.name, "kind": partner.kind, "listed": not partner.retired},
            "since": link.since, "activities": link.activities, "criteria": list(link.criteria),
            "ended_on": link.ended_on, "active": link.active, "version": link.version,
        })

    def _link(self, urn: str, partner_id: str) -> PartnerLink:
        missing = NotFound(f"School {urn} has no recorded link with this organisation.", "partner_id")
        try:
            aggregate_id = PartnerLink.create_id(urn=urn, partner_id=_hex(partner_id))
        except ValueError:
            raise missing from None
        try:  # a store error while loading stays an error, not a 404
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise missing from None

    # -- for the operators and the audit --------------------------------------------------------

    def counts(self) -> dict[str, Any]:
        resources: dict[str, int] = {}
        partners, links = 0, {"active": 0, "ended": 0}
        for item in self.index.all():
            if isinstance(item, Resource) and not item.retired:
                resources[item.kind] = resources.get(item.kind, 0) + 1
            elif isinstance(item, Partner) and not item.retired:
                partners += 1
            elif isinstance(item, PartnerLink):
                links["active" if item.active else "ended"] += 1
        return {"resources": resources, "partners": partners, "links": links}

    def today(self) -> dt.date:
        return self.clock.today(self.authority.timezone)

    # -- internals -------------------------------------------------------------------------

    def _known(self, criterion: str | None = None, stage: str | None = None) -> None:
        """Refuse a query naming a criterion or stage this authority does not have."""
        if criterion is not None and criterion not in self.criteria:
            raise Invalid("Invalid input: criterion.", {"criterion": [
                f"No criterion {criterion!r}; this authority's criteria are {', '.join(self.criteria)}."]})
        if stage is not None and stage not in self.stages:
            raise Invalid("Invalid input: stage.", {"stage": [
                f"This authority's stages are {', '.join(self.stages)}."]})

    def _all(self, kind: type) -> list[Any]:
        return [item for item in self.index.all() if isinstance(item, kind)]

    def _get(self, kind: type, aggregate_id: str, what: str, field: str | None = None) -> Any:
        try:
            parsed = uuid.UUID(hex=_hex(aggregate_id))
        except ValueError:
            parsed = None
        try:  # a store error while loading stays an error, not a 404
            found = self.repository.get(parsed) if parsed else None
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, kind):
            raise NotFound(f"There is no such {what} in the library.", field or f"{what}_id")
        return found


def _hex(value: str) -> str:
    """An id as the API shows it (32 hex digits); ValueError if it is not one."""
    return uuid.UUID(hex=str(value)).hex


def _free_text(urn: str, text: str) -> Personal:
    return Personal(subject_for_name(urn, FREE_TEXT), text, label=f"free text about {urn}")
