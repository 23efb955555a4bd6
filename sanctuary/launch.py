"""Starting and stopping the whole system as separate processes, one per service."""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from sanctuary.services import ORDER
from shared.clock import ANCHOR, START
from shared.config import Settings
from shared.mail import SmtpSettings

SINK = "mail-sink"
OPS_BASE_PORT = 9401  # each process serves /metrics and /health/* on base + its place in ORDER


def free_port() -> int:
    """A port the OS says is free now (for a system's gateway or mail sink)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_range(count: int) -> int:
    """The first of ``count`` consecutive free ports (for ``SANCTUARY_OPS_BASE_PORT``), below
    the ephemeral ports ``free_port`` hands out, so the two never collide."""
    for _ in range(200):
        base = random.randrange(10000, 30000)
        try:
            for offset in range(count):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                    sock.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        return base
    raise RuntimeError(f"no {count} consecutive free ports")


def _die_with_parent() -> None:
    """Linux: SIGTERM this child if the launcher dies, even by SIGKILL, so no
    service is ever left running on its own."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class System:
    def __init__(self, settings: Settings, env: dict | None = None) -> None:
        self.settings = settings
        self.env = {**os.environ, **(env or {})}
        self.processes: dict[str, subprocess.Popen] = {}
        self.log_dir = settings.data_dir / "logs"
        self._anchor_given = bool(self.env.get(ANCHOR, "").strip())

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.gateway_address}"

    def start(self, timeout: float = 90.0, mail_sink: bool = True) -> None:
        """Start every service; with ``mail_sink``, a local SMTP server that keeps
        all mail under ``<data>/mail`` (nothing leaves the machine)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._anchor_clock()
        if mail_sink:
            self.start_sink()
        for name in ORDER:
            self.start_service(name)
        self.wait_healthy(timeout)

    def _anchor_clock(self) -> None:
        """A rehearsal's clock reads SANCTUARY_CLOCK_START now, in every process started."""
        if self.env.get(START, "").strip() and not self._anchor_given:
            self.env[ANCHOR] = dt.datetime.now(dt.UTC).isoformat()

    def start_service(self, name: str) -> None:
        self._spawn(name, ["-m", "sanctuary.cli", "serve", name],
                    {"SANCTUARY_OPS_ADDRESS": self.ops_address(name)})

    def ops_address(self, name: str) -> str:
        """Where a service serves its metrics and health (``SANCTUARY_OPS_BASE_PORT`` moves them)."""
        base = int(self.env.get("SANCTUARY_OPS_BASE_PORT", OPS_BASE_PORT))
        return f"127.0.0.1:{base + ORDER.index(name)}"

    def start_sink(self) -> None:
        port = SmtpSettings.from_env(self.env).port
        self._spawn(SINK, ["-m", "sanctuary.mail_sink", "--folder", str(self.mail_dir), "--port", str(port)])

    @property
    def mail_dir(self) -> Path:
        return self.settings.data_dir / "mail"

    def _spawn(self, name: str, args: list[str], env: dict | None = None) -> None:
        log = open(self.log_path(name), "ab")  # noqa: SIM115 - the child keeps writing to it
        self.processes[name] = subprocess.Popen(
            [sys.executable, *args],
            env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
            preexec_fn=_die_with_parent,
        )
        log.close()

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if requests.get(f"{self.base_url}/health", timeout=3).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the system was not healthy after {timeout:.0f}s; "
                           f"see the logs in {self.log_dir}")

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = self.log_path(name).read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the {name} service exited ({process.returncode}):\n{tail}")

    def watch(self) -> None:
        """Block until Ctrl-C, SIGTERM or a service dying."""
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while True:
            self._check_alive()
            time.sleep(0.5)

    def kill(self, name: str) -> None:
        """SIGKILL one service (fault tests)."""
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def stop(self, timeout: float = 15.0) -> None:
        for name in (*reversed(ORDER), SINK):
            process = self.processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
