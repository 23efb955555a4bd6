"""The whole system started for a benchmark, as ``./run`` starts it: one process per
service plus the mail sink, on SQLite, with its own RabbitMQ virtual host, its own
temporary data folder and free ports (gateway, SMTP sink, an ops port per process). It is
stopped, and its virtual host and folder removed, however the benchmark ends.

The lead and other people get API tokens the way an operator's
``sanctuary add-account`` makes them: directly in the accounts store.
"""

from __future__ import annotations

import os
import resource
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from bench.common import RESULTS, vhost
from sanctuary.launch import ORDER, SINK, System, free_port, free_port_range
from services.accounts.application import email_key
from services.accounts.bootstrap import CLI_ACTOR, open_accounts
from services.accounts.domain import Account
from shared.config import Settings
from shared.errors import Conflict
from shared.ops import broker_readiness

LEAD_EMAIL = "lead@bench.example.org"


def stack_env(amqp_uri: str, data_dir: Path) -> dict[str, str]:
    return {
        "SANCTUARY_STORE": "sqlite",
        "SANCTUARY_AMQP_URI": amqp_uri,
        "SANCTUARY_DATA_DIR": str(data_dir),
        "SANCTUARY_GATEWAY_ADDRESS": f"127.0.0.1:{free_port()}",
        "SANCTUARY_SMTP_HOST": "127.0.0.1",
        "SANCTUARY_SMTP_PORT": str(free_port()),
        "SANCTUARY_SMTP_SECURITY": "none",
        "SANCTUARY_OPS_BASE_PORT": str(free_port_range(len(ORDER))),
        "SANCTUARY_TRUSTED_PROXIES": "127.0.0.1",  # bench.sign_in: each request a client of its own
    }


class Stack:
    """A running system (see ``started``). ``cold_start`` holds how long it took."""

    def __init__(self, amqp_uri: str, data_dir: Path) -> None:
        self.env = stack_env(amqp_uri, data_dir)
        self.settings = Settings.from_env(self.env)
        self.system = System(self.settings, env=self.env)
        self.cold_start: dict[str, float] = {}
        self._lead: str | None = None
        self._lead_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.system.base_url

    # -- starting -------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> dict[str, float]:
        """Start the system as ``sanctuary up`` does (every queue declared once, then each process
        spawned, each importing only its own service), wait for the gateway's /health (every
        service answers RPC), then for every process's ops /health/ready (broker, store, relay).
        Returns seconds from the start to each."""
        started = time.perf_counter()
        self.system.start(timeout)  # returns once the gateway's /health answers 200
        health = time.perf_counter() - started
        ready = {name: self.system.ops_address(name) for name in ORDER}
        self._wait(lambda: all(self._ok(f"http://{a}/health/ready") for a in ready.values()),
                   timeout, "every /health/ready")
        self.cold_start = {"health_s": health, "ready_s": time.perf_counter() - started}
        return self.cold_start

    def _wait(self, probe: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not probe():
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}; "
                                   f"logs in {self.system.log_dir}")
            time.sleep(0.05)

    @staticmethod
    def _ok(url: str) -> bool:
        try:
            return requests.get(url, timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def _check_alive(self) -> None:
        for name, process in self.system.processes.items():
            if process.poll() is not None:
                tail = self.system.log_path(name).read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the {name} process exited ({process.returncode}):\n{tail}")

    def stop(self) -> None:
        self.system.stop()

    # -- the processes ----------------------------------------------------------------

    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.system.processes.items() if p.poll() is None}

    def rss_mb(self) -> dict[str, float]:
        """Resident memory of each process of the stack (VmRSS), in MiB."""
        found = {}
        for name, pid in self.pids().items():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        found[name] = int(line.split()[1]) / 1024
            except OSError:
                continue
        return found

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each process of the stack has used so far."""
        found = {name: cpu_of(pid) for name, pid in self.pids().items()}
        return {name: seconds for name, seconds in found.items() if seconds is not None}

    def machine_cpu_seconds(self) -> dict[str, float]:
        """``cpu_seconds``, with the broker's node (all of it: on a quiet machine only this stack
        uses it) and this process (a benchmark's load client) beside them: where a CPU-bound
        figure's machine went."""
        found = self.cpu_seconds()
        broker = listener_pid(urlsplit(self.env["SANCTUARY_AMQP_URI"]).port or 5672)
        if broker is not None and (seconds := cpu_of(broker)) is not None:
            found["rabbitmq"] = seconds
        usage = resource.getrusage(resource.RUSAGE_SELF)
        found["load client"] = usage.ru_utime + usage.ru_stime
        return found

    def keep_logs(self, why: str) -> Path:
        """Copy the processes' logs out of the temporary folder (which goes at the end)."""
        kept = RESULTS / "logs" / f"{time.strftime('%Y%m%dT%H%M%S')}-{why}"
        shutil.copytree(self.system.log_dir, kept, dirs_exist_ok=True)
        print(f"bench: the stack's logs are kept in {kept}")
        return kept

    def store_path(self, service: str) -> Path:
        return self.settings.data_dir / f"{service}.sqlite"

    # -- people and HTTP ----------------------------------------------------------------

    @contextmanager
    def _store_environ(self) -> Iterator[None]:
        """What the in-process accounts store reads besides its Settings."""
        values = {k: v for k, v in self.env.items() if k.startswith("SANCTUARY_")}
        saved = {k: os.environ.get(k) for k in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def add_accounts(self, people: list[tuple[str, str, list[dict]]]) -> list[tuple[str, str]]:
        """Create each (email, name, grants) account with an API token, opening the
        accounts store once, as ``sanctuary add-account`` does one at a time.
        Returns (account id, token) for each."""
        made = []
        with self._store_environ():
            accounts = open_accounts(self.settings)
            try:
                for email, name, grants in people:
                    try:
                        view = accounts.invite(None, email, name, grants, actor=CLI_ACTOR)
                    except Conflict:
                        view = accounts.view(accounts.repository.get(Account.create_id(email_key(email))))
                    principal = accounts.principal(accounts.repository.get(uuid.UUID(hex=view["id"])))
                    made.append((view["id"], accounts.issue_token(principal, "bench")["token"]))
            finally:
                accounts.close()
        return made

    @property
    def lead(self) -> str:
        """The lead's API token."""
        with self._lead_lock:  # threads may ask at once; make one
            if self._lead is None:
                [(_, self._lead)] = self.add_accounts([(LEAD_EMAIL, "Lee Lead (bench)",
                                                        [{"role": "lead"}])])
        return self._lead

    def session(self, token: str | None = None) -> requests.Session:
        """An HTTP session with a bearer token (the lead's by default) and kept-alive connections."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token or self.lead}"
        return session

    def url(self, path: str) -> str:
        return self.base_url + path


def cpu_of(pid: int) -> float | None:
    """CPU seconds (user + system) the process has used, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def listener_pid(port: int) -> int | None:
    """The process listening on TCP ``port`` on this machine (the broker), through /proc: the
    listening socket's inode, then the process holding it. None if not found (not ours to see)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                    inodes.add(f"socket:[{fields[9]}]")
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        with suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in fd_dir.iterdir()):
                return int(fd_dir.parent.name)
    return None


@contextmanager
def started(label: str = "bench", attempts: int = 5) -> Iterator[Stack]:
    """A running stack on a fresh virtual host and folder; stopped and removed afterwards.

    The broker is shared with other people's test runs, some of which stop it for a
    while: a start that fails waits for the broker and tries again on a fresh folder
    and virtual host (``cold_start["attempt"]`` says which attempt counted)."""
    for attempt in range(1, attempts + 1):
        with ExitStack() as cleanup:
            amqp_uri = cleanup.enter_context(vhost(label))
            data_dir = Path(tempfile.mkdtemp(prefix=f"sanctuary-{label}-"))
            cleanup.callback(shutil.rmtree, data_dir, ignore_errors=True)
            stack = Stack(amqp_uri, data_dir)
            cleanup.callback(stack.stop)
            try:
                stack.start()
            except RuntimeError:
                if attempt == attempts:
                    print(log_tails(stack))
                    raise
                print(f"bench: the stack did not start (attempt {attempt}); waiting for the broker")
                stack.stop()
                wait_for_broker(amqp_uri)
                continue
            stack.cold_start["attempt"] = attempt
            try:
                yield stack
            except BaseException:
                stack.keep_logs("failed")
                raise
            return


def wait_for_broker(amqp_uri: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker_readiness(amqp_uri) is None:
            return
        time.sleep(2)


def log_tails(stack: Stack, chars: int = 2000) -> str:
    parts = []
    for name in (*ORDER, SINK):
        path = stack.system.log_path(name)
        text = path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"
        parts.append(f"----- {name} -----\n{text}")
    return "\n".join(parts)


@contextmanager
def maybe_started(stack: Stack | None, label: str) -> Iterator[Stack]:
    """The stack given, or one of our own for a benchmark run alone."""
    if stack is not None:
        yield stack
        return
    with started(label) as own:
        yield own
