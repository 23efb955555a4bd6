"""Memory of the whole stack idle and under load, and its cold start time.

    .venv/bin/python -m bench.footprint [--quick]

- cold start: from spawning the stack's processes (one per service in
  ``sanctuary.launch.ORDER`` and the mail sink, on an empty data folder and a
  fresh virtual host) to the gateway's
  ``/health`` answering 200 and then every process's ops ``/health/ready``
  answering 200 (broker reachable, store answering, relay turning), started as
  ``sanctuary up`` starts it (the queues declared once by the launcher, so each
  service imports only its own). Reference: as many interpreters started in
  parallel doing only what a service does before it starts its container
  (monkey-patch, import its own service, read the authority file), then
  exiting: the import floor.
- memory: the sum of VmRSS (``/proc/<pid>/status``) over those processes, idle
  (a few seconds after start-up and after each benchmark that ran before) and
  the peak sampled every 0.25 s under load (the gateway throughput run, and
  the deadline-day surge in the full suite). Reference: the import floor's
  RSS, summed the same way.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from bench.common import Figure, run_alone
from bench.stack import Stack, maybe_started
from sanctuary.launch import ORDER
from shared.config import ROOT

SETTLE_S = 3.0
# what sanctuary.cli._serve does before it starts a container, then report VmRSS
FLOOR = """
import warnings; warnings.filterwarnings("ignore")
import eventlet; eventlet.monkey_patch()
import sys
from sanctuary.services import service_class
from shared.authority import load_authority
from shared.config import Settings
service_class(sys.argv[1])
load_authority(Settings.from_env().authority_file)
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmRSS:")))
"""
SINK_FLOOR = """
import sanctuary.mail_sink
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmRSS:")))
"""


def import_floor(runs: int = 2) -> dict[str, float]:
    """Seconds for one interpreter per service and one for the sink, started in
    parallel, to import what they need and exit (the best of ``runs``, since other
    work on the machine only ever slows it); and their RSS summed (MiB)."""
    found = [_import_floor_once() for _ in range(runs)]
    return min(found, key=lambda f: f["seconds"])


def _import_floor_once() -> dict[str, float]:
    started = time.perf_counter()
    commands = [["-c", FLOOR, name] for name in ORDER] + [["-c", SINK_FLOOR]]
    children = [subprocess.Popen([sys.executable, *command], cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True) for command in commands]
    kib = [int(child.communicate(timeout=120)[0].strip() or 0) for child in children]
    return {"seconds": time.perf_counter() - started, "rss_mb": sum(kib) / 1024}


class Sampler:
    """Samples the stack's total RSS in a thread while a load runs; keeps the peak."""

    def __init__(self, stack: Stack, every: float = 0.25) -> None:
        self.stack, self.every = stack, every
        self.peak: dict[str, float] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self.stack.rss_mb()
            if sum(now.values()) > sum(self.peak.values()):
                self.peak = now
            self.samples += 1
            self._stop.wait(self.every)

    @property
    def total(self) -> float:
        return sum(self.peak.values())


def cold_start(stack: Stack, floor: dict[str, float]) -> list[Figure]:
    times = stack.cold_start
    return [
        Figure("cold start: spawn to /health 200", times["health_s"], "s", floor["seconds"],
               "import floor", detail=times),
        Figure("cold start: spawn to every /health/ready", times["ready_s"], "s", floor["seconds"],
               "import floor", detail=times),
    ]


def idle(stack: Stack, floor: dict[str, float], label: str = "idle") -> Figure:
    time.sleep(SETTLE_S)
    now = stack.rss_mb()
    return Figure(f"memory, whole stack {label}", sum(now.values()), "MiB", floor["rss_mb"],
                  "import floor", detail={"per_process_mb": now})


def under_load(sampler: Sampler, idle_mb: float, what: str) -> Figure:
    return Figure(f"memory, whole stack under {what} (peak)", sampler.total, "MiB", idle_mb,
                  "stack idle", detail={"per_process_mb": sampler.peak, "samples": sampler.samples})


def measure(stack: Stack | None = None, quick: bool = False) -> list[Figure]:
    """Alone: a stack of its own (so the cold start is measured), idle, then the
    gateway throughput load as the load."""
    from bench import gateway

    floor = import_floor()
    with maybe_started(stack, "bench-footprint") as stack:
        figures = cold_start(stack, floor)
        resting = idle(stack, floor)
        with Sampler(stack) as sampler:
            gateway.measure(stack, quick)
        return [*figures, resting, under_load(sampler, resting.value, "gateway load"),
                idle(stack, floor, "after load")]


def main() -> None:
    run_alone("footprint", __doc__, measure)


if __name__ == "__main__":
    main()
