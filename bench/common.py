"""What every benchmark shares: a figure with its reference and aim, percentiles,
a RabbitMQ virtual host of its own, the machine it ran on, the table and the JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from shared.config import ROOT

RABBIT_API = os.environ.get("SANCTUARY_BENCH_RABBIT_API", "http://127.0.0.1:15672/api")
RABBIT_AUTH = ("guest", "guest")
RESULTS = ROOT / "bench" / "results"


@dataclass
class Figure:
    """One measured figure, side by side with its reference measured in the same run.

    ``aim`` is a target stated in the issue, ``met`` whether this run reached it (None:
    no aim). Nothing here is an assertion: a missed aim is reported, never raised."""

    name: str
    value: float
    unit: str
    reference: float | None = None
    reference_name: str = ""
    aim: str = ""
    met: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.value / self.reference if self.reference else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (inclusive method, so p99 of few samples is not extrapolated)."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(p * 10) - 1]


def summary(values: list[float]) -> dict[str, float]:
    """p50, p99, max and count of a list of latencies (any unit)."""
    return {"p50": pct(values, 50), "p99": pct(values, 99),
            "max": max(values) if values else float("nan"), "samples": len(values)}


# -- RabbitMQ --------------------------------------------------------------------------


@contextmanager
def vhost(prefix: str = "bench") -> Iterator[str]:
    """A fresh RabbitMQ virtual host; yields its AMQP URI and deletes it afterwards.

    The broker is shared with other people's test runs, some of which stop it for a
    while, so each call to its management API waits for it (up to three minutes)."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    _management("PUT", f"vhosts/{name}")
    try:
        _management("PUT", f"permissions/{name}/guest",
                    json={"configure": ".*", "write": ".*", "read": ".*"})
        yield f"amqp://guest:guest@127.0.0.1:5672/{name}"
    finally:
        try:
            _management("DELETE", f"vhosts/{name}")
        except (requests.RequestException, TimeoutError) as error:
            print(f"bench: could not delete the virtual host {name}: {error}")


def _management(method: str, path: str, timeout: float = 180.0, **kwargs: Any) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = requests.request(method, f"{RABBIT_API}/{path}", auth=RABBIT_AUTH, timeout=30,
                                        **kwargs)
            if response.status_code < 500:
                response.raise_for_status()
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the RabbitMQ management API did not take {method} {path}")
        time.sleep(2)


# -- the machine -----------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpuinfo("model name"),
        "ram_mb": _meminfo_mb("MemTotal"),
        "python": platform.python_version(),
        "rabbitmq": _rabbitmq_version(),
        "store": "sqlite",
        "load_average_at_start": list(os.getloadavg()),
    }


def _cpuinfo(key: str) -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _meminfo_mb(key: str) -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def _rabbitmq_version() -> str:
    try:
        overview = requests.get(f"{RABBIT_API}/overview", auth=RABBIT_AUTH, timeout=5).json()
        return overview.get("rabbitmq_version", "unknown")
    except (requests.RequestException, ValueError):
        return "unknown"


# -- reporting -------------------------------------------------------------------------


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if value != value:  # NaN
        return "n/a"
    if float(value).is_integer() and abs(value) < 100:
        text = f"{value:.0f}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3f}"
    return f"{text} {unit}".rstrip()


def table(figures: list[Figure]) -> str:
    rows = [("figure", "value", "reference", "ratio", "aim", "met?")]
    for f in figures:
        reference = f"{number(f.reference, f.unit)} ({f.reference_name})" if f.reference is not None \
            else "-"
        met = "-" if f.met is None else ("yes" if f.met else "NO")
        rows.append((f.name, number(f.value, f.unit), reference,
                     "-" if f.ratio is None else f"{f.ratio:.2f}", f.aim or "-", met))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def write_results(name: str, figures: list[Figure], extra: dict[str, Any] | None = None) -> Path:
    """``bench/results/<name>.json``: the machine, the date and every figure."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    body = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": machine(),
            **(extra or {}), "figures": [f.to_dict() for f in figures]}
    path.write_text(json.dumps(body, indent=2, default=str) + "\n")
    return path


def report(name: str, figures: list[Figure], extra: dict[str, Any] | None = None) -> None:
    """Print the table and write the JSON: what each module does when run alone."""
    print(table(figures))
    print(f"written {write_results(name, figures, extra).relative_to(ROOT)}")


def run_alone(name: str, doc: str, measure: Callable[..., list[Figure]],
              **options: type | tuple[type, str]) -> None:
    """A benchmark module's ``main``: ``--quick`` and its own size options (a type, or a type
    and its help), then ``measure`` with them and the report written as ``<name>.json``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    for option, kind in options.items():
        kind, text = kind if isinstance(kind, tuple) else (kind, None)
        parser.add_argument(f"--{option}", type=kind, help=text)
    args = vars(parser.parse_args())
    report(name, measure(**args))
