"""Coventry sends no starter pack: the starter pack is configured per authority, and
Coventry's file has none. The whole Coventry system (conftest's module-scoped
``system``), a school taken over real HTTP to its pledge, its mail read from the sink.

A module of its own so it never runs beside test_lancashire.py's Lancashire system.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Api, E2ESystem
from tests.e2e.test_lancashire import about, arrived, log_settled, subject, text

pytestmark = pytest.mark.e2e

URN = "930102"  # no other e2e test uses 9301xx
NAME = f"Coventry Pack Check School {URN}"
COORDINATOR = f"cara.cov@{URN}.example.org"


def test_coventry_sends_no_starter_pack(system: E2ESystem) -> None:
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
    })
    log = log_settled(lead)  # everything the pledge brought has gone
    assert [e for e in log["items"] if e["kind"] == "starter-pack"] == []
    assert lead.ok(lead.get("/notifications", params={"kind": "starter-pack"}))["items"] == []
    mail = about(system, COORDINATOR, NAME)
    assert not any("starter pack" in (subject(m) + text(m)).lower() for m in mail)
    assert sorted(subject(m) for m in mail if m["To"] == COORDINATOR) == [
        f"{NAME} is registered for Schools of Sanctuary",
        f"Thank you: {NAME} has signed the pledge",
    ]
    [registered] = [m for m in mail if subject(m).endswith("is registered for Schools of Sanctuary")]
    assert "secure the commitment of your leadership and governors and" in text(registered)
