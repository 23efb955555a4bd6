"""``sanctuary up`` run as an operator runs it (``./run``): a second one on the same data folder, or
on ports the first holds, refuses at once with a clear message and changes nothing; SIGTERM or
Ctrl-C stops every process it started within 10 seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from sanctuary.launch import ORDER
from tests.e2e.conftest import system_env, wait_for

pytestmark = pytest.mark.e2e

# How long the test waits for the launcher to exit: only a guard against a hang. The bound the
# launcher keeps (sanctuary.launch.STOP_WITHIN, then SIGKILL) is its own logic, not timed here: on
# a loaded machine the launcher may be scheduled late (no timed assertions in tests).
HANG_AFTER = 120.0


@dataclass
class Up:
    process: subprocess.Popen
    env: dict[str, str]
    data_dir: Path

    @property
    def base_url(self) -> str:
        return f"http://{self.env['SANCTUARY_GATEWAY_ADDRESS']}"

    def children(self) -> list[int]:
        """The processes this ``up`` started (its children, as the kernel lists them)."""
        found = []
        for task in Path(f"/proc/{self.process.pid}/task").glob("*"):
            try:
                found += [int(pid) for pid in (task / "children").read_text().split()]
            except FileNotFoundError:
                pass
        return found


def start_up(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sanctuary.cli", "up", "--no-example"],
                            env={**os.environ, **env}, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, preexec_fn=as_a_background_job)


def as_a_background_job() -> None:
    """Started as a script's ``./run &`` starts it: with SIGINT ignored, which Python then leaves
    ignored unless the launcher sets a handler of its own (without one, Ctrl-C did nothing)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=3).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def up(module_amqp_uri: str, tmp_path: Path) -> Iterator[Up]:
    data_dir = tmp_path / "data"
    env = system_env(module_amqp_uri, data_dir)
    process = start_up(env, tmp_path / "up.log")
    running = Up(process, env, data_dir)
    try:
        wait_for(lambda: healthy(running.base_url) or process.poll() is not None, 180, "sanctuary up")
        assert process.poll() is None, (tmp_path / "up.log").read_text()
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def everything_in(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time."""
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def second_up(env: dict[str, str], tmp_path: Path, *args: str) -> tuple[int, str, float]:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "sanctuary.cli", "up", "--no-example", *args],
                            env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def test_a_second_up_refuses_at_once_and_changes_nothing(up: Up, tmp_path: Path) -> None:
    before = everything_in(up.data_dir)
    children = up.children()
    assert len(children) == len(ORDER) + 1  # every service and the mail sink

    # the same data folder, every port moved elsewhere: the folder's lock refuses it
    moved = system_env(up.env["SANCTUARY_AMQP_URI"], up.data_dir)
    status, said, took = second_up(moved, tmp_path)
    assert status != 0, (status, took, said)  # by itself: second_up's timeout would end a wait
    assert f"the data folder {up.data_dir} is in use by a running `sanctuary up` (pid " \
           f"{up.process.pid})" in said, said

    # another data folder, the same ports: the ports refuse it
    other = tmp_path / "other-data"
    status, said, took = second_up({**up.env, "SANCTUARY_DATA_DIR": str(other)}, tmp_path)
    assert status != 0, (status, took, said)  # by itself: second_up's timeout would end a wait
    assert f"{up.env['SANCTUARY_GATEWAY_ADDRESS']} (the gateway)" in said, said
    assert "already in use" in said
    assert not any(other.rglob("*.log")) and not any(other.rglob("*.sqlite"))  # nothing started

    # the first carries on, untouched: the same processes, the same files (logs may grow)
    assert healthy(up.base_url)
    assert up.children() == children
    assert (up.data_dir / "sanctuary-up.lock").read_text() == f"pid {up.process.pid}\n"
    assert quiet(everything_in(up.data_dir)) == quiet(before)


def test_up_refuses_an_unknown_authority_and_a_folder_of_another(module_amqp_uri: str,
                                                                  tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "authority").write_text("coventry\n")  # as a first `./run` left it
    env = system_env(module_amqp_uri, data_dir)

    status, said, took = second_up(env, tmp_path, "lancashire")
    assert status == 1, (status, took, said)
    assert f"the data folder {data_dir} holds the deployment of coventry, not of Lancashire" in said, said
    status, said, took = second_up(env, tmp_path, "nowhere")
    assert status == 2, (status, took, said)
    assert "no authority 'nowhere': name one of coventry, lancashire" in said, said

    assert sorted(p.name for p in data_dir.iterdir()) == ["authority", "sanctuary-up.lock"]  # nothing started
    assert (data_dir / "authority").read_text() == "coventry\n"


def quiet(files: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """All but what the running system itself writes as it goes: its logs and its stores."""
    return {name: stat for name, stat in files.items() if not name.endswith(".log") and ".sqlite" not in name}


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_stops_every_process(up: Up, how: signal.Signals) -> None:
    children = up.children()
    assert len(children) == len(ORDER) + 1
    sent = time.monotonic()
    up.process.send_signal(how)
    up.process.wait(HANG_AFTER)
    alive = [pid for pid in children if _alive(pid)]
    took = time.monotonic() - sent
    assert alive == [], f"{alive} still running after {took:.1f}s"
    assert up.process.returncode == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a stopped child not yet reaped by its (gone) parent is a zombie: dead
    return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
