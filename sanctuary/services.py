"""The system's processes: each service by name, the class that runs it, and the order they start."""

from __future__ import annotations

SERVICES = {
    "accounts": "services.accounts.service:AccountsService",
    "pledges": "services.pledges.service:PledgesService",
    "events": "services.events.service:EventsService",
    "notifications": "services.notifications.service:NotificationsService",
    "applications": "services.applications.service:ApplicationsService",
    "library": "services.library.service:LibraryService",
    "gateway": "services.gateway.service:GatewayService",
}
# the gateway last: it answers health
ORDER = ("accounts", "pledges", "applications", "events", "notifications", "library", "gateway")
