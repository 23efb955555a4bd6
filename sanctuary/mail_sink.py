"""A local SMTP server that keeps every message it receives as a file; nothing leaves the machine.

For the local run and the tests: ``python -m sanctuary.mail_sink --folder DIR --port N``.
Run it as its own process from anything eventlet has monkey-patched: aiosmtpd runs an
asyncio loop in a thread, and green threads do not make a dependable home for it.
Each message becomes ``<folder>/<arrival sequence>-<safe message id>.eml``, openable
in a mail program.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import tempfile
import threading
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import formatdate
from pathlib import Path
from typing import Any

_NAME = re.compile(r"(\d+)-.*\.eml")


def read_folder(folder: Path) -> list[EmailMessage]:
    """The messages a sink kept in ``folder``, in order of arrival, with local line ends."""
    found = [(int(m.group(1)), path) for path in Path(folder).glob("*.eml")
             if (m := _NAME.fullmatch(path.name))]
    # files keep the wire's CRLF; read as a mail program would, or text parts end in "\r\n"
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(path.read_bytes().replace(b"\r\n", b"\n")) for _, path in sorted(found)]


class _Keeper:
    """aiosmtpd handler: writes each message atomically, refusing the first ``fail_first`` with 451."""

    def __init__(self, folder: Path, fail_first: int) -> None:
        self.folder = folder
        self.to_fail = fail_first
        found = [int(m.group(1)) for p in folder.glob("*.eml") if (m := _NAME.fullmatch(p.name))]
        self.sequence = max(found, default=0)  # a restarted sink carries on numbering

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.to_fail > 0:
            self.to_fail -= 1
            return "451 4.3.0 Mail sink refusing for now (--fail-first)"
        # as any MTA does, the connection it came over first: a test can tell connections apart
        host, port = session.peer[:2]
        received = f"Received: from [{host}]:{port} by mail-sink.local; {formatdate(usegmt=True)}\r\n"
        data: bytes = received.encode("ascii") + (envelope.original_content or envelope.content)
        message_id = BytesHeaderParser().parsebytes(data).get("Message-ID", "") or "no-id"
        safe_id = re.sub(r"[^A-Za-z0-9._@-]", "_", message_id.strip().strip("<>"))[:100]
        self.sequence += 1
        # temp file then rename: a reader never sees half a message
        fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".incoming-")
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temp, self.folder / f"{self.sequence:06d}-{safe_id}.eml")
        return "250 2.0.0 Message kept"


class MailSink:
    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 8025, fail_first: int = 0) -> None:
        self.folder = Path(folder)
        self.host = host
        self.port = port
        self.fail_first = fail_first
        self._controller: Any = None

    def start(self) -> None:
        """Listen; returns once the port accepts connections."""
        from aiosmtpd.controller import Controller  # only the sink process needs asyncio's server

        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(_Keeper(self.folder, self.fail_first), hostname=self.host,
                                      port=self.port, server_hostname="mail-sink.local")
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[EmailMessage]:
        return read_folder(self.folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sanctuary.mail_sink",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--fail-first", type=int, default=0, metavar="N",
                        help="answer 451 to the first N messages, then accept")
    args = parser.parse_args(argv)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    sink = MailSink(args.folder, args.host, args.port, args.fail_first)
    sink.start()
    print(f"mail sink listening on {args.host}:{args.port}, keeping mail in {args.folder}", flush=True)
    try:
        stopping.wait()
    finally:
        sink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
