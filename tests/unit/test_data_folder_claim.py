"""Which authority ``sanctuary up`` runs (a name or a file), and the data folder that keeps to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanctuary.claim import AUTHORITY_NAME, AlreadyTaken, claim_for_authority
from shared.config import AUTHORITIES, authority_file


def test_an_authority_is_named_by_its_file_in_deploy_authorities() -> None:
    assert authority_file("lancashire") == AUTHORITIES / "lancashire.toml"
    assert authority_file("coventry") == AUTHORITIES / "coventry.toml"


def test_an_authority_file_elsewhere_is_given_by_its_path(tmp_path: Path) -> None:
    own = tmp_path / "leeds.toml"
    own.write_text((AUTHORITIES / "lancashire.toml").read_text())
    assert authority_file(str(own)) == own.resolve()


def test_an_unknown_authority_is_refused_naming_those_there_are() -> None:
    with pytest.raises(ValueError) as refused:
        authority_file("nowhere")
    assert "no authority 'nowhere'" in str(refused.value)
    assert "coventry, lancashire" in str(refused.value)


def test_a_data_folder_keeps_the_authority_it_was_first_started_for(tmp_path: Path) -> None:
    claim_for_authority(tmp_path, "coventry", "Coventry")
    claim_for_authority(tmp_path, "coventry", "Coventry")  # the same again: carries on
    assert (tmp_path / AUTHORITY_NAME).read_text() == "coventry\n"

    with pytest.raises(AlreadyTaken) as refused:
        claim_for_authority(tmp_path, "lancashire", "Lancashire")
    assert f"the data folder {tmp_path} holds the deployment of coventry, not of Lancashire" \
        in str(refused.value)
    assert "SANCTUARY_DATA_DIR=data-lancashire ./run lancashire" in str(refused.value)
    assert (tmp_path / AUTHORITY_NAME).read_text() == "coventry\n"  # unchanged
