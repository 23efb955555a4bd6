"""The system's processes: each service by name, the class that runs it, and the order they start."""

from __future__ import annotations

import importlib

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

# set by a launcher that has declared every service's queues (sanctuary.launch): a service it
# starts then imports only its own class, not all seven (most of what a service's start costs)
TOPOLOGY_DECLARED = "SANCTUARY_TOPOLOGY_DECLARED"


def service_class(name: str) -> type:
    module, cls = SERVICES[name].split(":")
    return getattr(importlib.import_module(module), cls)
