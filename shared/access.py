"""Who may do what. Rules are declared once and enforced twice: by the gateway
before it forwards a request, and again by the service that owns the data.

A ``Principal`` is the signed-in account as the accounts service vouches for
it: its id and role grants (``("coordinator", "103712")`` scopes a
coordinator to one school). Rules compose with ``|``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import Forbidden, Unauthorized

ROLES = ("lead", "coordinator", "panel_member", "operator")
SCOPED_ROLES = ("coordinator",)  # roles that name a school


@dataclass(frozen=True)
class Principal:
    account: str
    name: str
    grants: frozenset[tuple[str, str | None]]

    @property
    def actor(self) -> str:
        """How events record this person: an id, never a name (names can be erased)."""
        return f"account:{self.account}"

    def has(self, role: str, scope: str | None = None) -> bool:
        return (role, scope) in self.grants

    def scopes(self, role: str) -> set[str]:
        return {scope for r, scope in self.grants if r == role and scope}

    def to_dict(self) -> dict:
        return {"account": self.account, "name": self.name,
                "grants": sorted([r, s] for r, s in self.grants)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Principal:
        return cls(data["account"], data["name"],
                   frozenset((r, s) for r, s in data["grants"]))


Test = Callable[[Principal, Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Rule:
    """``describes`` completes "This is for ..." in refusals and in the API document."""

    describes: str
    test: Test
    public: bool = False

    def __or__(self, other: Rule) -> Rule:
        return Rule(f"{self.describes} or {other.describes}",
                    lambda p, c: self.test(p, c) or other.test(p, c), self.public or other.public)

    def allows(self, principal: Principal | None, context: Mapping[str, Any]) -> bool:
        if self.public:
            return True
        return principal is not None and self.test(principal, context)


PUBLIC = Rule("anyone", lambda p, c: True, public=True)
SIGNED_IN = Rule("anyone signed in", lambda p, c: True)
LEAD = Rule("the local lead", lambda p, c: p.has("lead"))
OPERATOR = Rule("operators", lambda p, c: p.has("operator"))
ANY_COORDINATOR = Rule("school coordinators", lambda p, c: bool(p.scopes("coordinator")))
SCHOOL_COORDINATOR = Rule("the school's coordinators",
                          lambda p, c: p.has("coordinator", str(c.get("urn"))))
SCHOOL_STAFF = LEAD | SCHOOL_COORDINATOR
# which applications a member may see is the appraisal's business: member of
# that panel, interests declared, not conflicted (checked where the data lives)
PANEL_MEMBERS = Rule("panel members", lambda p, c: p.has("panel_member"))


def require(rule: Rule, principal: Principal | dict | None,
            context: Mapping[str, Any] | None = None, /, **named: Any) -> Principal | None:
    """Refuse unless ``rule`` allows ``principal`` here (``urn=...`` and the like
    describe where); returns the Principal."""
    if isinstance(principal, dict):
        principal = Principal.from_dict(principal)
    if rule.allows(principal, {**(context or {}), **named}):
        return principal
    if principal is None:
        raise Unauthorized("Sign in first: this is for " + rule.describes + ".")
    raise Forbidden("You may not do this: it is for " + rule.describes + ".")
