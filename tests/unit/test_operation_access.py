"""Every declared operation refuses each kind of caller its rule does not allow, before
it touches the application, and lets through those it does; and every gateway route that
names an operation is guarded by that operation's own rule.

The callers are one of each role, a coordinator of another school, and nobody.
"""

from __future__ import annotations

from typing import Any

import pytest

from services.accounts.api import AccountsApi
from services.applications.api import ApplicationsApi
from services.events.api import EventsApi
from services.library.api import LibraryApi
from services.notifications.api import NotificationsApi
from services.pledges.api import PledgesApi
from shared.access import Principal
from shared.errors import Forbidden, Unauthorized
from shared.operations import Operation

APIS = (AccountsApi, PledgesApi, ApplicationsApi, EventsApi, LibraryApi, NotificationsApi)
URN = "100001"
CALLERS: dict[str, Principal | None] = {
    "nobody": None,
    "lead": Principal("a-lead", "Lead", frozenset({("lead", None)})),
    "coordinator": Principal("a-coord", "Coordinator", frozenset({("coordinator", URN)})),
    "other school's coordinator": Principal("a-other", "Other", frozenset({("coordinator", "100002")})),
    "panel member": Principal("a-panel", "Member", frozenset({("panel_member", None)})),
    "operator": Principal("a-op", "Operator", frozenset({("operator", None)})),
}
ROUTED = [op for api in APIS for op in api.operations() if op.allow is not None]


class Reached(Exception):
    """The application was touched: the rule let the caller through."""


class Untouchable:
    def __getattr__(self, name: str) -> Any:
        raise Reached(name)


def _arguments(op: Operation) -> list[Any]:
    values = [URN if name == "urn" else "2026-27" if name == "year" else "x" for name in op.params]
    return values + ([{}] if op.input is not None else [])


def _outcome(op: Operation, caller: Principal | None) -> str:
    try:
        op.invoke(Untouchable(), caller and caller.to_dict(), *_arguments(op))
    except (Forbidden, Unauthorized):
        return "refused"
    except Exception:  # noqa: BLE001 - anything past the rule (invalid input, the app reached)
        return "let through"
    return "let through"


@pytest.mark.parametrize("op", ROUTED, ids=lambda op: f"{op.service}.{op.name}")
def test_each_operation_refuses_exactly_the_callers_its_rule_does_not_allow(op: Operation) -> None:
    context = {name: value for name, value in zip(op.params, _arguments(op), strict=False)}
    for label, caller in CALLERS.items():
        allowed = op.allow.allows(caller, context)
        assert _outcome(op, caller) == ("let through" if allowed else "refused"), (
            f"{op.service}.{op.name} as {label}: its rule is {op.allow.describes!r}")


def test_an_operation_for_the_lead_refuses_everyone_else() -> None:
    """The table above, pinned for one operation so a rule that allows everyone would show."""
    outcomes = {label: _outcome(AccountsApi.invite, caller) for label, caller in CALLERS.items()}
    assert outcomes == {"nobody": "refused", "lead": "let through", "coordinator": "refused",
                        "other school's coordinator": "refused", "panel member": "refused",
                        "operator": "refused"}


def test_every_operation_has_a_unique_name_within_its_service() -> None:
    for api in APIS:
        names = [op.name for op in api.operations()]
        assert len(names) == len(set(names)), api.__name__
