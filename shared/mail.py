"""Sending email through a real SMTP server.

A caller retries only transient failures, so every failure becomes a
``MailError`` that says whether it is ``permanent`` (a 5xx answer).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import smtplib
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path

from shared.clock import system_clock
from shared.metrics import MAIL_FAILURES, MAIL_SECONDS, MAIL_SENT

log = logging.getLogger(__name__)

SECURITIES = ("none", "starttls", "tls")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # "none" | "starttls" | "tls"
    username: str | None
    password: str | None
    timeout: float

    @classmethod
    def from_env(cls, env: dict | None = None) -> SmtpSettings:
        env = os.environ if env is None else env
        security = env.get("SANCTUARY_SMTP_SECURITY", "none")
        if security not in SECURITIES:
            raise ValueError(f"SANCTUARY_SMTP_SECURITY must be one of {', '.join(SECURITIES)}, "
                             f"not {security!r}")
        port = _number(env, "SANCTUARY_SMTP_PORT", "8025", int)
        if not 0 < port < 65536:
            raise ValueError(f"SANCTUARY_SMTP_PORT must be 1-65535, not {port}")
        timeout = _number(env, "SANCTUARY_SMTP_TIMEOUT", "10", float)
        if not timeout > 0:
            raise ValueError(f"SANCTUARY_SMTP_TIMEOUT must be positive, not {timeout}")
        username = env.get("SANCTUARY_SMTP_USERNAME") or None
        password = env.get("SANCTUARY_SMTP_PASSWORD") or None
        if secret_file := env.get("SANCTUARY_SMTP_PASSWORD_FILE"):
            try:  # the file wins: it is how secrets are mounted in production
                password = Path(secret_file).read_text(encoding="utf-8").rstrip("\r\n") or None
            except OSError as error:
                raise ValueError(f"SANCTUARY_SMTP_PASSWORD_FILE cannot be read: {error}") from error
        if username and password is None:
            raise ValueError("SANCTUARY_SMTP_USERNAME is set but SANCTUARY_SMTP_PASSWORD(_FILE) is not")
        host = env.get("SANCTUARY_SMTP_HOST", "127.0.0.1")
        if not host or any(c.isspace() for c in host):
            raise ValueError(f"SANCTUARY_SMTP_HOST is not a host name: {host!r}")
        return cls(host, port, security, username, password, timeout)


def _number(env: dict, name: str, default: str, kind: type) -> int | float:
    try:
        return kind(env.get(name, default))
    except ValueError:
        raise ValueError(f"{name} must be a number, not {env.get(name)!r}") from None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # may carry parameters: "text/calendar; method=REQUEST"
    data: bytes


@dataclass(frozen=True)
class Email:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None
    sender: str
    reply_to: str | None
    message_id: str
    headers: dict[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    kind: str = "other"  # what the message is (sign-in, pledge-signed ...), for metrics only


class MailError(Exception):
    """Mail was not sent. ``permanent``: retrying the same message will not help."""

    def __init__(self, message: str, code: int | None = None, permanent: bool = False) -> None:
        # servers echo the recipient ("550 <ann@...>: unknown"); the text is logged and kept
        super().__init__(_ADDRESS.sub("[address]", message))
        self.code = code
        self.permanent = permanent


_ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]{}]+@[^\s<>\"'(),;:\[\]{}]+")


def cannot_unsubscribe(why: str) -> str:
    """What essential mail says in place of an unsubscribe link: why it always goes."""
    return f"You cannot unsubscribe from this email: {why}."


def unsubscribe_headers(link: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: a mail program POSTs to ``link`` (which must carry
    what identifies the person and the mail, signed) without opening a page."""
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def make_message_id(key: str, domain: str) -> str:
    """The same key always gives the same Message-ID, so a resent message is recognisably the same."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def build_message(email: Email) -> EmailMessage:
    # the default policy refuses CR/LF in header values, so no header injection
    message = EmailMessage()
    message["Message-ID"] = email.message_id
    message["Date"] = formatdate(system_clock().now().timestamp(), usegmt=True)  # a rehearsal's day
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    message["Subject"] = email.subject
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    for attachment in email.attachments:
        kind, *params = (part.strip() for part in attachment.content_type.split(";"))
        maintype, subtype = kind.split("/", 1)
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype,
                               filename=attachment.filename,
                               params=dict(p.split("=", 1) for p in params if "=" in p))
    return message


class Mailer:
    """Hands messages to the SMTP server: one at a time (``send``), or a round of them over one
    connection (``session``)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, email: Email) -> None:
        """Hand the message to the SMTP server; raises MailError if it is not accepted."""
        with self.session() as session:
            session.send(email)

    @contextmanager
    def session(self) -> Iterator[MailSession]:
        """Messages sent through the session share a connection; it is closed at the end."""
        session = MailSession(self.settings)
        try:
            yield session
        finally:
            session.close()


class MailSession:
    """Consecutive messages over one SMTP connection, opened at the first: a round of fifty
    reminders is one connection, TLS handshake and login, not fifty. After any failure the
    connection is closed and the next message opens another (the failed message is the
    caller's to try again, as with a lone send); after ``MESSAGES_PER_CONNECTION`` it is
    closed too, as some relays refuse more on one connection."""

    MESSAGES_PER_CONNECTION = 50

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._carried = 0
        self.connections = 0  # opened so far

    def send(self, email: Email) -> None:
        """Hand the message to the SMTP server; raises MailError if it is not accepted."""
        started = time.perf_counter()
        try:
            self._send(email)
        except MailError as error:
            MAIL_FAILURES.labels(email.kind, "permanent" if error.permanent else "transient").inc()
            raise
        MAIL_SECONDS.observe(time.perf_counter() - started)
        MAIL_SENT.labels(email.kind).inc()

    def close(self) -> None:
        if self._smtp is not None:
            _quit(self._smtp)
            self._smtp = None

    def _send(self, email: Email) -> None:
        message = build_message(email)
        sender = parseaddr(email.sender)[1]
        recipients = [parseaddr(address)[1] for address in email.to]
        try:
            try:
                refused = self._connection().send_message(message, from_addr=sender, to_addrs=recipients)
            except BaseException:
                self.close()  # whatever state the conversation is in, the next message starts afresh
                raise
            self._carried += 1
            if self._carried >= self.MESSAGES_PER_CONNECTION:
                self.close()
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise MailError(f"every recipient refused: {error.recipients}", codes[0],
                            permanent=all(code >= 500 for code in codes)) from error
        except smtplib.SMTPResponseException as error:
            text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) \
                else str(error.smtp_error)
            raise MailError(f"SMTP server answered {error.smtp_code} {text}", error.smtp_code,
                            permanent=error.smtp_code >= 500) from error
        except smtplib.SMTPNotSupportedError as error:  # e.g. no STARTTLS: configuration, not luck
            raise MailError(f"SMTP server lacks a needed feature: {error}", permanent=True) from error
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(f"cannot talk to SMTP server {self.settings.host}:{self.settings.port}: "
                            f"{error!r}") from error
        if refused:  # delivered to the others: a retry would send them duplicates
            log.warning("message %s refused for %d of its %d recipients (SMTP %s)", email.message_id,
                        len(refused), len(recipients), sorted({code for code, _ in refused.values()}))

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp, self._carried = _connect(self.settings), 0
            self.connections += 1
        return self._smtp


def _connect(s: SmtpSettings) -> smtplib.SMTP:
    if s.security == "tls":
        smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
    try:
        if s.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if s.username:
            smtp.login(s.username, s.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    # the message is already accepted or refused; a failed QUIT changes neither
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def valid_address(address: str) -> bool:
    """A strict check for a bare ASCII address: local@dotted.domain, at most 254 characters."""
    if not isinstance(address, str) or len(address) > 254 or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    labels = domain.split(".")
    return (len(local) <= 64 and _LOCAL.fullmatch(local) is not None
            and len(labels) >= 2 and all(_LABEL.fullmatch(label) for label in labels)
            and not labels[-1].isdigit())
