"""The library nameko service: its operations come from api.py (each call carries the
principal the gateway authenticated, and the access rule is checked here again: this
service owns the data); this builds the application and seeds the authority's resources.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.library.api import LibraryApi
from services.library.application import Library
from services.library.contract import LIBRARY
from services.library.files import FileStore
from shared.authority import Authority
from shared.config import Settings
from shared.erasure import PersonalDataService
from shared.metrics import Metric, gauge
from shared.runtime import EventSourcedApp, ServiceBase, serve
from shared.store import store_env


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


@serve(LibraryApi)
class LibraryService(ServiceBase, PersonalDataService):
    name = "library"
    application = EventSourcedApp(build, LIBRARY, gauges, prepare=seed)
