"""Every benchmark in turn, one table, one JSON file.

    .venv/bin/python -m bench [--quick]

In process first (relay, replay, accounts), then one stack of processes started for the
rest, so its cold start is measured: memory idle, end-to-end latency at idle,
gateway throughput (memory sampled under it), the deadline-day surge (memory
sampled under it), memory after. Prints the table (figure, value, reference,
ratio, aim, met?) and writes ``bench/results/latest.json`` with the machine,
the date and every figure. A missed aim is reported, never raised; the exit
status is 1 only when a benchmark could not run at all.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable

from bench import accounts, deadline_day, footprint, gateway, latency, relay, replay, sign_in
from bench.common import Figure, table, write_results
from bench.footprint import Sampler
from bench.stack import Stack, started
from shared.config import ROOT


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: the whole suite in about a minute (a smoke run)")
    quick = parser.parse_args().quick
    began = time.perf_counter()
    failed: list[str] = []
    figures = run_all(quick, failed)
    print()
    print(table(figures))
    path = write_results("latest", figures, {"quick": quick, "seconds": time.perf_counter() - began,
                                             "failed": failed})
    print(f"\nwritten {path.relative_to(ROOT)} in {time.perf_counter() - began:.0f} s"
          + (f"; could not run: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def run_all(quick: bool, failed: list[str]) -> list[Figure]:
    def section(name: str, measure: Callable[[], list[Figure]]) -> list[Figure]:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        try:
            return measure()
        except Exception as error:  # noqa: BLE001 - report it and go on with the rest
            traceback.print_exc()
            failed.append(name)
            return [Figure(f"{name}: did not run", float("nan"), "", met=False,
                           detail={"error": repr(error)})]

    figures = section("relay", lambda: relay.measure(quick))
    figures += section("replay", lambda: replay.measure(quick))
    figures += section("accounts", lambda: accounts.measure(quick))
    floor = footprint.import_floor()
    try:
        with started("bench") as stack:
            figures += on_stack(stack, quick, floor, section)
    except Exception as error:  # noqa: BLE001 - the stack never started
        traceback.print_exc()
        failed.append("stack")
        figures.append(Figure("stack: did not start", float("nan"), "", met=False,
                              detail={"error": repr(error)}))
    return figures


def on_stack(stack: Stack, quick: bool, floor: dict, outer: Callable) -> list[Figure]:
    def section(name: str, measure: Callable[[], list[Figure]]) -> list[Figure]:
        figures = outer(name, measure)
        if figures and figures[-1].name == f"{name}: did not run":
            figures[-1].detail["logs"] = str(stack.keep_logs(name.replace(" ", "-")))
        return figures

    memory = footprint.cold_start(stack, floor)
    resting = footprint.idle(stack, floor)
    memory.append(resting)
    figures = section("latency", lambda: latency.measure(stack, quick))
    figures += section("sign-in", lambda: sign_in.measure(stack, quick))
    with Sampler(stack) as under_gateway:
        figures += section("gateway", lambda: gateway.measure(stack, quick))
    memory.append(footprint.under_load(under_gateway, resting.value, "gateway load"))
    with Sampler(stack) as under_surge:
        surge = section("deadline day", lambda: deadline_day.measure(stack, quick))
    memory.append(footprint.under_load(under_surge, resting.value, "deadline-day surge"))
    memory.append(footprint.idle(stack, floor, "after load"))
    figures = [*figures, *memory, *surge]
    if any(f.name.endswith("errors") and f.value for f in figures):
        stack.keep_logs("errors")  # to find out why, once the stack is gone
    return figures


if __name__ == "__main__":
    sys.exit(main())
