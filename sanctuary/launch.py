"""Starting and stopping the whole system as separate processes, one per service.

Once up, ``watch`` supervises: a service (or the mail sink) that exits is logged and
started again after a pause that doubles with each restart in a row (1 s up to 30 s),
and is forgotten once the service has stayed up for a minute; one service dying no
longer takes the whole system down.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import ipaddress
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from sanctuary.services import ORDER, SERVICES, TOPOLOGY_DECLARED, service_class
from shared.clock import ANCHOR, START
from shared.config import Settings
from shared.mail import SmtpSettings

SINK = "mail-sink"
OPS_BASE_PORT = 9401  # each process serves /metrics and /health/* on base + its place in ORDER
FIRST_PAUSE = 1.0  # seconds before starting a service that exited; doubled for each restart in a row
LONGEST_PAUSE = 30.0
STABLE_AFTER = 60.0  # seconds up after which a service's restarts in a row are forgotten
STOP_WITHIN = 8.0  # seconds from Ctrl-C or SIGTERM until every process has stopped (killed if need be)
NO_GREEN_DNS = "EVENTLET_NO_GREENDNS"  # eventlet's own switch for its green resolver

log = logging.getLogger(__name__)


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
    service is ever left running on its own. (The kernel ties this to the spawning
    OS thread: spawn from one that lives as long as the system, as ``up``'s main
    thread and the tests' green threads do, or the child is stopped when it ends.)"""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Restarts:
    """One service's restarts in a row, and when it may next be started."""

    in_a_row: int = 0
    started_at: float = 0.0
    due_at: float | None = None  # set while the service is down, waiting for its pause to end

    def pause(self) -> float:
        return min(FIRST_PAUSE * 2 ** self.in_a_row, LONGEST_PAUSE)


def resolves_no_names(settings: Settings, env: dict) -> bool:
    """Whether every host the services connect to (the broker, PostgreSQL, the mail server) is
    an address, localhost or a socket path: then eventlet's green resolver has nothing to look
    up, and the services start without it (importing it, with dnspython, is about 0.13 s of a
    service's 0.7 s of start-up CPU). A name another machine must answer for keeps it: the
    plain resolver would stall the whole process while it waits."""
    try:
        smtp = SmtpSettings.from_env(env).host
    except ValueError:  # the services say what is wrong with it
        return False
    brokers = [urlsplit(uri.strip()).hostname for uri in settings.amqp_uri.split(";")]
    databases = [value for key, value in env.items() if key.endswith("POSTGRES_HOST")]
    return all(_local(host) for host in [*brokers, smtp, *databases])


def _local(host: str | None) -> bool:
    if not host or host == "localhost" or host.startswith("/"):
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class System:
    def __init__(self, settings: Settings, env: dict | None = None) -> None:
        self.settings = settings
        self.env = {**os.environ, **(env or {})}
        if resolves_no_names(settings, self.env):
            self.env.setdefault(NO_GREEN_DNS, "yes")
        self.processes: dict[str, subprocess.Popen] = {}
        self.log_dir = settings.data_dir / "logs"
        self._anchor_given = bool(self.env.get(ANCHOR, "").strip())
        self.restarts: dict[str, Restarts] = {}
        self._stopping = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.gateway_address}"

    def start(self, timeout: float = 90.0, mail_sink: bool = True) -> None:
        """Start every service; with ``mail_sink``, a local SMTP server that keeps
        all mail under ``<data>/mail`` (nothing leaves the machine)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._anchor_clock()
        self._declare_topology()
        if mail_sink:
            self.start_sink()
        for name in ORDER:
            self.start_service(name)
        self.wait_healthy(timeout)

    def _declare_topology(self) -> None:
        """Every service's queues declared here, once per start, so that each service imports only
        its own class rather than all seven to declare them (most of a service's start: about
        0.8 s of CPU each). A broker that does not answer at once is left to the services, which
        wait for it and say so in their logs, as when they are started on their own."""
        from shared.consumer import declare_topology
        from shared.preflight import check_broker

        self.env.pop(TOPOLOGY_DECLARED, None)
        try:
            check_broker(self.settings.amqp_uri)
            declare_topology(self.settings.amqp_uri, [service_class(name) for name in SERVICES])
        except Exception as error:  # noqa: BLE001 - each service then declares them, as it would alone
            log.warning("the services will declare their queues themselves: %s", error)
            return
        self.env[TOPOLOGY_DECLARED] = self.settings.amqp_uri

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
        self._stopping.clear()
        output = open(self.log_path(name), "ab")  # noqa: SIM115 - the child keeps writing to it
        self.processes[name] = subprocess.Popen(
            [sys.executable, *args],
            env={**self.env, **(env or {})}, stdout=output, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
            preexec_fn=_die_with_parent,
        )
        output.close()
        self.restarts.setdefault(name, Restarts()).started_at = time.monotonic()

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
        """Supervise until Ctrl-C or SIGTERM."""
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        self.supervise(threading.Event())

    def supervise(self, until: threading.Event, every: float = 0.5) -> None:
        """Start again, after a growing pause, every service that exits, until ``until`` is set."""
        while not until.wait(every):
            self.supervise_once()

    def supervise_once(self) -> None:
        now = time.monotonic()
        for name, process in list(self.processes.items()):
            if self._stopping.is_set():
                return
            restarts = self.restarts.setdefault(name, Restarts(started_at=now))
            if process.poll() is None:
                if restarts.in_a_row and now - restarts.started_at > STABLE_AFTER:
                    restarts.in_a_row = 0
                continue
            if restarts.due_at is None:
                restarts.due_at = now + restarts.pause()
                self._note(name, f"the {name} service exited (status {process.returncode}); starting "
                                 f"it again in {restarts.pause():.0f}s (restart {restarts.in_a_row + 1} "
                                 "in a row)")
            elif now >= restarts.due_at:
                restarts.due_at = None
                restarts.in_a_row += 1
                if name == SINK:
                    self.start_sink()
                else:
                    self.start_service(name)
                self._note(name, f"started the {name} service again")

    def _note(self, name: str, what: str) -> None:
        """Say it on the launcher's log and in the service's own, where an operator looks first."""
        log.warning("%s", what)
        with open(self.log_path(name), "a") as service_log:
            service_log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} sanctuary.launch WARNING {what}\n")

    def kill(self, name: str) -> None:
        """SIGKILL one service (fault tests)."""
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def listens_on(self) -> dict[str, str]:
        """Every address the system's processes listen on, by what listens there."""
        found = {"the gateway": self.settings.gateway_address}
        found.update({f"{name}'s ops port": self.ops_address(name) for name in ORDER})
        found["the mail sink"] = f"127.0.0.1:{SmtpSettings.from_env(self.env).port}"
        return found

    def stop(self, timeout: float = STOP_WITHIN) -> None:
        """The gateway first (no new requests), then every other service at once (each takes
        a few seconds to finish its work: one after the other, half a minute), then the sink;
        whatever has not stopped by ``timeout`` seconds from now is killed."""
        self._stopping.set()  # the supervisor starts nothing more
        deadline = time.monotonic() + timeout
        services = [name for name in reversed(ORDER) if name != "gateway"]
        # each group stopped by its share of the time: the gateway by a quarter, the services
        # (which need the most) by 85%, the sink by the end
        for group, share in ((["gateway"], 0.25), (services, 0.85), ([SINK], 1.0)):
            running = [p for p in (self.processes.pop(name, None) for name in group)
                       if p is not None and p.poll() is None]
            for process in running:
                process.send_signal(signal.SIGTERM)
            until = deadline - timeout * (1 - share)
            for process in running:
                try:
                    process.wait(max(0.1, until - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
