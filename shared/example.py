"""Example data for a local run: a handful of fictional schools at different points
of the pledge journey, entered through the public API as a lead would enter them.

The URNs (9990xx) and addresses are made up; emails go to example.org, which
can never deliver.
"""

from __future__ import annotations

import requests

SCHOOLS = [
    ("999001", "Hillfields Primary (example)", "primary", "CV1 5AA", "Amira Hassan", "signed"),
    ("999002", "Foleshill Academy (example)", "secondary", "CV6 5BB", "Tom Price", "committed"),
    ("999003", "Earlsdon Nursery (example)", "nursery", "CV5 6CC", "Priya Shah", "interested"),
    ("999004", "Tile Hill Special School (example)", "special", "CV4 9DD", "Jo Evans", "registered"),
]
LEAD = {"X-Actor": "example-data (Coventry EMAS)"}


def load_example(base_url: str) -> int:
    """Register the example schools unless any school exists; returns how many it added."""
    if requests.get(f"{base_url}/schools", timeout=10).json()["schools"]:
        return 0
    for urn, name, phase, postcode, coordinator, stage in SCHOOLS:
        _post(base_url, "/schools", {
            "urn": urn, "name": name, "phase": phase, "postcode": postcode,
            "coordinator": {"name": coordinator, "role": "School of Sanctuary coordinator",
                            "email": f"{coordinator.split()[0].lower()}@{urn}.example.org"},
        })
        _advance(base_url, urn, stage)
    return len(SCHOOLS)


def _advance(base_url: str, urn: str, stage: str) -> None:
    steps = ["registered", "interested", "committed", "signed"]
    reached = steps.index(stage)
    if reached >= 1:
        _post(base_url, f"/schools/{urn}/interest", {})
    if reached >= 2:
        _post(base_url, f"/schools/{urn}/commitments",
              {"body": "slt", "given_by": "Head teacher", "role": "Head teacher"})
        _post(base_url, f"/schools/{urn}/commitments",
              {"body": "governors", "given_by": "Chair of governors", "role": "Chair"})
    if reached >= 3:
        _post(base_url, f"/schools/{urn}/pledge", {"signed_by": "Head teacher", "role": "Head teacher"})


def _post(base_url: str, path: str, body: dict) -> dict:
    response = requests.post(f"{base_url}{path}", json=body, headers=LEAD, timeout=15)
    if response.status_code >= 400:
        raise RuntimeError(f"loading example data: POST {path}: {response.status_code} {response.text}")
    return response.json()
