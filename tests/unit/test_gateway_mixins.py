"""The gateway is one class made of many mixins (routes and pages): a name two of them
define would silently leave one of them unused (one page rendering another's template)."""

from __future__ import annotations

from services.gateway.service import GatewayService


def test_no_two_of_the_gateway_s_parts_define_the_same_name() -> None:
    defined: dict[str, list[str]] = {}
    for part in GatewayService.__mro__[1:]:
        if part is object:
            continue
        for name in vars(part):
            if not name.startswith("__"):
                defined.setdefault(name, []).append(part.__name__)
    assert {name: parts for name, parts in defined.items() if len(parts) > 1} == {}
