"""Every declared operation of the applications service refuses each role it does not allow,
before it touches the application (there is none here: a refusal must come first)."""

from __future__ import annotations

import pytest

from services.applications.api import ApplicationsApi
from shared.access import Principal
from shared.errors import Forbidden, Unauthorized

URN = "103712"
ROLES = {
    "lead": Principal("l", "Lead", frozenset({("lead", None)})),
    "coordinator": Principal("c", "Coordinator", frozenset({("coordinator", URN)})),
    "another school's coordinator": Principal("o", "Other", frozenset({("coordinator", "999999")})),
    "panel member": Principal("p", "Member", frozenset({("panel_member", None)})),
    "operator": Principal("x", "Operator", frozenset({("operator", None)})),
}
SCHOOL_STAFF = {"lead", "coordinator"}
LEAD = {"lead"}
PANEL = {"panel member"}
# who may call each operation, written out again here so that a rule changed by mistake fails
ALLOWED = {
    **dict.fromkeys(("pledge_standing", "start", "record_audit", "add_evidence", "withdraw_evidence",
                     "plan_action", "submit", "withdraw", "application_view", "history", "certificate",
                     "add_files", "remove_file"),
                    SCHOOL_STAFF),
    # the files: the service then checks that a panel member is on the appraisal, and clear
    **dict.fromkeys(("evidence_file", "portfolio_manifest"), SCHOOL_STAFF | PANEL),
    **dict.fromkeys(("cycle_overview", "grant_extension", "schedule_visit", "decide", "decision_trail",
                     "decision_trail_html", "panel", "form_panel", "add_panel_member", "remove_panel_member",
                     "correct_panel_member", "convene", "assign",
                     "appraisal", "agree_outcome", "release_feedback", "personal_data", "downloads",
                     "mark_file_shows"), LEAD),
    "record_visit": LEAD | PANEL,
    **dict.fromkeys(("my_appraisals", "my_appraisal", "declare", "judge", "note", "for_panel_member"), PANEL),
}


def arguments(operation) -> list:
    values = [URN if name == "urn" else "2026-27" for name in operation.params]
    return values + ([{}] if operation.input is not None else [])


def test_every_operation_is_in_the_table() -> None:
    assert {o.name for o in ApplicationsApi.operations()} == set(ALLOWED)
    assert all(o.allow is not None for o in ApplicationsApi.operations())  # none is the system's alone


@pytest.mark.parametrize("operation", list(ApplicationsApi.operations()), ids=lambda o: o.name)
def test_each_role_not_allowed_is_refused(operation) -> None:
    for role, principal in ROLES.items():
        context = dict(zip(operation.params, arguments(operation), strict=False))
        allowed = role in ALLOWED[operation.name]
        assert operation.allow.allows(principal, context) is allowed, role
        if not allowed:
            with pytest.raises(Forbidden):
                operation.invoke(None, principal.to_dict(), *arguments(operation))
    with pytest.raises(Unauthorized):
        operation.invoke(None, None, *arguments(operation))
