"""Coventry's own pack, configured like Lancashire's with no code between them: once
the pledge is signed, the audit tool (Step 1) and the offer of catch-up meetings. The
whole Coventry system (conftest's module-scoped ``system``), a school taken over real
HTTP to its pledge, its mail read from the sink.

A module of its own so it never runs beside test_lancashire.py's Lancashire system.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Api, E2ESystem
from tests.e2e.test_lancashire import about, arrived, log_settled, subject, text

pytestmark = pytest.mark.e2e
SHARES_SYSTEM = True  # its URNs and addresses are its own, and it takes no cycle-wide step

URN = "930102"  # no other e2e test uses 9301xx
NAME = f"Coventry Pack Check School {URN}"
COORDINATOR = f"cara.cov@{URN}.example.org"


def test_coventry_sends_the_audit_tool_and_offers_catch_up_meetings(system: E2ESystem) -> None:
    lead, school = Api(system), Api(system, system.coordinator(URN))
    lead.ok(lead.post("/schools", {
        "urn": URN, "name": NAME, "phase": "secondary", "postcode": "CV1 5FB",
        "coordinator": {"name": "Cara Cov", "email": COORDINATOR}}), 201)
    school.ok(school.post(f"/schools/{URN}/interest", {}))
    for body, who, role in (("slt", "Dee Deputy", "Deputy head"),
                            ("governors", "Ed Chair", "Chair of governors")):
        school.ok(school.post(f"/schools/{URN}/commitments", {"body": body, "given_by": who, "role": role}))
    school.ok(school.post(f"/schools/{URN}/pledge", {"signed_by": "Cara Head", "role": "Head teacher"}))
    arrived(system, COORDINATOR, NAME, {
        (COORDINATOR, f"{NAME} is registered for Schools of Sanctuary"),
        (COORDINATOR, f"Thank you: {NAME} has signed the pledge"),
        (COORDINATOR, f"Schools of Sanctuary audit tool for {NAME}"),
    })
    log_settled(lead)  # everything the pledge brought has gone
    sent = lead.ok(lead.get("/notifications", params={"kind": "starter-pack"}))["items"]
    ours = [e for e in sent if e["key"].startswith(f"school/{URN}/")]  # other modules' schools share the log
    assert len([e for e in ours if e["status"] == "sent"]) == 1
    mail = about(system, COORDINATOR, NAME)
    assert sorted(subject(m) for m in mail if m["To"] == COORDINATOR) == sorted([
        f"Schools of Sanctuary audit tool for {NAME}",
        f"Thank you: {NAME} has signed the pledge",
        f"{NAME} is registered for Schools of Sanctuary",
    ])
    [pack] = [m for m in mail if subject(m).startswith("Schools of Sanctuary audit tool")]
    assert "Coventry Schools of Sanctuary lead will send you the Schools of Sanctuary audit" in text(pack)
    assert "Schools catch up meeting to share progress" in text(pack)
    assert "Lancashire" not in text(pack)
    [registered] = [m for m in mail if subject(m).endswith("is registered for Schools of Sanctuary")]
    assert "secure the commitment of your leadership and governors and" in text(registered)
