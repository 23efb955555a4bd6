"""The mail sink as its own process, for tests: ``from tests.integration.mail_fixtures import mail_sink``.

A process, not a thread: this test process is monkey-patched by eventlet, and
aiosmtpd's asyncio loop does not belong in a green thread.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from sanctuary.launch import free_port
from sanctuary.mail_sink import read_folder
from shared.config import ROOT
from shared.mail import SmtpSettings


class SinkProcess:
    def __init__(self, folder: Path, port: int | None = None, fail_first: int = 0) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.fail_first = fail_first
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 15.0) -> None:
        """Start the sink and wait until its port accepts connections."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sanctuary.mail_sink", "--folder", str(self.folder),
             "--port", str(self.port), "--fail-first", str(self.fail_first)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mail sink exited: {self.process.stdout.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"mail sink not listening on port {self.port} after {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        if self.process is not None:
            self.process.stdout.close()
        self.process = None

    def settings(self, **changes: object) -> SmtpSettings:
        return SmtpSettings(**{"host": "127.0.0.1", "port": self.port, "security": "none",
                               "username": None, "password": None, "timeout": 5.0, **changes})

    def messages(self) -> list[EmailMessage]:
        return read_folder(self.folder)


@pytest.fixture
def mail_sink(tmp_path: Path) -> SinkProcess:
    """A running sink keeping mail in a fresh folder; stopped afterwards."""
    sink = SinkProcess(tmp_path / "mail")
    sink.start()
    yield sink
    sink.stop()
