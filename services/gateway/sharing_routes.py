"""Gateway routes for sharing the news of an award, safely: a school's staff choose
whether (and what) to show; anyone may read the list and its Atom feed, which hold
only schools that chose to be listed and hold a current award, and only what each
chose. Nothing is public by default. Mixed into the gateway service."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.gateway.routes import route
from services.pledges import schemas as school
from shared.access import PUBLIC, SCHOOL_STAFF

SHARING = "/schools/<urn>/sharing"


class SharingRoutes:
    _call: Any

    def _pledges(self, method: str, *args: Any) -> Any:
        return self._call("pledges", method, *args)

    # -- the school's own staff ----------------------------------------------------------

    @route("GET", SHARING, "Whether the school shares its award, what it shows, and exactly what "
           "the public sees of it now", "sharing", allow=SCHOOL_STAFF, response=school.SharingView,
           errors=(404,))
    def sharing(self, request: Any, urn: str) -> dict:
        return self._pledges("sharing", request.principal, urn)

    @route("PUT", SHARING, "Choose to list the school publicly while it holds a current award: its "
           "name, and only the extras given (town or area, a short statement, an https link)",
           "sharing", allow=SCHOOL_STAFF, body=school.ShareAward, response=school.SharingView,
           errors=(404,))
    def share_award(self, request: Any, urn: str) -> dict:
        return self._pledges("share_award", request.principal, urn, request.data_in)

    @route("DELETE", SHARING, "Stop sharing: the school leaves the public list and feed at once",
           "sharing", allow=SCHOOL_STAFF, status=204, errors=(404,))
    def stop_sharing(self, request: Any, urn: str) -> Response:
        self._pledges("stop_sharing", request.principal, urn)
        return Response(status=204)

    # -- anyone --------------------------------------------------------------------------

    @route("GET", "/awarded-schools", "Awarded schools that chose to share the news, by name, "
           "with only what each chose to show", "sharing", allow=PUBLIC, response=school.AwardedSchools)
    def awarded_schools(self, request: Any) -> dict:
        return self._pledges("awarded_schools")

    @route("GET", "/awarded-schools.atom", "The same list as an Atom feed", "sharing", allow=PUBLIC)
    def awarded_feed(self, request: Any) -> Response:
        return Response(self._pledges("awarded_feed"), content_type="application/atom+xml; charset=utf-8")
