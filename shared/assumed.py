"""What an authority's file marks as assumed, still to be confirmed with the authority.

A value the seeds did not give (term dates, criteria wording, a date kept as published
though its weekday is wrong) is marked in the file by a ``[[to_confirm]]`` entry naming it
by its place in the file, with a note saying why and with whom to check it::

    [[to_confirm]]
    value = "cycles.2026-27.draft_deadline"
    note = "The seed says Friday 25th March 2027, but 25 March 2027 is a Thursday."

A place is a dotted path of keys; in a list of tables (terms, cycles, criteria sets, CPD
items), a part picks the entries whose school year, code, version or name it is. The lead
confirms a value by removing its entry from the file. Criteria wording keeps its own
marking (``wording_confirmed = false``), listed here too. Plain Python, no I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

# the keys that name an entry in a list of tables, in the order they are tried
NAMING_KEYS = ("school_year", "code", "version", "name", "date")


@dataclass(frozen=True)
class ToConfirm:
    value: str  # its place in the file, e.g. "cycles.2026-27.draft_deadline"
    note: str  # why it is assumed, and with whom to check it
    shown: str  # the value as the file has it now, in words


def find(data: dict, place: str) -> list[Any]:
    """The values at ``place`` in the file's data (an empty list: there is nothing there)."""
    found: list[Any] = [data]
    for part in place.split("."):
        found = [value for holder in found for value in _step(holder, part)]
    return found


def _step(holder: Any, part: str) -> list[Any]:
    if isinstance(holder, dict):
        return [holder[part]] if part in holder else []
    if isinstance(holder, list):
        for key in NAMING_KEYS:
            named = [item for item in holder if isinstance(item, dict) and _text(item.get(key)) == part]
            if named:
                return named
    return []


def _text(value: Any) -> str | None:
    return None if value is None else value.isoformat() if isinstance(value, dt.date) else str(value)


def in_words(value: Any) -> str:
    """A value from the file as the lead reads it: dates with their weekday, a term as its span."""
    if isinstance(value, dt.date):
        return f"{value:%A} {value.day} {value:%B %Y}"
    if isinstance(value, list):
        return "; ".join(in_words(item) for item in value)
    if isinstance(value, dict):
        if {"start", "end"} <= value.keys():
            label = value.get("name") or value.get("code") or ""
            return f"{label}: {in_words(value['start'])} to {in_words(value['end'])}".lstrip(": ")
        label = next((value[k] for k in ("title", "code", "name") if k in value), None)
        return str(label) if label is not None else ", ".join(f"{k} {in_words(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def marked(data: dict) -> tuple[ToConfirm, ...]:
    """Every value the file marks as assumed, each shown as the file has it now."""
    explicit = tuple(ToConfirm(entry["value"], entry["note"], in_words(_one(find(data, entry["value"]))))
                     for entry in data.get("to_confirm", []))
    wording = tuple(
        ToConfirm(f"criteria_sets.{item['version']}", "The wording of the criteria is assumed. Check it "
                  "with the local lead, then set wording_confirmed = true for this set.",
                  "; ".join(f"{c['code']}: {c['title']}" for c in item["criteria"]))
        for item in data["criteria_sets"] if not item.get("wording_confirmed"))
    return explicit + wording


def _one(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def unknown_places(entries: list[dict], data: dict) -> dict:
    """For the file's cross-check: each ``[[to_confirm]]`` entry naming nothing in the file."""
    return {index: {"value": [f"Nothing in this file is at {entry['value']!r}: name a key, e.g. "
                              "cycles.2026-27.draft_deadline or terms.2026-27."]}
            for index, entry in enumerate(entries) if not find(data, entry["value"])}
