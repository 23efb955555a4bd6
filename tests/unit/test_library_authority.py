"""The optional ``[[resources]]`` list of an authority file: the library's starting
links, validated like the rest of the file (an error names the file, the key and
the problem)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.authority import AuthorityConfigError, LibraryLink, load_authority
from shared.config import ROOT

AUTHORITIES = ROOT / "deploy" / "authorities"
PACK = '''
[[resources]]
title = "Schools of Sanctuary resource pack"
url = "https://example.org/resource-pack"
description = "Ideas for every criterion"
criteria = ["share-6", "learn-1"]
stages = ["action-plan", "draft"]
'''


def with_resources(tmp_path: Path, text: str, authority: str = "coventry") -> Path:
    path = tmp_path / f"{authority}.toml"
    path.write_text((AUTHORITIES / f"{authority}.toml").read_text() + "\n" + text)
    return path


@pytest.mark.parametrize("authority", ["coventry", "lancashire"])
def test_the_list_is_optional(authority: str) -> None:
    loaded = load_authority(AUTHORITIES / f"{authority}.toml")
    for item in loaded.resources:  # the seeds give no addresses: none are invented
        assert item.url.startswith("https://")


def test_a_listed_link_is_loaded_with_its_tags(tmp_path: Path) -> None:
    [pack] = load_authority(with_resources(tmp_path, PACK)).resources
    assert pack == LibraryLink("Schools of Sanctuary resource pack", "https://example.org/resource-pack",
                               "Ideas for every criterion", ("share-6", "learn-1"), ("action-plan", "draft"),
                               False)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('url = "https://example.org/resource-pack"', 'url = "http://example.org/resource-pack"',
     "resources[0].url: Not a valid URL."),
    ('criteria = ["share-6", "learn-1"]', 'criteria = ["share-9"]',
     "resources[0].criteria: No criterion 'share-9' in any criteria set."),
    ('stages = ["action-plan", "draft"]', 'stages = ["visit"]', "resources[0].stages[0]: Must be one of"),
    ('url = "https://example.org/resource-pack"', "", "resources[0].url: Missing data for required field."),
    ('description = "Ideas for every criterion"', 'owner = "Ann"', "resources[0].owner: Unknown field."),
])
def test_a_wrong_entry_names_the_file_the_key_and_the_problem(tmp_path: Path, old: str, new: str,
                                                              expected: str) -> None:
    path = with_resources(tmp_path, PACK.replace(old, new))
    with pytest.raises(AuthorityConfigError) as caught:
        load_authority(path)
    assert f"{path}: {expected}" in str(caught.value)


def test_the_same_address_twice_is_an_error(tmp_path: Path) -> None:
    path = with_resources(tmp_path, PACK + PACK)
    with pytest.raises(AuthorityConfigError) as caught:
        load_authority(path)
    assert "resources[1].url: Duplicate" in str(caught.value)


def test_a_draft_stage_needs_a_cycle_with_a_draft(tmp_path: Path) -> None:
    path = with_resources(tmp_path, PACK, "lancashire")  # Lancashire takes a final application only
    with pytest.raises(AuthorityConfigError) as caught:
        load_authority(path)
    assert "resources[0].stages: No cycle has a 'draft' stage." in str(caught.value)
