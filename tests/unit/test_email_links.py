"""Links in emails that work without signing in (services/notifications/links.py), the
request log that keeps their tokens out (services/gateway/web/link_pages.py), and the words
every email shares: times as the pages say them, and why essential mail always goes."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from services.accounts.mail import sign_in_email
from services.gateway.web import filters
from services.gateway.web.link_pages import QueryValuesHidden
from services.notifications import cpd_messages as cm
from services.notifications import messages as m
from services.notifications.links import CLAIM, UNSUBSCRIBE, Links
from shared.authority import load_authority
from shared.config import ROOT, Settings
from shared.errors import Conflict, NotFound

LAPSES = "2027-02-26T16:00:00+00:00"


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def test_a_claim_link_names_one_offer_and_one_person_and_lapses_with_it() -> None:
    links = Links("k" * 40, "https://sanctuary.example.gov.uk/")
    url = links.claim("network-meeting", "b-9", "email:abc", LAPSES)
    assert url.startswith("https://sanctuary.example.gov.uk/offers/claim?token=")
    before = dt.datetime(2027, 2, 26, 15, 59, tzinfo=dt.UTC)
    assert links.read(token_of(url), CLAIM, before) == {
        "for": CLAIM, "code": "network-meeting", "booking": "b-9", "person": "email:abc",
        "expires_at": LAPSES}
    with pytest.raises(Conflict, match="lapsed"):
        links.read(token_of(url), CLAIM, dt.datetime(2027, 2, 26, 16, 0, tzinfo=dt.UTC))


def test_a_link_not_signed_with_our_key_or_for_another_purpose_opens_nothing() -> None:
    ours, theirs = Links("k" * 40, "https://x.example"), Links("z" * 40, "https://x.example")
    forged = token_of(theirs.claim("network-meeting", "b-9", "email:abc", LAPSES))
    with pytest.raises(NotFound, match="not valid"):
        ours.read(forged, CLAIM)
    tampered = token_of(ours.claim("network-meeting", "b-9", "email:abc", LAPSES))[:-2] + "xx"
    with pytest.raises(NotFound):
        ours.read(tampered, CLAIM)
    unsubscribe = token_of(ours.unsubscribe("email:abc", "cpd-news"))
    with pytest.raises(NotFound, match="not valid here"):
        ours.read(unsubscribe, CLAIM)  # an unsubscribe link claims nothing
    assert ours.read(unsubscribe, UNSUBSCRIBE)["category"] == "cpd-news"


def test_the_request_log_keeps_query_names_but_not_their_values() -> None:
    line = '127.0.0.1 - - [02/Dec/2026 00:10:00] "GET /offers/claim?token=eyJmb3Ii.abc&x=1 HTTP/1.1" 200 1234'
    record = logging.LogRecord("nameko.web.server", logging.INFO, __file__, 1, line, (), None)
    assert QueryValuesHidden().filter(record) is True
    assert record.getMessage() == ('127.0.0.1 - - [02/Dec/2026 00:10:00] "GET /offers/claim?token=[hidden]'
                                   '&x=[hidden] HTTP/1.1" 200 1234')
    plain = logging.LogRecord("nameko.web.server", logging.INFO, __file__, 1, '"GET /cpd HTTP/1.1" 200', (),
                              None)
    QueryValuesHidden().filter(plain)
    assert plain.getMessage() == '"GET /cpd HTTP/1.1" 200'


@pytest.mark.parametrize("minutes", range(0, 24 * 60, 5))
def test_mail_says_a_time_as_the_pages_do(minutes: int) -> None:
    moment = dt.time(minutes // 60, minutes % 60)
    assert m.clock_time(moment) == filters.clock_time(moment)


def test_a_session_in_mail_reads_4pm_to_5pm() -> None:
    session = {"title": "Network meeting", "date": "2027-05-12", "start": "16:00:00", "end": "17:00:00",
               "place": "Central Library"}
    assert m.session_text(session) == "Network meeting: Wednesday 12 May 2027, 4pm to 5pm, Central Library"


def test_the_sign_in_email_says_why_it_cannot_be_unsubscribed_from(tmp_path: Path) -> None:
    settings = Settings.from_env({"SANCTUARY_DATA_DIR": str(tmp_path)})
    authority = load_authority(ROOT / "deploy" / "authorities" / "coventry.toml")
    email = sign_in_email(settings, authority, "ann@hill.example.org", "Ann", "abc.def.ghi")
    assert "You cannot unsubscribe from this email: it is how you sign in" in email.text


def test_optional_mail_offers_the_unsubscribe_link_and_essential_mail_says_why_not() -> None:
    authority = load_authority(ROOT / "deploy" / "authorities" / "coventry.toml")
    news = cm.new_session("Ann", "ann@hill.example.org", {"title": "Network meeting", "date": "2027-05-12"})
    text, html = m.render(news, authority, "https://x.example/unsubscribe?token=t")
    assert "To stop emails like this (news of CPD sessions), unsubscribe here: " \
           "https://x.example/unsubscribe?token=t" in text
    assert "unsubscribe here" in html
    deadline = m.deadline_reminder("Ann", "Hill Primary", "ann@hill.example.org", "draft",
                                   dt.date(2027, 3, 25), 3)
    text, _ = m.render(deadline, authority)
    assert "You cannot unsubscribe from this email: it is about a deadline your school must meet." in text
    assert "unsubscribe here" not in text
