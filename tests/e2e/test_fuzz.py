"""Schemathesis fuzzes every route described by /openapi.json, as a signed-in lead
and anonymously, against the running system: no request may produce a 5xx.

It runs the schemathesis command in a child process (it brings its own event
loop and threads, which do not mix with this eventlet-patched test process).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import E2ESystem

ST = str(Path(sys.executable).with_name("st"))


def fuzz(system: E2ESystem, *headers: str, examples: int = 15) -> subprocess.CompletedProcess:
    args = [ST, "run", f"{system.base_url}/openapi.json", "--checks", "not_a_server_error",
            "-n", str(examples), "--generation-deterministic", "--request-timeout", "15",
            "--phases", "examples,coverage,fuzzing", "--no-color"]
    for header in headers:
        args += ["-H", header]
    return subprocess.run(args, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("who", ["lead", "anonymous"])
def test_no_generated_request_makes_a_server_error(system: E2ESystem, who: str) -> None:
    headers = [f"Authorization: Bearer {system.lead.token}"] if who == "lead" else []
    result = fuzz(system, *headers)
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    cases = re.search(r"Test cases:\s*\n\s*(.+)", result.stdout)
    assert cases, report
    generated = re.match(r"(\d+) generated, (\d+) passed", cases.group(1))
    assert generated and generated.group(1) == generated.group(2) != "0", report
