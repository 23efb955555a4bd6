"""The files an authority's IT team installs without Docker (deploy/systemd, deploy/nginx), checked
statically (no systemd runs here): the units parse, run commands the ``sanctuary`` CLI has, with the
hardening the operations guide promises; the environment example names exactly the variables the
code reads; nginx proxies to the gateway's default address and keeps its /metrics private."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.postgres import BasePostgresFactory

from sanctuary.cli import _parser
from sanctuary.services import SERVICES
from shared.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "deploy" / "systemd"
SERVICE_UNIT = SYSTEMD / "sanctuary@.service"
TARGET = SYSTEMD / "sanctuary.target"
BACKUP_UNIT = SYSTEMD / "sanctuary-backup.service"
TIMER = SYSTEMD / "sanctuary-backup.timer"
ENV_EXAMPLE = SYSTEMD / "sanctuary.env.example"
NGINX = ROOT / "deploy" / "nginx" / "sanctuary.conf"
UNITS = [SERVICE_UNIT, TARGET, BACKUP_UNIT, TIMER]
SOURCES = [path for folder in ("shared", "services", "sanctuary") for path in (ROOT / folder).rglob("*.py")]
STORED = sorted(name for name in SERVICES if name != "gateway")

# os.environ.get("SANCTUARY_X"), env["SANCTUARY_X"], _number(env, "SANCTUARY_X", ...)
READ = re.compile(r"""(?:environ|env)\s*(?:\.get\(|\[|\.setdefault\()\s*["'](SANCTUARY_[A-Z0-9_]+)["']"""
                  r"""|\(\s*env\s*,\s*["'](SANCTUARY_[A-Z0-9_]+)["']""")
SECRET = re.compile(r"""load_secret\(\s*["']([a-z_]+)["']""")  # SANCTUARY_<NAME> and SANCTUARY_<NAME>_FILE
ASSIGNED = re.compile(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def all_values(path: Path, section: str, key: str) -> list[str]:
    """Every value of a key systemd allows more than once (configparser keeps only the last)."""
    values, current = [], None
    for line in path.read_text().splitlines():
        if line.startswith("["):
            current = line.strip("[] ")
        elif current == section and line.split("=", 1)[0].strip() == key:
            values.append(line.split("=", 1)[1].strip())
    return values


def command(exec_start: str) -> list[str]:
    """The sanctuary command line an Exec= runs, checked against the real parser."""
    words = shlex.split(exec_start)
    assert words[0] == "/opt/sanctuary/.venv/bin/sanctuary", exec_start
    return words[1:]


def code_reads() -> set[str]:
    """Every SANCTUARY_* variable the services' code reads from the environment."""
    names: set[str] = set()
    for source in SOURCES:
        text = source.read_text()
        names.update(a or b for a, b in READ.findall(text))
        for secret in SECRET.findall(text):
            names.update({f"SANCTUARY_{secret.upper()}", f"SANCTUARY_{secret.upper()}_FILE"})
    return names


def eventsourcing_reads() -> set[str]:
    """What eventsourcing reads for each service's store: its keys, plain or with the
    application's name in front (``PLEDGES_POSTGRES_DBNAME``)."""
    keys = {value for factory in (InfrastructureFactory, BasePostgresFactory)
            for name, value in vars(factory).items() if name.isupper() and isinstance(value, str)}
    return keys | {f"{service.upper()}_{key}" for service in STORED for key in keys}


def example() -> dict[str, list[str]]:
    """Variables in the example, each with its values (commented-out lines included)."""
    found: dict[str, list[str]] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if match := ASSIGNED.match(line):
            found.setdefault(match.group(1), []).append(line)
    return found


def active(name: str) -> str:
    [line] = [line for line in example()[name] if not line.lstrip().startswith("#")]
    return line.split("=", 1)[1].strip().strip('"')


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_every_unit_parses_as_ini_with_the_sections_systemd_needs(path: Path) -> None:
    parsed = unit(path)
    assert parsed.has_section("Unit") and parsed["Unit"]["Description"]
    own = {".service": "Service", ".timer": "Timer"}.get(path.suffix)  # a target has none of its own
    assert own is None or parsed.has_section(own)
    if path != BACKUP_UNIT:  # the backup runs from its timer, not at boot
        assert parsed.has_section("Install")


def test_each_service_is_started_with_serve_and_its_instance_name() -> None:
    service = unit(SERVICE_UNIT)["Service"]
    args = command(service["ExecStart"])
    assert args[:2] == ["serve", "%i"]
    for name in SERVICES:
        assert _parser().parse_args(["serve", name]).service == name


def test_the_target_starts_every_service() -> None:
    wanted = " ".join(all_values(TARGET, "Unit", "Wants")).split()
    assert sorted(wanted) == sorted(f"sanctuary@{name}.service" for name in SERVICES)
    assert unit(SERVICE_UNIT)["Unit"]["PartOf"] == TARGET.name
    assert unit(SERVICE_UNIT)["Install"]["WantedBy"] == TARGET.name


def test_the_service_unit_runs_as_its_user_restarts_and_is_hardened() -> None:
    service = unit(SERVICE_UNIT)["Service"]
    assert service["User"] == "sanctuary"
    assert service["Restart"] == "on-failure"
    assert all_values(SERVICE_UNIT, "Service", "EnvironmentFile") == [
        "/etc/sanctuary/sanctuary.env", "/etc/sanctuary/%i.env"]
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    assert active("SANCTUARY_DATA_DIR") in service["ReadWritePaths"].split()


def test_the_backup_runs_the_backup_command_nightly_into_a_writable_folder() -> None:
    service = unit(BACKUP_UNIT)["Service"]
    args = command(service["ExecStart"])
    parsed = _parser().parse_args(args)
    assert args[0] == "backup" and parsed.dated
    assert str(parsed.folder) in service["ReadWritePaths"].split()
    assert active("SANCTUARY_DATA_DIR") in service["ReadWritePaths"].split()  # SQLite's -shm files
    assert service["Type"] == "oneshot" and service["User"] == "sanctuary"
    assert service["EnvironmentFile"] == "/etc/sanctuary/sanctuary.env"
    assert str(parsed.folder) in service["ExecStartPost"]  # the retention prunes the same folder
    timer = unit(TIMER)["Timer"]
    assert timer["Unit"] == BACKUP_UNIT.name
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d(:\d\d)?", timer["OnCalendar"])  # once a day
    assert timer["Persistent"] == "true"


def test_every_variable_in_the_example_is_read_by_the_code() -> None:
    known = code_reads() | eventsourcing_reads()
    assert sorted(set(example()) - known) == []


def test_every_sanctuary_variable_the_code_reads_is_in_the_example() -> None:
    reads = code_reads()
    assert {"SANCTUARY_STORE", "SANCTUARY_SMTP_PASSWORD_FILE", "SANCTUARY_SESSION_KEY_FILE"} <= reads
    assert sorted(reads - set(example())) == []


def test_each_variable_is_set_at_most_once_and_the_store_has_every_database() -> None:
    for name, lines in example().items():
        assert len([line for line in lines if not line.lstrip().startswith("#")]) <= 1, name
    assert active("SANCTUARY_STORE") == "postgres"
    assert {active(f"{service.upper()}_POSTGRES_DBNAME") for service in STORED} == set(STORED)
    settings = Settings.from_env({name: active(name) for name in example() if name.startswith("SANCTUARY")
                                  and any(not line.startswith("#") for line in example()[name])})
    assert settings.store == "postgres" and settings.public_url.startswith("https://")


def test_nginx_proxies_to_the_gateways_default_address_and_hides_its_metrics() -> None:
    conf = NGINX.read_text()
    default = Settings.from_env({}).gateway_address
    assert default == active("SANCTUARY_GATEWAY_ADDRESS")
    upstream = re.search(r"upstream\s+(\w+)\s*\{([^}]*)\}", conf)
    assert upstream and re.search(rf"server\s+{re.escape(default)}\s*;", upstream.group(2))
    assert re.search(rf"proxy_pass\s+http://{upstream.group(1)}\s*;", conf)
    assert re.search(r"listen\s+443\s+ssl", conf) and "ssl_certificate_key" in conf
    hidden = re.search(r"location\s+(?:\^~|=)\s+/metrics\s*\{([^}]*)\}", conf)
    assert hidden and re.search(r"return\s+40[34]\s*;", hidden.group(1))
    assert re.search(r"return\s+301\s+https://", conf)  # plain HTTP only redirects


def test_the_journal_takes_each_lines_priority_from_the_json_logs() -> None:
    """shared/logs.py starts each line with ``<N>`` when its stream is the journal; the unit
    keeps systemd reading it, and the example logs JSON (a traceback stays in its line)."""
    assert unit(SERVICE_UNIT)["Service"]["SyslogLevelPrefix"] == "yes"
    assert active("SANCTUARY_LOG_FORMAT") == "json"
