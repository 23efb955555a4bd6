"""The example data fits whichever authority file the system starts with."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanctuary.example import GIVEN_BY, PLACES, lead_email, schools_of
from services.pledges.schemas import RegisterSchool
from shared.authority import COMMITMENTS, load_authority
from shared.config import ROOT

AUTHORITIES = sorted((ROOT / "deploy" / "authorities").glob("*.toml"))


def test_every_commitment_an_authority_may_need_has_someone_to_give_it() -> None:
    assert set(GIVEN_BY) == set(COMMITMENTS)


@pytest.mark.parametrize("path", AUTHORITIES, ids=lambda p: p.stem)
def test_each_authority_gets_schools_of_its_own_that_register(path: Path) -> None:
    authority = load_authority(path)
    schools = schools_of(authority)
    assert [s[5] for s in schools] == ["signed", "committed", "interested", "registered", "applying"]
    for urn, name, phase, postcode, coordinator, _ in schools:
        RegisterSchool().load({"urn": urn, "name": name, "phase": phase, "postcode": postcode,
                               "coordinator": {"name": coordinator, "email": f"x@{urn}.example.org"}})
    assert lead_email(authority) == f"{authority.slug}.lead@example.org"


def test_lancashire_schools_are_in_lancashire_and_an_unknown_authority_gets_plain_names() -> None:
    lancashire = load_authority(ROOT / "deploy" / "authorities" / "lancashire.toml")
    assert [s[1] for s in schools_of(lancashire)][0] == "Preston Park Primary (example)"
    assert not any("Coventry" in s[1] or s[3].startswith("CV") for s in schools_of(lancashire))
    other = lancashire.__class__(**{**vars(lancashire), "slug": "elsewhere"})
    assert [s[1] for s in schools_of(other)][0] == "Example Primary (example)"
    assert set(PLACES) == {p.stem for p in AUTHORITIES}
