"""What an application keeps about people, kept as personal values. Plain Python.

Names (visit attendees, an action's owner) are each their own subject within the
school (erased with that person: name and URN); free text that may be about
people (visit notes, why an extension was granted, why an application was
withdrawn) is the school's free text, as in the pledges and library services.
Events stored before held these in clear: their upcasters give them the same
shape, so the code reads one shape (the stored bytes never change).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.personal import Personal, subject_for_name

FREE_TEXT = "free text"  # the subject scope for free text about a school (as in pledges)


def named(urn: str, name: str | Personal | None) -> Personal | None:
    """A person's name, said at school ``urn``."""
    if name is None or isinstance(name, Personal):
        return name
    return Personal(subject_for_name(urn, name), name, label=f"named at school {urn}")


def free_text(urn: str, text: str | Personal) -> Personal:
    """Free text about the school and its people."""
    if isinstance(text, Personal):
        return text
    return Personal(subject_for_name(urn, FREE_TEXT), text, label=f"free text about {urn}")


def carried(actions: Iterable[dict]) -> list[dict]:
    """Actions carried into a renewal; an owner erased since is carried without a name
    (an erased value can never be written again)."""
    return [{**a, "owner": None} if isinstance(a.get("owner"), Personal) and a["owner"].erased else dict(a)
            for a in actions]


# -- upcasters: events stored with these values in clear --------------------------------------


def owners_named(state: dict) -> None:
    """Started (carried actions) and ActionPlanned, version 1."""
    if "owner" in state:
        state["owner"] = named(state["urn"], state["owner"])
    for action in state.get("carried_actions", []):
        action["owner"] = named(state["urn"], action.get("owner"))


def visit_named(state: dict) -> None:
    """VisitRecorded, version 1."""
    state["attendees"] = [named(state["urn"], name) for name in state["attendees"]]
    state["notes"] = free_text(state["urn"], state["notes"])


def reason_kept(state: dict) -> None:
    """ExtensionGranted and Withdrawn, version 1."""
    state["reason"] = free_text(state["urn"], state["reason"])


def panel_text(panel: Any, text: str | None) -> Personal | None:
    """Why a convened panel's membership changed: free text that may be about its members,
    the panel's own subject (None when nothing was said)."""
    if text is None or not text.strip():
        return None
    scope = f"panel {panel.school_year} {panel.stage}"
    return Personal(subject_for_name(scope, FREE_TEXT), text.strip(), label=f"free text about the {scope}")
