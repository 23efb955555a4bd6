"""The README's settings table lists every SANCTUARY_* setting the code reads, and only those (the
code's reads found as tests/ops/test_systemd_units.py finds them for the server's environment file)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.ops.test_systemd_units import code_reads

README = Path(__file__).resolve().parents[2] / "README.md"


def settings_table() -> set[str]:
    """The variables named in the first column of the table under "## Settings"."""
    text = README.read_text()
    section = text[text.index("\n## Settings\n"):]
    section = section[:section.index("\n#", 1)]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows, "no settings table under ## Settings"
    return {name for row in rows for name in re.findall(r"`(SANCTUARY_[A-Z0-9_]+)`", row.split("|")[1])}


def test_every_setting_the_code_reads_is_in_the_readme() -> None:
    assert sorted(code_reads() - settings_table()) == []


def test_the_readme_lists_no_setting_the_code_does_not_read() -> None:
    listed = settings_table()
    assert {"SANCTUARY_STORE", "SANCTUARY_SMTP_PASSWORD_FILE", "SANCTUARY_POSTGRES_POOL_SIZE"} <= listed
    assert sorted(listed - code_reads()) == []
