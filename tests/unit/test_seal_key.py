"""The sealing key and the pure parts of checking a seal."""

from __future__ import annotations

import threading

import pytest

from shared.audit import _rotated, subjects_in
from shared.seal_key import SealKeys, key_id
from shared.secrets import MissingSecret, load_secret

OLD, NEW = "o" * 40, "n" * 40


def test_the_newest_key_seals_and_every_key_checks() -> None:
    keys = SealKeys([OLD, NEW])
    assert keys.ids == [key_id(OLD.encode()), key_id(NEW.encode())]
    assert keys.current_id == key_id(NEW.encode()) and len(keys.current_id) == 16
    assert keys.has(keys.ids[0]) and not keys.has("0" * 16)
    assert keys.mac(keys.ids[0], "a", 1) != keys.mac(keys.ids[1], "a", 1)  # each key its own MACs
    assert keys.mac(keys.ids[0], "a", 1) == SealKeys([OLD]).mac(keys.ids[0], "a", 1)


def test_parts_cannot_run_into_one_another() -> None:
    keys = SealKeys([NEW])
    assert keys.mac(keys.current_id, "ab", "c") != keys.mac(keys.current_id, "a", "bc")
    assert keys.mac(keys.current_id, "1", "") != keys.mac(keys.current_id, "", "1")


def test_the_secret_holds_keys_separated_by_white_space_the_newest_last(tmp_path) -> None:
    keys = SealKeys.load(tmp_path, {"SANCTUARY_SEAL_KEY": f"{OLD}\n{NEW}\n"})
    assert keys.ids == [key_id(OLD.encode()), key_id(NEW.encode())]


def test_production_refuses_a_missing_or_short_sealing_key(tmp_path) -> None:
    with pytest.raises(MissingSecret, match="SANCTUARY_SEAL_KEY"):
        SealKeys.load(tmp_path, {"SANCTUARY_MODE": "production"})
    with pytest.raises(MissingSecret, match="every key"):  # a short key beside a long one
        SealKeys.load(tmp_path, {"SANCTUARY_MODE": "production", "SANCTUARY_SEAL_KEY": f"{OLD} short"})


def test_services_starting_together_make_one_development_key(tmp_path) -> None:
    made: list[str] = []
    threads = [threading.Thread(target=lambda: made.append(load_secret("seal_key", tmp_path, {})))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(made)) == 1 and len(made[0]) >= 32
    assert [p.name for p in (tmp_path / "secrets").iterdir()] == ["seal_key"]  # no drafts left


def test_key_changes_are_allowed_only_along_recorded_rotations() -> None:
    rotations = {(None, "a"), ("a", "b"), ("b", "c")}
    assert _rotated(rotations, None, "a") and _rotated(rotations, "a", "b")
    assert _rotated(rotations, "a", "c")  # through b, with nothing sealed under b
    assert not _rotated(rotations, "b", "a")  # never back
    assert not _rotated(rotations, "a", "z")


def test_the_subjects_an_event_names_are_read_without_their_keys() -> None:
    state = (b'{"urn":"1","contact":{"name":{"_type_":"personal","_data_":{"s":"email:x","n":"","c":""}},'
             b'"others":[{"_type_":"personal","_data_":{"s":"name:y","n":"","c":""}}]}}')
    assert sorted(subjects_in(state)) == ["email:x", "name:y"]
    assert list(subjects_in(b'{"urn":"1"}')) == []
    assert list(subjects_in(b'not json "personal"')) == []
