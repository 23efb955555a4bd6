"""Sending mail through a real SMTP server: the mail sink, run as its own process."""

from __future__ import annotations

import pytest

from shared.mail import (
    Attachment,
    Email,
    Mailer,
    MailError,
    SmtpSettings,
    build_message,
    make_message_id,
    valid_address,
)
from tests.integration import mail_fixtures
from tests.integration.mail_fixtures import SinkProcess

mail_sink = mail_fixtures.mail_sink  # the fixture, for pytest to find

ICS = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:CPD session\r\n"
       b"END:VEVENT\r\nEND:VCALENDAR\r\n")


def an_email(**changes: object) -> Email:
    fields = {
        "to": ("ann@example.org",), "subject": "Your CPD place", "text": "See you there.\n",
        "html": "<p>See you <b>there</b>.</p>\n", "sender": "Sanctuary <noreply@coventry.example>",
        "reply_to": "emas@coventry.example", "message_id": make_message_id("cpd:42:ann", "coventry.example"),
        "headers": {"Auto-Submitted": "auto-generated"},
        "attachments": (Attachment("session.ics", "text/calendar; method=REQUEST", ICS),),
    }
    return Email(**{**fields, **changes})


def test_a_multipart_message_with_a_calendar_arrives_whole(mail_sink: SinkProcess) -> None:
    email = an_email()
    Mailer(mail_sink.settings()).send(email)
    [got] = mail_sink.messages()
    assert got["Message-ID"] == email.message_id == make_message_id("cpd:42:ann", "coventry.example")
    assert got["Auto-Submitted"] == "auto-generated"
    assert (got["From"], got["To"], got["Reply-To"]) == (email.sender, "ann@example.org", email.reply_to)
    assert got["Subject"] == "Your CPD place" and got["Date"]
    assert got.get_content_type() == "multipart/mixed"
    assert got.get_body(("plain",)).get_content() == "See you there.\n"
    assert got.get_body(("html",)).get_content() == "<p>See you <b>there</b>.</p>\n"
    [calendar] = got.iter_attachments()
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_filename() == "session.ics"
    assert calendar.get_content().encode() == ICS
    assert [p.name.split("-")[0] for p in mail_sink.folder.glob("*.eml")] == ["000001"]


def test_a_451_is_a_transient_error_with_its_code(tmp_path) -> None:
    sink = SinkProcess(tmp_path / "mail", fail_first=1)
    sink.start()
    try:
        mailer = Mailer(sink.settings())
        with pytest.raises(MailError) as raised:
            mailer.send(an_email())
        assert (raised.value.code, raised.value.permanent) == (451, False)
        assert sink.messages() == []
        mailer.send(an_email())  # the retry a caller would make
        assert len(sink.messages()) == 1
    finally:
        sink.stop()


def test_a_stopped_sink_is_a_transient_error_until_it_is_back(mail_sink: SinkProcess) -> None:
    mail_sink.stop()
    mailer = Mailer(mail_sink.settings())
    with pytest.raises(MailError) as raised:
        mailer.send(an_email())
    assert (raised.value.code, raised.value.permanent) == (None, False)
    mail_sink.start()
    mailer.send(an_email())
    assert [m["Message-ID"] for m in mail_sink.messages()] == [an_email().message_id]


def test_without_html_the_message_is_a_single_plain_part() -> None:
    message = build_message(an_email(html=None, attachments=(), reply_to=None))
    assert message.get_content_type() == "text/plain"
    assert not message.is_multipart()
    assert message.get_content() == "See you there.\n"
    assert message["Reply-To"] is None


def test_a_header_cannot_smuggle_in_another() -> None:
    with pytest.raises(ValueError):
        build_message(an_email(subject="Hi\r\nBcc: everyone@example.org"))


def test_message_ids_are_stable_per_key() -> None:
    assert make_message_id("a", "x.org") == make_message_id("a", "x.org") != make_message_id("b", "x.org")
    assert make_message_id("a", "x.org").startswith("<") and make_message_id("a", "x.org").endswith("@x.org>")


@pytest.mark.parametrize("address, valid", [
    ("ann@example.org", True),
    ("ann.o'neil+cpd@school.coventry.sch.uk", True),
    ("a@b.co", True),
    ("", False),
    ("ann", False),
    ("ann@localhost", False),
    ("ann@@example.org", False),
    ("ann@bob@example.org", False),
    ("ann smith@example.org", False),
    ("ann@example.org ", False),
    ("ann\n@example.org", False),
    ("ann@exa\x00mple.org", False),
    (".ann@example.org", False),
    ("ann..b@example.org", False),
    ("ann@-example.org", False),
    ("ann@example..org", False),
    ("ann@1.2.3.4", False),
    ("Ann <ann@example.org>", False),
    ("ann@" + "a" * 250 + ".org", False),
    ("a" * 65 + "@example.org", False),
])
def test_valid_address(address: str, valid: bool) -> None:
    assert valid_address(address) is valid


def test_settings_read_the_password_from_a_file(tmp_path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n")
    settings = SmtpSettings.from_env({
        "SANCTUARY_SMTP_HOST": "smtp.example.org", "SANCTUARY_SMTP_PORT": "587",
        "SANCTUARY_SMTP_SECURITY": "starttls", "SANCTUARY_SMTP_USERNAME": "sanctuary",
        "SANCTUARY_SMTP_PASSWORD": "from-env", "SANCTUARY_SMTP_PASSWORD_FILE": str(secret),
    })
    assert settings == SmtpSettings("smtp.example.org", 587, "starttls", "sanctuary", "s3cret", 10.0)
    assert SmtpSettings.from_env({}) == SmtpSettings("127.0.0.1", 8025, "none", None, None, 10.0)


@pytest.mark.parametrize("env, variable", [
    ({"SANCTUARY_SMTP_PORT": "smtp"}, "SANCTUARY_SMTP_PORT"),
    ({"SANCTUARY_SMTP_PORT": "70000"}, "SANCTUARY_SMTP_PORT"),
    ({"SANCTUARY_SMTP_SECURITY": "ssl"}, "SANCTUARY_SMTP_SECURITY"),
    ({"SANCTUARY_SMTP_TIMEOUT": "0"}, "SANCTUARY_SMTP_TIMEOUT"),
    ({"SANCTUARY_SMTP_PASSWORD_FILE": "/nonexistent/secret"}, "SANCTUARY_SMTP_PASSWORD_FILE"),
])
def test_invalid_settings_name_the_variable(env: dict, variable: str) -> None:
    with pytest.raises(ValueError, match=variable):
        SmtpSettings.from_env(env)


def _connections(messages: list) -> list[str]:
    """The client end of the connection each message came over, in order (the sink's Received)."""
    return [m["Received"].split()[1] for m in messages]


def test_a_session_carries_its_messages_over_one_connection(mail_sink: SinkProcess) -> None:
    mailer = Mailer(mail_sink.settings())
    with mailer.session() as post:
        for n in range(3):
            post.send(an_email(message_id=make_message_id(f"round:{n}", "coventry.example")))
    mailer.send(an_email())
    mailer.send(an_email())
    seen = _connections(mail_sink.messages())
    assert len(seen) == 5 and len(set(seen[:3])) == 1
    assert len(set(seen)) == 3  # each lone send its own connection
    assert post.connections == 1


def test_a_session_opens_another_connection_after_a_failure_and_after_its_quota(tmp_path) -> None:
    sink = SinkProcess(tmp_path / "mail", fail_first=1)
    sink.start()
    try:
        with Mailer(sink.settings()).session() as post:
            post.MESSAGES_PER_CONNECTION = 2
            with pytest.raises(MailError) as raised:
                post.send(an_email())
            assert raised.value.code == 451
            for _ in range(3):
                post.send(an_email())
        seen = _connections(sink.messages())
        assert len(seen) == 3 and seen[0] == seen[1] != seen[2]
        assert post.connections == 3  # the refused one's, two messages', the third's
    finally:
        sink.stop()
