"""One ``sanctuary up`` per data folder and per set of ports, and one authority per data folder.

A second start on the same data folder would run a second relay, supervisor and mail sink
over the same stores; one on ports already taken would start services that fail one by
one. Both are refused before anything is started or written: the data folder is claimed
with a lock file (held while ``up`` runs, released by the kernel however it ends), and
every port the system would listen on is tried first. A data folder also keeps the authority it
was first started for: its stores hold that authority's cycles, criteria and schools, which
another authority's file would read wrongly.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from pathlib import Path
from typing import IO

LOCK_NAME = "sanctuary-up.lock"
AUTHORITY_NAME = "authority"  # the slug of the authority the folder's stores belong to


class AlreadyTaken(Exception):
    """Another system holds the data folder, or something else listens on a port we need."""


def claim_data_folder(data_dir: Path) -> IO[str]:
    """The held lock on ``data_dir``: keep the returned file open for as long as the system runs."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_NAME
    handle = open(path, "a+")  # noqa: SIM115 - held open: the lock lives as long as the file
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        if error.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        raise AlreadyTaken(f"the data folder {data_dir} is in use by a running `sanctuary up` ({holder}); "
                           "stop that one first, or give this one another SANCTUARY_DATA_DIR") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle


def claim_for_authority(data_dir: Path, slug: str, name: str) -> None:
    """Record that ``data_dir`` belongs to the authority ``slug``, or refuse if it belongs to another.
    A folder from before this record was kept is taken to be the authority's it is started with."""
    record = data_dir / AUTHORITY_NAME
    held = record.read_text().strip() if record.exists() else ""
    if held and held != slug:
        raise AlreadyTaken(f"the data folder {data_dir} holds the deployment of {held}, not of {name} "
                           f"({slug}); start {slug} on a folder of its own: "
                           f"SANCTUARY_DATA_DIR=data-{slug} ./run {slug}")
    if not held:
        record.write_text(f"{slug}\n")


def check_free(addresses: dict[str, str]) -> None:
    """Refuse if any ``host:port`` (named by what listens there) is taken now."""
    taken = [f"{address} ({what})" for what, address in addresses.items() if not _free(address)]
    if taken:
        raise AlreadyTaken(f"already in use: {', '.join(taken)}; is another system running? Stop it, or "
                           "move this one (SANCTUARY_GATEWAY_ADDRESS, SANCTUARY_OPS_BASE_PORT, "
                           "SANCTUARY_SMTP_PORT)")


def _free(address: str) -> bool:
    host, _, port = address.rpartition(":")
    with socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET) as sock:
        # a port left in TIME_WAIT by a system just stopped is free to listen on again
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]") or "0.0.0.0", int(port)))  # noqa: S104 - only tried, never served
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise
    return True
