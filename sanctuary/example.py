"""Example data for a local run: a lead, and a handful of fictional schools at
different points of the pledge journey, each with its coordinator's account,
entered through the public API as the lead would enter them.

The URNs (9990xx) are made up; every address is at example.org, which can never
deliver, and all mail goes to the local sink anyway.
"""

from __future__ import annotations

import os
from pathlib import Path

import requests

from shared.config import Settings

SCHOOLS = [
    ("999001", "Hillfields Primary (example)", "primary", "CV1 5AA", "Amira Hassan", "signed"),
    ("999002", "Foleshill Academy (example)", "secondary", "CV6 5BB", "Tom Price", "committed"),
    ("999003", "Earlsdon Nursery (example)", "nursery", "CV5 6CC", "Priya Shah", "interested"),
    ("999004", "Tile Hill Special School (example)", "special", "CV4 9DD", "Jo Evans", "registered"),
]
LEAD_EMAIL = "emas.lead@example.org"
# volunteers the lead can put on a panel (one with lived experience of seeking sanctuary)
PANEL_MEMBERS = [("Amal Yusuf", "amal.yusuf@panel.example.org"),
                 ("Chris Doyle", "chris.doyle@panel.example.org"),
                 ("Mina Rahimi", "mina.rahimi@panel.example.org")]


EXAMPLE_COORDINATOR = "amira@999001.example.org"


def token_file(settings: Settings) -> Path:
    return settings.data_dir / "example-lead-token"


def load_example(settings: Settings, base_url: str) -> int:
    """On first start, create the example lead and schools; returns how many schools."""
    path = token_file(settings)
    if path.exists():
        return 0
    from services.accounts.bootstrap import add_account

    _, token = add_account(settings, LEAD_EMAIL, "Example Lead (Coventry EMAS)", [{"role": "lead"}],
                           "example data")
    lead = {"Authorization": f"Bearer {token}"}
    for urn, name, phase, postcode, coordinator, stage in SCHOOLS:
        email = f"{coordinator.split()[0].lower()}@{urn}.example.org"
        _post(base_url, lead, "/accounts", {"email": email, "name": coordinator,
                                            "grants": [{"role": "coordinator", "urn": urn}]})
        _post(base_url, lead, "/schools", {
            "urn": urn, "name": name, "phase": phase, "postcode": postcode,
            "coordinator": {"name": coordinator, "role": "School of Sanctuary coordinator",
                            "email": email},
        })
        _advance(base_url, lead, urn, stage)
    for name, email in PANEL_MEMBERS:
        _post(base_url, lead, "/accounts", {"email": email, "name": name,
                                            "grants": [{"role": "panel_member"}]})
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return len(SCHOOLS)


def _advance(base_url: str, lead: dict, urn: str, stage: str) -> None:
    reached = ["registered", "interested", "committed", "signed"].index(stage)
    if reached >= 1:
        _post(base_url, lead, f"/schools/{urn}/interest", {})
    if reached >= 2:
        _post(base_url, lead, f"/schools/{urn}/commitments",
              {"body": "slt", "given_by": "Head teacher", "role": "Head teacher"})
        _post(base_url, lead, f"/schools/{urn}/commitments",
              {"body": "governors", "given_by": "Chair of governors", "role": "Chair"})
    if reached >= 3:
        _post(base_url, lead, f"/schools/{urn}/pledge",
              {"signed_by": "Head teacher", "role": "Head teacher"})


def _post(base_url: str, headers: dict, path: str, body: dict) -> dict:
    response = requests.post(f"{base_url}{path}", json=body, headers=headers, timeout=15)
    if response.status_code >= 400:
        raise RuntimeError(f"loading example data: POST {path}: {response.status_code} {response.text}")
    return response.json()
