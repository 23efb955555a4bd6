"""The launcher starts the services without eventlet's green resolver only when there is
no name for it to look up (sanctuary/launch.py ``resolves_no_names``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanctuary.launch import NO_GREEN_DNS, System, resolves_no_names
from shared.config import Settings

LOCAL = {"SANCTUARY_AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/", "SANCTUARY_SMTP_HOST": "localhost"}


def settings(env: dict) -> Settings:
    return Settings.from_env(env)


@pytest.mark.parametrize("extra", [
    {},
    {"POSTGRES_HOST": "127.0.0.1", "PLEDGES_POSTGRES_HOST": "/var/run/postgresql"},
    {"SANCTUARY_AMQP_URI": "amqp://g:g@[::1]:5672/;amqp://g:g@127.0.0.2:5673/"},
])
def test_addresses_localhost_and_sockets_need_no_resolver(extra: dict) -> None:
    env = {**LOCAL, **extra}
    assert resolves_no_names(settings(env), env)


@pytest.mark.parametrize("extra", [
    {"SANCTUARY_AMQP_URI": "amqp://guest:guest@rabbitmq:5672/"},
    {"SANCTUARY_AMQP_URI": "amqp://g:g@127.0.0.1:5672/;amqp://g:g@rabbit-b.internal:5672/"},
    {"SANCTUARY_SMTP_HOST": "smtp.example.gov.uk"},
    {"APPLICATIONS_POSTGRES_HOST": "postgres"},
    {"SANCTUARY_SMTP_SECURITY": "carrier-pigeon"},  # left to the services to refuse
])
def test_a_name_keeps_the_green_resolver(extra: dict) -> None:
    env = {**LOCAL, **extra}
    assert not resolves_no_names(settings(env), env)


def test_the_launcher_passes_the_switch_on_and_an_operator_s_choice_wins(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NO_GREEN_DNS, raising=False)
    env = {**LOCAL, "SANCTUARY_DATA_DIR": str(tmp_path)}
    assert System(settings(env), env).env[NO_GREEN_DNS] == "yes"
    named = {**env, "SANCTUARY_SMTP_HOST": "smtp.example.gov.uk"}
    assert NO_GREEN_DNS not in System(settings(named), named).env
    chosen = {**env, NO_GREEN_DNS: "no"}
    assert System(settings(chosen), chosen).env[NO_GREEN_DNS] == "no"
