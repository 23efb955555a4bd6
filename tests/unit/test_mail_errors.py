"""A mail error's text is logged and kept with the notification: no address in it."""

from __future__ import annotations

import logging

import pytest

import shared.mail
from shared.mail import Email, Mailer, MailError, SmtpSettings


def test_a_mail_error_never_holds_the_address_the_server_echoed() -> None:
    refused = MailError("every recipient refused: {'ann.smith@hill.example.org': (550, b'no')}", 550)
    echoed = MailError("SMTP server answered 550 5.1.1 <Ann.Smith@Hill.example.org>: Recipient unknown")
    for error in (refused, echoed):
        assert "@" not in str(error) and "ann" not in str(error).lower() and "[address]" in str(error)
    assert refused.code == 550


class _PartlyRefusing:
    """An SMTP connection that delivers to one recipient and refuses the other."""

    def send_message(self, message: object, from_addr: str, to_addrs: list[str]) -> dict:
        return {to_addrs[1]: (550, b"5.1.1 <bo@oak.example.org> unknown")}

    def quit(self) -> None:
        pass


def test_a_partly_refused_message_is_logged_without_the_addresses(monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    mailer = Mailer(SmtpSettings("127.0.0.1", 1, "none", None, None, 5.0))
    monkeypatch.setattr(shared.mail, "_connect", lambda settings: _PartlyRefusing())
    email = Email(to=("ann@hill.example.org", "bo@oak.example.org"), subject="Hello", text="Hi", html=None,
                  sender="S <no-reply@sanctuary.invalid>", reply_to=None,
                  message_id="<1@sanctuary.invalid>", kind="test")
    with caplog.at_level(logging.WARNING, logger="shared.mail"):
        mailer.send(email)
    assert "refused for 1 of its 2 recipients" in caplog.text
    assert "@" not in caplog.text.replace("@sanctuary.invalid", "")
