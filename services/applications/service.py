"""The applications nameko service: its operations come from api.py (each checks its
rule again, with the principal the gateway authenticated); this builds the
application, reads its gauges, and reacts to pledge and attendance news."""

from __future__ import annotations

from collections.abc import Iterable

from nameko.timer import timer

from services.applications.api import ApplicationsApi
from services.applications.application import Applications
from services.applications.contract import APPLICATIONS
from services.applications.portfolio import EVIDENCE_FILES
from shared.authority import Authority
from shared.config import Settings
from shared.consumer import consume, integration_handler
from shared.erasure import PersonalDataService
from shared.files import FileStore
from shared.metrics import Metric, gauge
from shared.runtime import EventSourcedApp, ServiceBase, serve
from shared.store import store_env


def build(settings: Settings, authority: Authority) -> Applications:
    return Applications(env=store_env("applications", settings), authority=authority,
                        files=FileStore(settings.data_dir / EVIDENCE_FILES, "the portfolio"))


def gauges(app: Applications) -> Iterable[Metric]:
    yield gauge("sanctuary_applications", "Award applications by school year and stage",
                app.count_by_stage(), ["school_year", "stage"])
    ahead = app.deadlines_ahead()
    keys = [(d["school_year"], d["deadline"]) for d in ahead]
    yield gauge("sanctuary_deadline_timestamp_seconds",
                "When each submission deadline still ahead closes (Unix time: the end of its day)",
                dict(zip(keys, (d["closes_at"].timestamp() for d in ahead), strict=True)),
                ["school_year", "deadline"])
    yield gauge("sanctuary_deadline_unsubmitted_applications",
                "Applications that still owe the submission due at that deadline (no extension)",
                dict(zip(keys, (d["unsubmitted"] for d in ahead), strict=True)), ["school_year", "deadline"])


@serve(ApplicationsApi)
class ApplicationsService(ServiceBase, PersonalDataService):
    name = "applications"
    application = EventSourcedApp(build, APPLICATIONS, gauges)

    # -- pledge news from the pledges service -------------------------------------

    def _learn(self, body: dict) -> None:
        consume(self.application, body, self.application.learn_pledge_news)

    @integration_handler("pledges", "SchoolRegistered")
    def on_school_registered(self, body: dict) -> None:
        self._learn(body)

    @integration_handler("pledges", "PledgeSigned")
    def on_pledge_signed(self, body: dict) -> None:
        self._learn(body)

    @integration_handler("pledges", "PledgeRenewed")
    def on_pledge_renewed(self, body: dict) -> None:
        self._learn(body)

    @integration_handler("pledges", "PledgeWithdrawn")
    def on_pledge_withdrawn(self, body: dict) -> None:
        self._learn(body)

    @timer(interval=3600, eager=True)
    def mark_renewals_due(self) -> None:
        """Hourly, and at once on starting (a rehearsal restarted on a later day marks what fell
        due by then); each award is marked once."""
        self.application.mark_renewals_due()

    @timer(interval=3600, eager=True)
    def apply_retention(self) -> None:
        """The retention rule's daily deletion, looked at when the service starts and hourly (by
        the service's clock, so a rehearsal moved on applies it at once): each portfolio once."""
        self.application.apply_retention()

    @integration_handler("events", "AttendanceRecorded")
    def on_attendance_recorded(self, body: dict) -> None:
        consume(self.application, body, self.application.learn_attendance)
