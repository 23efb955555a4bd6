"""Secrets: from the environment or a file; production refuses to start without one."""

from __future__ import annotations

import stat

import pytest

from shared.secrets import MissingSecret, load_secret

STRONG = "x" * 40


def test_production_refuses_a_missing_secret(tmp_path) -> None:
    with pytest.raises(MissingSecret, match="SANCTUARY_SESSION_KEY"):
        load_secret("session_key", tmp_path, {"SANCTUARY_MODE": "production"})


@pytest.mark.parametrize("weak", ["changeme", "secret", "short-but-not-default"])
def test_production_refuses_a_default_or_short_secret(tmp_path, weak) -> None:
    with pytest.raises(MissingSecret):
        load_secret("session_key", tmp_path,
                    {"SANCTUARY_MODE": "production", "SANCTUARY_SESSION_KEY": weak})


def test_a_file_wins_over_the_variable(tmp_path) -> None:
    secret_file = tmp_path / "key"
    secret_file.write_text(STRONG + "\n")
    env = {"SANCTUARY_MODE": "production", "SANCTUARY_SESSION_KEY": "y" * 40,
           "SANCTUARY_SESSION_KEY_FILE": str(secret_file)}
    assert load_secret("session_key", tmp_path, env) == STRONG


def test_development_makes_one_private_secret_and_keeps_it(tmp_path) -> None:
    first = load_secret("session_key", tmp_path, {})
    assert len(first) >= 32
    assert load_secret("session_key", tmp_path, {}) == first
    mode = (tmp_path / "secrets" / "session_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
