"""Tamper evidence: checking a store's sealed record (shared/chain.py), as ``sanctuary audit
verify`` does.

One consistent read of the store is checked on its own, with the sealing keys:

- every event has a link, every link its event, and each link is the MAC of the link before it
  and of its event (an altered, inserted, deleted or reordered event is named by position);
- the links follow one another (a link deleted with its event is named by the link after it),
  and change key only where the ledger records the rotation;
- the ledger's records are whole and in order, and agree with the subject keys held: a key
  missing without a recorded erasure, or replaced, is named; and with the tracking rows (which
  upstream events each consumer processed, how far the relay published): a row deleted, altered
  or added is named; likewise the heads this store heard, each by its MAC (or, for one heard
  before they were sealed, the ledger's record of it made by ``sanctuary audit upgrade``);
- a store the release before wrote (tracking rows and heard heads outside the sealed record) is
  named once as not upgraded, with the command that upgrades it (sanctuary/upgrade.py);
- every trigger that keeps the tables append-only is there, enabled and unchanged.

Then against the heads the other services witnessed (shared/witness.py), and a digest published
by hand if one is given: a log truncated with its chain, or a chain rewritten whole, no longer
reaches or matches them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from shared.chain import GENESIS, SEALED_FROM_THE_START, Tables, fingerprint, link, originator, record_mac
from shared.protection import FUNCTIONS, Guard, append_only_tables, guards
from shared.seal_key import SealKeys
from shared.store_view import StoreView
from shared.witness import genuine, heard_mac

DIGEST_HEX = 16  # the hex of a link a published digest keeps
KEY_RECORDS = ("key-created", "key-erased")
UPGRADED, ADOPTED_HEAD = "upgraded", "heard-adopted"  # sanctuary/upgrade.py


@dataclass
class Verdict:
    checked: int = 0  # events checked
    sealed_to: int = 0  # the chain's newest position
    ledger: int = 0  # ledger records checked
    witnessed: int = 0  # heads heard by other services, checked against
    witnessed_to: int = 0
    witnessed_by: set[str] = field(default_factory=set)
    head: str = GENESIS  # the newest link
    keys: list[str] = field(default_factory=list)  # the sealing keys along the chain, in order
    notes: list[str] = field(default_factory=list)  # what the ledger records of the seal itself
    problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def first(self) -> dict | None:
        """The problem at the earliest position; else the earliest ledger record; else the store."""
        return min(self.problems, key=where, default=None)


def where(problem: dict) -> tuple:
    if problem.get("position") is not None:
        return (0, problem["position"])
    if problem.get("ledger") is not None:
        return (1, problem["ledger"])
    if problem.get("tracking") is not None:
        return (2, *problem["tracking"])
    if problem.get("heard") is not None:
        return (3, *problem["heard"])
    return (4, 0)


def describe(problem: dict) -> str:
    if problem.get("position") is not None:
        return f"position {problem['position']}"
    if problem.get("ledger") is not None:
        return f"ledger record {problem['ledger']}"
    if problem.get("tracking") is not None:
        return "tracking row {} at {}".format(*problem["tracking"])
    if problem.get("heard") is not None:
        return "the head heard from {} at {}".format(*problem["heard"])
    return "the store"


def digest_of(position: int, mac: str) -> str:
    """What a lead publishes by hand: the position and the first hex of its link."""
    return f"{position}:{mac[:DIGEST_HEX]}"


def check(view: StoreView, keys: SealKeys, digest: str | None = None, heads: Iterable[dict] = (),
          step: Callable[[], None] | None = None) -> Verdict:
    """Check one consistent read of a store (see the module's docstring); ``step`` is called
    after each event."""
    verdict = Verdict()
    problems = verdict.problems
    problems += _guards(view)
    chain = view.chain()
    gone = chain is None
    chain = chain or {}
    old = view.tables.table("seal")
    if not chain and view.has(old):
        problems.append({"position": None, "what": (
            f"not resealed: {old} is the seal of an earlier release; once, with the services stopped, "
            f"run `sanctuary audit reseal {view.tables.name} --by <you>`")})
        _check_heads(heads, {}, [], verdict)  # none, unless its new chain was emptied
        return verdict
    verdict.sealed_to = max(chain, default=0)
    verdict.head = chain[verdict.sealed_to]["mac"] if chain else GENESIS
    ledger = view.ledger()
    if ledger is None:
        problems.append({"position": None, "what": "deleted: the ledger table is gone"})
        ledger = []
    rotations = _check_ledger(ledger, keys, verdict)
    present, subjects = _check_events(view, chain, gone, keys, verdict, step)
    _check_links(chain, present, rotations, verdict)
    keys_held = view.subject_keys()
    if keys_held is None and (subjects or any(row["kind"] in KEY_RECORDS for row in ledger)):
        problems.append({"position": min(subjects.values(), default=None),
                         "what": "deleted: the subject keys table is gone, every key in it with it"})
    _check_subject_keys(keys_held or {}, ledger, subjects, keys, problems)
    unrecorded = _check_tracking(view.tracking(), ledger, problems)
    unsealed = _check_heard(view.witnessed(), ledger, keys, problems)
    if unrecorded or unsealed:
        problems.append(not_upgraded(view.tables.name, len(unrecorded), len(unsealed)))
    _check_heads(heads, chain, ledger, verdict)
    if digest is not None:
        _check_digest(digest, chain, verdict)
    return verdict


def _check_events(view: StoreView, chain: dict[int, Any], gone: bool, keys: SealKeys, verdict: Verdict,
                  step: Callable[[], None] | None) -> tuple[dict[int, Any], dict[str, int]]:
    """Each event against its seal (``gone``: the seal's table is); the positions present, and
    the position where each person's key is first needed."""
    problems = verdict.problems
    present: dict[int, Any] = {}
    subjects: dict[str, int] = {}
    logged = view.has(view.tables.events_table)
    if not logged:
        problems.append({"position": min(chain, default=None), "what": "deleted: the events table is gone"})
    for event in view.events() if logged else ():
        present[event["position"]] = True
        verdict.checked += 1
        if gone and verdict.checked == 1:
            problems.append({"position": event["position"], "what": "deleted: the chain table is gone: "
                                                                   "no event is sealed"})
        if not gone:
            _check_event(event, chain.get(event["position"]), chain, keys, problems)
        for subject in subjects_in(event["state"]):
            subjects.setdefault(subject, event["position"])
        if step is not None:
            step()
    if gone and not present:
        problems.append({"position": None, "what": "deleted: the chain table is gone"})
    return present, subjects


def _guards(view: StoreView) -> list[dict]:
    found = view.triggers()
    has_keys = view.has(view.tables.table("subject_keys"))
    problems = []
    for guard in guards(view.tables, has_keys):
        state = found.get(guard.name)
        if state is None:
            what = "is gone"
        elif not state["enabled"]:
            what = "is disabled"
        elif not _as_installed(view.tables, guard, state):
            what = "was changed"
        else:
            continue
        problems.append({"position": None,
                         "what": f"unprotected: the trigger {guard.name} on {guard.table} {what}"})
    ours = [*append_only_tables(view.tables), *([view.tables.table("subject_keys")] if has_keys else [])]
    problems += [{"position": None, "what": f"unprotected: {what}"} for what in view.rewritten(ours)]
    return problems


def _as_installed(tables: Tables, guard: Guard, state: dict) -> bool:
    if state["tbl"] != guard.table:
        return False
    if tables.sqlite:
        return state["sql"] == guard.sql
    found = [state[k] for k in ("tgtype", "conditional", "function", "function_schema", "source")]
    return found == [guard.tgtype, False, guard.function, tables.schema, FUNCTIONS[guard.function]]


def _check_event(event: Any, row: Any, chain: dict[int, Any], keys: SealKeys, problems: list[dict]) -> None:
    if row is None:
        problems.append(_named(event, "inserted: not in the chain (or its link was deleted)"))
        return
    if not keys.has(row["key_id"]):
        problems.append(_named(event, f"altered: its link names key {row['key_id']}, not a sealing key"))
        return
    previous = GENESIS if row["previous"] == 0 else (chain.get(row["previous"]) or {}).get("mac")
    if previous is None:
        return  # the link before it is gone: named at its own position
    if link(keys, row["key_id"], (row["previous"], previous), event) != row["mac"]:
        problems.append(_named(event, "altered: does not match its link"))


def _check_links(chain: dict[int, Any], present: dict[int, Any], rotations: set, verdict: Verdict) -> None:
    """The links in order: each names the one before it, and keys change only as recorded."""
    problems, before, key = verdict.problems, 0, None
    for position in sorted(chain):
        row = chain[position]
        if position not in present:
            problems.append({"position": position, "what": "deleted: sealed but missing from the log"})
        if row["previous"] > before and row["previous"] not in present:
            problems.append({"position": row["previous"],
                             "what": f"deleted: the event and its link are gone (the link at {position} "
                                     "follows it)"})
        elif row["previous"] < before:
            problems.append({"position": before, "what": "inserted: a link the chain does not run "
                                                         f"through (the link at {position} follows "
                                                         f"{row['previous']})"})
        if row["key_id"] != key:
            if not _rotated(rotations, key, row["key_id"]):
                problems.append({"position": position, "what": f"altered: sealed under key {row['key_id']} "
                                                               "with no rotation to it in the ledger"})
            verdict.keys.append(row["key_id"])
            key = row["key_id"]
        before = position


def _rotated(rotations: set[tuple], old: str | None, new: str) -> bool:
    """Whether the ledger records rotations leading from key ``old`` to ``new`` (None: from the start)."""
    reached = {old} | ({to for _, to in rotations} if old is None else set())
    while True:
        more = {to for source, to in rotations if source in reached} - reached
        if new in reached or not more:
            return new in reached
        reached |= more


def _check_ledger(ledger: list[Any], keys: SealKeys, verdict: Verdict) -> set[tuple]:
    """The ledger's records in order; returns the key rotations it records, (from, to)."""
    problems, rotations = verdict.problems, set()
    expected, previous, key = 1, GENESIS, None
    for row in ledger:
        verdict.ledger += 1
        seq = row["seq"]
        if seq != expected:
            problems.append({"ledger": expected, "what": f"deleted: ledger records {expected} to {seq - 1} "
                                                         "are gone"})
        elif not keys.has(row["key_id"]):
            problems.append({"ledger": seq, "what": f"altered: made under key {row['key_id']}, not a "
                                                    "sealing key"})
        elif record_mac(keys, row["key_id"], previous, row) != row["mac"]:
            problems.append({"ledger": seq, "what": f"altered: the {row['kind']} record does not match "
                                                    "its MAC"})
        detail = _detail(row)
        if row["kind"] == "seal-key":
            rotations.add((detail.get("from"), detail.get("to")))
            verdict.notes.append(f"{str(row['at'])[:10]}: sealing key {detail.get('to')} in use"
                                 + (f" (rotated from {detail['from']})" if detail.get("from") else ""))
        elif row["kind"] == "resealed":
            never = detail.get("never_sealed") or []
            verdict.notes.append(
                f"{str(row['at'])[:10]}: resealed by {detail.get('by')}; the old seal reached "
                f"{detail.get('old_sealed_to')} (digest {detail.get('old_digest')})"
                + (f", and never covered {never[0]} to {never[1]}" if never else ""))
        elif row["kind"] == UPGRADED:
            verdict.notes.append(
                f"{str(row['at'])[:10]}: upgraded by {detail.get('by')}: {detail.get('tracking_rows')} "
                f"tracking row(s) and {detail.get('heads')} heard head(s) of the release before adopted "
                f"({detail.get('heads_checked')} head(s) matched their service's chain, "
                f"{detail.get('heads_unchecked')} could not be checked, "
                f"{len(detail.get('heads_differ') or [])} differ)")
        if row["key_id"] != key and not (row["kind"] == "seal-key" and detail.get("to") == row["key_id"]
                                         and detail.get("from") == key):
            problems.append({"ledger": seq, "what": f"altered: made under key {row['key_id']} with no "
                                                    "rotation to it before"})
        expected, previous, key = seq + 1, row["mac"], row["key_id"]
    return rotations


def _check_subject_keys(held: dict[str, Any], ledger: list[Any], used: dict[str, int], keys: SealKeys,
                        problems: list[dict]) -> None:
    """Every key the log needs is held, or its erasure recorded; every key held was recorded."""
    recorded: dict[str, Any] = {}
    for row in ledger:
        if row["kind"] in KEY_RECORDS:
            recorded.setdefault(row["subject"], {})[row["kind"]] = row
    for subject in sorted(set(held) | set(recorded) | set(used)):
        row, record = held.get(subject), recorded.get(subject, {})
        first = used.get(subject)
        if "key-erased" in record:
            if row is not None and row["key"] is not None:
                problems.append({"position": first, "subject": subject,
                                 "what": f"erasure recorded but the key of {subject} is still held"})
            continue
        if row is None or row["key"] is None:
            if first is not None or "key-created" in record:
                problems.append({"position": first, "subject": subject, "what": (
                    f"key missing: the key of {subject} is gone with no recorded erasure")})
            continue
        created = record.get("key-created")
        if created is None:
            problems.append({"position": first, "subject": subject,
                             "what": f"inserted: the key of {subject} is not in the ledger"})
        elif keys.has(created["key_id"]) and _detail(created).get("fingerprint") != fingerprint(
                keys, created["key_id"], subject, bytes(row["key"])):
            problems.append({"position": first, "subject": subject,
                             "what": f"altered: the key of {subject} is not the key the ledger recorded"})


def not_upgraded(service: str, tracking: int, heads: int) -> dict:
    """The one problem of a store the release before wrote, which needs ``audit upgrade`` once."""
    return {"position": None, "upgrade": True, "what": (
        f"not upgraded: {tracking} tracking row(s) and {heads} heard head(s) were written by the release "
        f"before tracking rows and heard heads were sealed; once, with the services stopped, run "
        f"`sanctuary audit upgrade {service} --by <you>`")}


def upgraded(ledger: list[Any]) -> bool:
    """Whether the store records every tracking row and seals every heard head: from its first
    ledger record on, or since ``audit upgrade`` (the release before did neither)."""
    first = ledger[0] if ledger and ledger[0]["seq"] == 1 else None
    from_the_start = first is not None and first["kind"] == "seal-key" and \
        _detail(first).get(SEALED_FROM_THE_START) is True
    return from_the_start or any(row["kind"] == UPGRADED for row in ledger)


def left_by_the_release_before(view: StoreView, keys: SealKeys) -> tuple[list[tuple[str, int]], list[dict]]:
    """Until the store is upgraded: the tracking rows the ledger does not record (name, position),
    and the heard heads without a MAC."""
    ledger = view.ledger() or []
    return _check_tracking(view.tracking(), ledger, []), _check_heard(view.witnessed(), ledger, keys, [])


def _check_tracking(rows: list[dict] | None, ledger: list[Any],
                    problems: list[dict]) -> list[tuple[str, int]]:
    """Every tracking row is recorded in the ledger, and every recorded one is still there: a row
    deleted (an event processed again), altered or added (one skipped) is named. Until the store
    is upgraded, the rows the ledger does not record are returned instead (the release before
    did not record them)."""
    recorded: dict[tuple[str, int], int] = {}
    for row in ledger:
        if row["kind"] == "tracked":
            recorded[(row["subject"], _detail(row).get("position"))] = row["seq"]
    if rows is None:
        if recorded:
            problems.append({"ledger": min(recorded.values()), "what": "deleted: the tracking table is gone"})
        return []
    held = {(row["application_name"], row["notification_id"]) for row in rows}
    for (name, position), seq in recorded.items():
        if (name, position) not in held:
            problems.append({"ledger": seq, "what": f"deleted (or altered): the tracking row of {name} "
                                                    f"at {position}, which this record recorded, is gone"})
    unrecorded = sorted(held - set(recorded))
    if not upgraded(ledger):
        return unrecorded
    for name, position in unrecorded:
        problems.append({"tracking": (name, position), "what": (
            f"inserted (or altered): a tracking row of {name} at {position} the ledger does not record")})
    return []


def adopted_heads(ledger: list[Any]) -> dict[tuple[str, int], list[dict]]:
    """The heads heard before they were sealed that ``audit upgrade`` recorded, by origin and
    position: each with the key and MAC of the row as it was then, and the record's seq."""
    adopted: dict[tuple[str, int], list[dict]] = {}
    for row in ledger:
        if row["kind"] == ADOPTED_HEAD:
            detail = _detail(row)
            record = {**detail, "seq": row["seq"]}
            adopted.setdefault((row["subject"], detail.get("position")), []).append(record)
    return adopted


def held_as_heard(keys: SealKeys, row: dict, adopted: dict[tuple[str, int], list[dict]]) -> dict | None:
    """Whether a witnessed head's row is as recorded: sealed with its MAC, or adopted at the upgrade
    (then the ledger record that adopted it); None if neither."""
    if genuine(keys, row):
        return {}
    for record in adopted.get((row["origin"], row["position"]), []):
        key = record.get("key_id")
        if keys.has(key) and heard_mac(keys, key, row) == record.get("mac"):
            return record
    return None


def heads_held(view: StoreView, keys: SealKeys) -> list[dict]:
    """The heads a store heard that are as it recorded them (the others are its own problem)."""
    adopted = adopted_heads(view.ledger() or [])
    return [row for row in view.witnessed() if held_as_heard(keys, row, adopted) is not None]


def _check_heard(rows: list[dict], ledger: list[Any], keys: SealKeys, problems: list[dict]) -> list[dict]:
    """The heads this store heard from the others, each as recorded (``sanctuary audit verify`` of
    the service named holds only these against it), and each the upgrade adopted still there.
    Until the store is upgraded, the rows without a MAC are returned instead."""
    adopted, found = adopted_heads(ledger), set()
    unsealed = []
    for row in rows:
        record = held_as_heard(keys, row, adopted)
        if record is not None:
            found.add(record.get("seq"))
        elif not row.get("mac") and not upgraded(ledger):
            unsealed.append(row)
        else:
            problems.append({"heard": (row["origin"], row["position"]), "what": (
                "altered: this store's record of a head it heard does not match its MAC (changed, or "
                "made up)" + (", nor the one the upgrade adopted" if adopted else ""))})
    for (origin, position), records in adopted.items():
        for record in records:
            if record["seq"] not in found:
                problems.append({"ledger": record["seq"], "what": (
                    f"deleted (or altered): the head heard from {origin} at {position}, which this record "
                    "adopted at the upgrade, is gone")})
    return unsealed


def _check_heads(heads: Iterable[dict], chain: dict[int, Any], ledger: list[Any], verdict: Verdict) -> None:
    records = {row["seq"]: row for row in ledger}
    newest = max(records, default=0)
    for head in heads:
        verdict.witnessed += 1
        verdict.witnessed_by.add(head["witness"])
        verdict.witnessed_to = max(verdict.witnessed_to, head["position"])
        heard = f"{head['witness']} heard on {head['heard_at'][:19]}"
        position = head["position"]
        if position > verdict.sealed_to:
            verdict.problems.append({"position": verdict.sealed_to + 1, "what": (
                f"truncated: the chain ends at {verdict.sealed_to}, but {heard} that it reached {position}")})
        elif position not in chain:
            verdict.problems.append({"position": position, "what": (
                f"deleted: the link at {position} is gone; {heard} of it")})
        elif chain[position]["mac"] != head["digest"]:
            verdict.problems.append({"position": position, "what": (
                f"rewritten: the link at {position} is not the one {heard}")})
        if head["ledger"] > newest:
            verdict.problems.append({"ledger": newest + 1, "what": (
                f"truncated: the ledger ends at {newest}, but {heard} that it reached {head['ledger']}")})
        elif head["ledger"] and (records.get(head["ledger"]) or {}).get("mac") != head["ledger_digest"]:
            verdict.problems.append({"ledger": head["ledger"], "what": (
                f"rewritten: ledger record {head['ledger']} is not the one {heard}")})


def _check_digest(digest: str, chain: dict[int, Any], verdict: Verdict) -> None:
    position_text, _, prefix = digest.partition(":")
    position = int(position_text)
    if position > verdict.sealed_to:
        verdict.problems.append({"position": verdict.sealed_to + 1, "what": (
            f"truncated: the chain ends at {verdict.sealed_to}, before the published digest's {position}")})
    elif position and not (chain.get(position) or {}).get("mac", "").startswith(prefix):
        verdict.problems.append({"position": position, "what": (
            "rewritten: the chain differs from the published digest")})


def subjects_in(state: bytes) -> Iterator[str]:
    """The subjects whose personal values an event's bytes hold (readable without their keys)."""
    if b'"personal"' not in state:
        return
    try:
        stack = [json.loads(bytes(state))]
    except ValueError:
        return  # unreadable bytes: reported as altered
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("_type_") == "personal" and isinstance(item.get("_data_"), dict):
                subject = item["_data_"].get("s")
                if isinstance(subject, str):
                    yield subject
                continue
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _detail(row: Any) -> dict:
    try:
        detail = json.loads(row["detail"])
    except ValueError:
        return {}
    return detail if isinstance(detail, dict) else {}


def _named(event: Any, what: str) -> dict:
    return {"position": event["position"], "aggregate": originator(event["originator_id"]),
            "version": event["originator_version"], "topic": event["topic"], "what": what}


class Seal:
    """A service's own view of its sealed record (the ``sanctuary audit`` commands read the
    store directly, sanctuary/audit_commands.py)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def head(self) -> tuple[int, str]:
        """The chain's newest position and link; (0, GENESIS) while it is empty."""
        with self.app.factory.datastore.transaction(commit=False) as cursor:
            row = self.app.chain.head(cursor)
        return (0, GENESIS) if row is None else (row["notification_id"], row["mac"])

    def digest(self) -> str:
        return digest_of(*self.head())

    def verify(self, digest: str | None = None, heads: Iterable[dict] = ()) -> Verdict:
        with self.app.factory.datastore.transaction(commit=False) as cursor:
            return check(StoreView.opened(cursor, self.app.tables), self.app.seal_keys, digest, heads)
