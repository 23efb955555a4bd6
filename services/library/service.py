"""The library nameko service: a thin RPC adapter around the Library application.

Every call carries the principal the gateway authenticated, and the access rule
is checked here again: this service owns the data. Files cross RPC as base64
(at most 5 MB, so at most about 7 MB on the wire).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

from services.library import schemas
from services.library.api import LibraryApi
from services.library.application import Library
from services.library.contract import LIBRARY
from services.library.files import FileStore
from shared.access import LEAD, SCHOOL_STAFF, SIGNED_IN, Principal, require
from shared.authority import Authority
from shared.config import Settings
from shared.errors import Forbidden, Invalid
from shared.metrics import Metric, gauge
from shared.runtime import EventSourcedApp, ServiceBase, rpc, serve
from shared.schema import jsonable, load
from shared.store import store_env
from shared.subject_access import PersonalDataService


def build(settings: Settings, authority: Authority) -> Library:
    return Library(env=store_env("library", settings), authority=authority,
                   files=FileStore(settings.data_dir / "library"))


def seed(library: Library) -> None:
    """At the service's start (not in ``build``, which the audit commands use too): the
    resources the authority's file lists, once; the lead's later edits are kept."""
    library.seed()


def gauges(app: Library) -> Iterable[Metric]:
    counts = app.counts()
    yield gauge("sanctuary_library_resources", "Resources in the library (not retired), by kind",
                {(kind,): counts["resources"].get(kind, 0) for kind in ("link", "file")}, ["kind"])
    yield gauge("sanctuary_library_partners", "Organisations in the partner directory (listed)",
                {(): counts["partners"]})
    yield gauge("sanctuary_library_partner_links", "Schools' links with partner organisations, by status",
                {(status,): n for status, n in counts["links"].items()}, ["status"])


def _is_lead(who: Principal | None) -> bool:
    return who is not None and who.has("lead")


@serve(LibraryApi)
class LibraryService(ServiceBase, PersonalDataService):
    name = "library"
    application = EventSourcedApp(build, LIBRARY, gauges, prepare=seed)

    # -- the lead ------------------------------------------------------------------------

    @rpc
    def upload(self, principal: dict, data: dict) -> dict:
        require(LEAD, principal)
        try:
            content = base64.b64decode(data.get("content", ""), validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise Invalid("The file did not arrive intact.", {"file": ["Not valid base64."]}) from None
        facts = self.application.store_file(content, data.get("content_type"), data.get("filename"))
        return schemas.FileView().dump(facts)

    @rpc
    def add_resource(self, principal: dict, data: dict) -> dict:
        actor = require(LEAD, principal).actor
        return _resource(self.application.add_resource(actor, **load(schemas.ResourceInput(), data)))

    @rpc
    def edit_resource(self, principal: dict, resource_id: str, data: dict) -> dict:
        actor = require(LEAD, principal).actor
        values = load(schemas.ResourceInput(), data)
        return _resource(self.application.edit_resource(actor, resource_id, **values))

    @rpc
    def retire_resource(self, principal: dict, resource_id: str, data: dict) -> dict:
        actor = require(LEAD, principal).actor
        values = load(schemas.Retirement(), data)
        return _resource(self.application.retire_resource(actor, resource_id, **values))

    @rpc
    def add_partner(self, principal: dict, data: dict) -> dict:
        actor = require(LEAD, principal).actor
        return _partner(self.application.add_partner(actor, **load(schemas.PartnerInput(), data)))

    @rpc
    def edit_partner(self, principal: dict, partner_id: str, data: dict) -> dict:
        actor = require(LEAD, principal).actor
        values = load(schemas.PartnerInput(), data)
        return _partner(self.application.edit_partner(actor, partner_id, **values))

    @rpc
    def retire_partner(self, principal: dict, partner_id: str, data: dict) -> dict:
        actor = require(LEAD, principal).actor
        values = load(schemas.Retirement(), data)
        return _partner(self.application.retire_partner(actor, partner_id, **values))

    @rpc
    def all_links(self, principal: dict, query: dict) -> dict:
        require(LEAD, principal)
        values = load(schemas.LinkQuery(), query)
        self._known_criterion(values.get("criterion"), "criterion")
        return schemas.LinkList().dump({"links": self.application.links(**values)})

    # -- anyone signed in (a public file: anyone) -------------------------------------------

    @rpc
    def resources(self, principal: dict, query: dict) -> dict:
        who = require(SIGNED_IN, principal)
        values = load(schemas.ResourceQuery(), query)
        if values["include_retired"] and not _is_lead(who):
            raise Forbidden("Only the local lead sees retired resources.", "include_retired")
        self._known_criterion(values.get("criterion"), "criterion")
        if values.get("stage") and values["stage"] not in self.application.stages:
            raise Invalid("Invalid input: stage.", {"stage": [
                f"This authority's stages are {', '.join(self.application.stages)}."]})
        listed = self.application.resources(**values)
        return schemas.ResourceList().dump({"resources": listed})

    @rpc
    def resource(self, principal: dict, resource_id: str) -> dict:
        who = require(SIGNED_IN, principal)
        return _resource(self.application.resource(resource_id, _is_lead(who)))

    @rpc
    def download(self, principal: dict | None, resource_id: str) -> dict:
        """A resource's file; one not marked public only for someone signed in."""
        who = Principal.from_dict(principal) if principal else None
        view = self.application.resource(resource_id, _is_lead(who))
        if not view["public"]:
            require(SIGNED_IN, who)
        file, content = self.application.file_of(resource_id, _is_lead(who))
        return {**schemas.FileView().dump(file), "public": view["public"],
                "content": base64.b64encode(content).decode("ascii")}

    @rpc
    def partners(self, principal: dict, query: dict) -> dict:
        who = require(SIGNED_IN, principal)
        values = load(schemas.PartnerQuery(), query)
        if values["include_retired"] and not _is_lead(who):
            raise Forbidden("Only the local lead sees organisations taken off the directory.",
                            "include_retired")
        return schemas.PartnerList().dump({"partners": self.application.partners(**values)})

    # -- a school's links ----------------------------------------------------------------------

    @rpc
    def record_link(self, principal: dict, urn: str, data: dict) -> dict:
        actor = require(SCHOOL_STAFF, principal, urn=urn).actor
        values = load(schemas.LinkInput(), data)
        return _link(self.application.record_link(actor, urn, **values))

    @rpc
    def update_link(self, principal: dict, urn: str, partner_id: str, data: dict) -> dict:
        actor = require(SCHOOL_STAFF, principal, urn=urn).actor
        values = load(schemas.LinkUpdate(), data)
        return _link(self.application.update_link(actor, urn, partner_id, **values))

    @rpc
    def end_link(self, principal: dict, urn: str, partner_id: str, data: dict) -> dict:
        actor = require(SCHOOL_STAFF, principal, urn=urn).actor
        values = load(schemas.LinkEnd(), data)
        return _link(self.application.end_link(actor, urn, partner_id, **values))

    @rpc
    def school_links(self, principal: dict, urn: str) -> dict:
        require(SCHOOL_STAFF, principal, urn=urn)
        return schemas.LinkList().dump({"links": self.application.links(urn=urn)})

    def _known_criterion(self, code: str | None, field: str) -> None:
        if code is not None and code not in self.application.criteria:
            raise Invalid(f"Invalid input: {field}.", {field: [
                f"No criterion {code!r}; this authority's criteria are "
                f"{', '.join(self.application.criteria)}."]})


def _resource(view: dict) -> dict:
    return schemas.ResourceView().dump(jsonable(view))


def _partner(view: dict) -> dict:
    return schemas.PartnerView().dump(view)


def _link(view: dict) -> dict:
    return schemas.LinkView().dump(view)
