"""Example data for a local run, shaped to the authority's own file: a lead, fictional
schools at different points of the pledge journey, each through the commitments that
authority's pledge needs (Coventry: SLT and governors; Lancashire: the head teacher),
one more started on an application in the current cycle (Coventry's next submission is
its draft, by a deadline; Lancashire's the final, when ready), and enough volunteers
for a panel that meets the cycle's rule. Everything is entered through the public API,
as the lead would enter it.

The URNs (9990xx) are made up; every address is at example.org, which can never
deliver, and all mail goes to the local sink anyway.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import requests

from shared.authority import Authority, Cycle, load_authority
from shared.config import Settings

# (urn, phase, coordinator, how far along the pledge journey)
SCHOOLS = [
    ("999001", "primary", "Amira Hassan", "signed"),
    ("999002", "secondary", "Tom Price", "committed"),
    ("999003", "nursery", "Priya Shah", "interested"),
    ("999004", "special", "Jo Evans", "registered"),
    ("999005", "primary", "Sam Okafor", "applying"),
]
# fictional schools in the authority's own area; anywhere else, plain example names
PLACES = {
    "coventry": [("Hillfields Primary", "CV1 5AA"), ("Foleshill Academy", "CV6 5BB"),
                 ("Earlsdon Nursery", "CV5 6CC"), ("Tile Hill Special School", "CV4 9DD"),
                 ("Stoke Aldermoor Primary", "CV3 1EE")],
    "lancashire": [("Preston Park Primary", "PR1 3AA"), ("Burnley Moor Academy", "BB11 2BB"),
                   ("Lancaster Castle Nursery", "LA1 3CC"), ("Chorley Brook Special School", "PR7 4DD"),
                   ("Ormskirk Green Primary", "L39 1EE")],
}
GENERIC = [("Example Primary", "ZZ99 1AA"), ("Example Academy", "ZZ99 2BB"), ("Example Nursery", "ZZ99 3CC"),
           ("Example Special School", "ZZ99 4DD"), ("Example Park Primary", "ZZ99 5EE")]
# who gives each commitment an authority's pledge may need
GIVEN_BY = {"slt": ("Head teacher", "Head teacher"), "governors": ("Chair of governors", "Chair"),
            "head_teacher": ("Head teacher", "Head teacher")}
# volunteers the lead can put on a panel (one with lived experience of seeking sanctuary)
PANEL_MEMBERS = [("Amal Yusuf", "amal.yusuf@panel.example.org"),
                 ("Chris Doyle", "chris.doyle@panel.example.org"),
                 ("Mina Rahimi", "mina.rahimi@panel.example.org"),
                 ("Dara Byrne", "dara.byrne@panel.example.org"),
                 ("Elif Demir", "elif.demir@panel.example.org"),
                 ("Femi Adeyemi", "femi.adeyemi@panel.example.org")]
EXAMPLE_COORDINATOR = "amira@999001.example.org"
APPLYING_WAIT = 60.0  # seconds for the applications service to hear of the pledge


def lead_email(authority: Authority) -> str:
    return f"{authority.slug}.lead@example.org"


def token_file(settings: Settings) -> Path:
    return settings.data_dir / "example-lead-token"


def schools_of(authority: Authority) -> list[tuple[str, str, str, str, str, str]]:
    """(urn, name, phase, postcode, coordinator, stage) for each example school."""
    places = PLACES.get(authority.slug, GENERIC)
    return [(urn, f"{name} (example)", phase, postcode, coordinator, stage)
            for (urn, phase, coordinator, stage), (name, postcode) in zip(SCHOOLS, places, strict=True)]


def load_example(settings: Settings, base_url: str, today: dt.date | None = None) -> int:
    """On first start, create the example lead and schools; returns how many schools.
    ``today`` (by the system's clock) picks the cycle the applying school applies in."""
    path = token_file(settings)
    if path.exists():
        return 0
    from services.accounts.bootstrap import add_account

    authority = load_authority(settings.authority_file)
    cycle = authority.current_cycle(today or settings.clock.today(authority.timezone))
    _, token = add_account(settings, lead_email(authority), f"Example Lead ({authority.name})",
                           [{"role": "lead"}], "example data")
    lead = {"Authorization": f"Bearer {token}"}
    schools = schools_of(authority)
    for urn, name, phase, postcode, coordinator, stage in schools:
        email = f"{coordinator.split()[0].lower()}@{urn}.example.org"
        _post(base_url, lead, "/accounts", {"email": email, "name": coordinator,
                                            "grants": [{"role": "coordinator", "urn": urn}]})
        _post(base_url, lead, "/schools", {
            "urn": urn, "name": name, "phase": phase, "postcode": postcode,
            "coordinator": {"name": coordinator, "role": "School of Sanctuary coordinator",
                            "email": email},
        })
        _advance(base_url, lead, urn, stage, authority, cycle)
    rule = max(c.panel.min_members for c in authority.cycles)
    for name, email in PANEL_MEMBERS[:max(3, rule)]:
        _post(base_url, lead, "/accounts", {"email": email, "name": name,
                                            "grants": [{"role": "panel_member"}]})
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return len(schools)


def _advance(base_url: str, lead: dict, urn: str, stage: str, authority: Authority, cycle: Cycle) -> None:
    reached = ["registered", "interested", "committed", "signed", "applying"].index(stage)
    if reached >= 1:
        _post(base_url, lead, f"/schools/{urn}/interest", {})
    if reached >= 2:
        for body in authority.pledge.required_commitments:
            given_by, role = GIVEN_BY[body]
            _post(base_url, lead, f"/schools/{urn}/commitments",
                  {"body": body, "given_by": given_by, "role": role})
    if reached >= 3:
        _post(base_url, lead, f"/schools/{urn}/pledge", {"signed_by": "Head teacher", "role": "Head teacher"})
    if reached >= 4:
        _apply(base_url, lead, urn, authority, cycle)


def _apply(base_url: str, lead: dict, urn: str, authority: Authority, cycle: Cycle) -> None:
    """Start an application in the cycle, with one criterion audited and evidenced."""
    deadline = time.monotonic() + APPLYING_WAIT
    while not _get(base_url, lead, f"/schools/{urn}/eligibility").get("may_apply"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"loading example data: the applications service has not heard of "
                               f"{urn}'s pledge")
        time.sleep(0.5)
    app = f"/schools/{urn}/applications/{cycle.school_year}"
    _post(base_url, lead, f"/schools/{urn}/applications", {"school_year": cycle.school_year})
    first = authority.criteria(cycle.criteria_version).criteria[0]
    _send("PUT", base_url, lead, f"{app}/audit", {
        "criterion": first.code, "status": "developing", "practice": "Whole-staff training planned",
        "next_steps": "Train the governors too"})
    _post(base_url, lead, f"{app}/evidence", {"criterion": first.code, "title": "Training log (example)"})


def _get(base_url: str, headers: dict, path: str) -> dict:
    response = requests.get(f"{base_url}{path}", headers=headers, timeout=15)
    return response.json() if response.status_code == 200 else {}


def _post(base_url: str, headers: dict, path: str, body: dict) -> dict:
    return _send("POST", base_url, headers, path, body)


def _send(method: str, base_url: str, headers: dict, path: str, body: dict) -> dict:
    response = requests.request(method, f"{base_url}{path}", json=body, headers=headers, timeout=15)
    if response.status_code >= 400:
        raise RuntimeError(f"loading example data: {method} {path}: {response.status_code} {response.text}")
    return response.json()
