"""The rehearsal clock: a deployment that is not production may run on a shifted clock
(SANCTUARY_CLOCK_START, from which time runs on, or SANCTUARY_CLOCK_OFFSET); production
refuses it at start; every service reads "now" and "today" through system_clock()."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

import shared.clock
from sanctuary import cli
from sanctuary.launch import System
from shared.clock import (
    ANCHOR,
    OFFSET,
    START,
    UK,
    Clock,
    ShiftedClock,
    clock_from_env,
    parse_offset,
    system_clock,
)
from shared.config import ROOT, Settings

NEAR = dt.timedelta(seconds=5)


def close_to(a: dt.datetime, b: dt.datetime) -> bool:
    return abs(a - b) < NEAR


def test_without_settings_the_clock_is_real() -> None:
    clock = clock_from_env({})
    assert type(clock) is Clock and not clock.shifted
    assert close_to(clock.now(), dt.datetime.now(dt.UTC))


def test_a_start_reads_that_time_at_its_anchor_and_runs_on() -> None:
    anchor = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)  # started two hours ago
    clock = clock_from_env({START: "2027-03-20T09:00", ANCHOR: anchor.isoformat()})
    assert isinstance(clock, ShiftedClock) and clock.shifted
    started = dt.datetime(2027, 3, 20, 9, 0, tzinfo=UK)  # UK local time: GMT in March
    assert close_to(clock.now(), started + dt.timedelta(hours=2))
    assert clock.today() == dt.date(2027, 3, 20)


def test_a_start_without_an_offset_is_uk_local_time_and_with_one_is_taken_as_given() -> None:
    now = dt.datetime.now(dt.UTC).isoformat()
    summer = clock_from_env({START: "2027-06-15T09:00", ANCHOR: now})
    assert close_to(summer.now(), dt.datetime(2027, 6, 15, 8, 0, tzinfo=dt.UTC))  # BST
    utc = clock_from_env({START: "2027-06-15T09:00+00:00", ANCHOR: now})
    assert close_to(utc.now(), dt.datetime(2027, 6, 15, 9, 0, tzinfo=dt.UTC))


def test_without_an_anchor_the_start_is_anchored_at_the_process_start() -> None:
    clock = clock_from_env({START: "2027-03-20T09:00"})
    ran = dt.datetime.now(dt.UTC) - shared.clock._PROCESS_STARTED
    assert close_to(clock.now(), dt.datetime(2027, 3, 20, 9, 0, tzinfo=UK) + ran)


@pytest.mark.parametrize(("text", "delta"), [
    ("+110d", dt.timedelta(days=110)),
    ("110d", dt.timedelta(days=110)),
    ("-3h30m", -dt.timedelta(hours=3, minutes=30)),
    ("2d12h", dt.timedelta(days=2, hours=12)),
    ("45m", dt.timedelta(minutes=45)),
])
def test_offsets(text: str, delta: dt.timedelta) -> None:
    assert parse_offset(text) == delta
    clock = clock_from_env({OFFSET: text})
    assert close_to(clock.now(), dt.datetime.now(dt.UTC) + delta)


@pytest.mark.parametrize(("env", "says"), [
    ({OFFSET: "soon"}, "SANCTUARY_CLOCK_OFFSET: 'soon' is not an offset"),
    ({OFFSET: "+"}, "is not an offset"),
    ({OFFSET: "3d2x"}, "is not an offset"),
    ({START: "20 March 2027"}, "SANCTUARY_CLOCK_START: '20 March 2027' is not a time"),
    ({START: "2027-03-20T09:00", ANCHOR: "yesterday"}, "SANCTUARY_CLOCK_ANCHOR: 'yesterday' is not a time"),
    ({START: "2027-03-20T09:00", OFFSET: "+1d"}, "not both"),
])
def test_bad_settings_are_refused_naming_them(env: dict, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        clock_from_env(env)


@pytest.mark.parametrize("setting", [{START: "2027-03-20T09:00"}, {OFFSET: "+110d"}])
def test_production_refuses_a_shifted_clock(setting: dict) -> None:
    env = {"SANCTUARY_MODE": "production", **setting}
    with pytest.raises(ValueError, match="refused when SANCTUARY_MODE=production") as caught:
        clock_from_env(env)
    assert str(caught.value).startswith(next(iter(setting)))
    with pytest.raises(ValueError, match="production"):
        Settings.from_env(env)
    assert not Settings.from_env({"SANCTUARY_MODE": "production"}).clock.shifted


def test_settings_carry_the_clock() -> None:
    settings = Settings.from_env({START: "2027-03-20T09:00", ANCHOR: dt.datetime.now(dt.UTC).isoformat()})
    assert settings.clock.shifted and settings.clock.today() == dt.date(2027, 3, 20)
    assert not Settings.from_env({}).clock.shifted


def test_the_system_clock_is_read_from_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared.clock, "_system", None)
    monkeypatch.setenv(OFFSET, "+400d")
    clock = system_clock()
    assert clock.shifted and close_to(clock.now(), dt.datetime.now(dt.UTC) + dt.timedelta(days=400))
    monkeypatch.delenv(OFFSET)
    assert system_clock() is clock


def test_the_launcher_anchors_one_shift_for_every_process(tmp_path: Path) -> None:
    settings = Settings.from_env({"SANCTUARY_DATA_DIR": str(tmp_path)})
    system = System(settings, {START: "2027-03-20T09:00"})
    system._anchor_clock()
    anchor = system.env[ANCHOR]
    assert close_to(dt.datetime.fromisoformat(anchor), dt.datetime.now(dt.UTC))
    assert close_to(clock_from_env(system.env).now(), dt.datetime(2027, 3, 20, 9, 0, tzinfo=UK))
    given = System(settings, {START: "2027-03-20T09:00", ANCHOR: "2026-12-01T10:00:00+00:00"})
    given._anchor_clock()
    assert given.env[ANCHOR] == "2026-12-01T10:00:00+00:00"  # an operator's anchor is kept
    real = System(settings, {START: ""})
    real._anchor_clock()
    assert ANCHOR not in real.env or real.env[ANCHOR] == ""


def test_sanctuary_up_refuses_a_shifted_clock_in_production(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("SANCTUARY_MODE", "production")
    monkeypatch.setenv(START, "2027-03-20T09:00")
    assert cli.main(["up", "--no-example"]) == 2
    assert "SANCTUARY_CLOCK_START: a shifted clock is for rehearsals" in capsys.readouterr().err


# Reading the time anywhere but through a clock would escape a rehearsal. The key table's
# created/erased times (shared/personal.py), the sealed ledger's key rotations (shared/chain.py)
# and the chain heads witnessed (shared/witness.py) are records of when, like event timestamps: real.
ALLOWED = {"shared/clock.py", "shared/personal.py", "shared/chain.py", "shared/witness.py"}
READS_THE_TIME = re.compile(r"datetime\.now\(|date\.today\(|\bClock\(\)|utcnow\(")


def test_services_and_shared_read_the_time_only_through_a_clock() -> None:
    found = []
    for folder in ("services", "shared"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in ALLOWED:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if READS_THE_TIME.search(line):
                    found.append(f"{name}:{number}: {line.strip()}")
    assert found == []
