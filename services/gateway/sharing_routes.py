"""Gateway routes for sharing the news of an award, safely: a school's staff choose
whether (and what) to show; anyone may read the list and its Atom feed, which hold
only schools that chose to be listed and hold a current award, and only what each
chose. Nothing is public by default. Mixed into the gateway service, whose ``clients``
make the RPCs; each route's access rule and schemas come from the operation it names."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.gateway.clients import Clients
from services.gateway.routes import route
from services.pledges.api import PledgesApi as Pledges

SHARING = "/schools/<urn>/sharing"


class SharingRoutes:
    clients: Clients

    # -- the school's own staff ----------------------------------------------------------

    @route("GET", SHARING, "Whether the school shares its award, what it shows, and exactly what "
           "the public sees of it now", "sharing", op=Pledges.sharing, errors=(404,))
    def sharing(self, request: Any, urn: str) -> dict:
        return self.clients.pledges.sharing(request.principal, urn)

    @route("PUT", SHARING, "Choose to list the school publicly while it holds a current award: its "
           "name, and only the extras given (town or area, a short statement, an https link)",
           "sharing", op=Pledges.share_award, errors=(404,))
    def share_award(self, request: Any, urn: str) -> dict:
        return self.clients.pledges.share_award(request.principal, urn, request.data_in)

    @route("DELETE", SHARING, "Stop sharing: the school leaves the public list and feed at once",
           "sharing", op=Pledges.stop_sharing, response=None, status=204, errors=(404,))
    def stop_sharing(self, request: Any, urn: str) -> Response:
        self.clients.pledges.stop_sharing(request.principal, urn)
        return Response(status=204)

    # -- anyone --------------------------------------------------------------------------

    @route("GET", "/awarded-schools", "Awarded schools that chose to share the news, by name, "
           "with only what each chose to show", "sharing", op=Pledges.awarded_schools)
    def awarded_schools(self, request: Any) -> dict:
        return self.clients.pledges.awarded_schools(None)

    @route("GET", "/awarded-schools.atom", "The same list as an Atom feed", "sharing",
           op=Pledges.awarded_feed)
    def awarded_feed(self, request: Any) -> Response:
        return Response(self.clients.pledges.awarded_feed(None),
                        content_type="application/atom+xml; charset=utf-8")
