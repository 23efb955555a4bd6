"""The web pages' plain parts: UK dates and times, form dates, where a sign-in may
send someone, the form token, and the gateway's page and route names."""

from __future__ import annotations

import datetime as dt

import pytest

from services.gateway.service import GatewayService
from services.gateway.web.access_pages import safe_next
from services.gateway.web.filters import clock_time, date_time, days_left, long_date, plain_date
from services.gateway.web.pages import csrf_token, field_errors, form_date
from shared.errors import Conflict, Invalid

UTC = dt.UTC


def test_dates_are_said_the_uk_way_with_their_weekday() -> None:
    assert long_date("2027-03-25") == "Thursday 25 March 2027"
    assert plain_date(dt.date(2027, 3, 5)) == "5 March 2027"
    assert long_date(None) == ""


def test_times_are_uk_local_time() -> None:
    summer = dt.datetime(2027, 6, 15, 14, 30, tzinfo=UTC)  # BST: 3:30pm in London
    winter = dt.datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
    assert clock_time(summer) == "3:30pm"
    assert clock_time(winter) == "9am"
    assert clock_time(dt.time(12, 0)) == "midday"
    assert date_time("2027-06-15T14:30:00+00:00") == "Tuesday 15 June 2027 at 3:30pm"


def test_days_left_counts_whole_days_from_today() -> None:
    today = dt.date(2027, 3, 20)
    assert days_left("2027-03-25", today) == "5 days left"
    assert days_left("2027-03-21", today) == "tomorrow"
    assert days_left("2027-03-20", today) == "today"
    assert days_left("2027-03-17", today) == "3 days ago"


def test_a_date_input_becomes_an_iso_date_or_a_message_naming_the_field() -> None:
    assert form_date({"until-day": "5", "until-month": "3", "until-year": "2027"}, "until",
                     "the date") == "2027-03-05"
    with pytest.raises(Invalid) as missing:
        form_date({}, "until", "the date")
    assert missing.value.fields == {"until": ["Enter the date"]}
    with pytest.raises(Invalid) as unreal:
        form_date({"until-day": "31", "until-month": "2", "until-year": "2027"}, "until", "the date")
    assert unreal.value.fields == {"until": ["The date must be a real date"]}
    assert form_date({}, "until", "the date", required=False) is None


def test_errors_become_one_message_per_field() -> None:
    assert field_errors(Invalid("bad", {"audit": {"status": ["Pick one"]}})) == {"audit.status": "Pick one"}
    assert field_errors(Conflict("Already signed.")) == {"form": "Already signed."}


def test_a_sign_in_only_returns_to_a_page_of_this_site() -> None:
    assert safe_next("/lead/emails") == "/lead/emails"
    assert safe_next("/school/103712/cpd?tab=booked") == "/school/103712/cpd?tab=booked"
    for elsewhere in ("https://evil.example/", "//evil.example/x", "lead", "javascript:alert(1)",
                      "/\\evil.example/", "\\\\evil.example", "/%2F%2Fevil.example", "%2F%2Fevil.example",
                      "/%5Cevil.example", "/%252F%252Fevil.example", "/\t/evil.example", "/%09/evil.example",
                      "/\r\n/evil.example", "/" + "a" * 600, "", "http:/evil.example", "/x\\y"):
        assert safe_next(elsewhere) == "", elsewhere


def test_the_form_token_is_bound_to_the_session() -> None:
    assert csrf_token("session-a") == csrf_token("session-a")
    assert csrf_token("session-a") != csrf_token("session-b")


def test_no_page_or_route_shadows_another() -> None:
    """nameko keeps one entrypoint per attribute: a page method named like a JSON
    route's would silently replace it (and answer 404)."""
    seen: dict[str, str] = {}
    for cls in GatewayService.__mro__:
        for name, value in vars(cls).items():
            if callable(value) and not name.startswith("__"):
                assert name not in seen, f"{name} is defined in {seen.get(name)} and {cls.__name__}"
                seen[name] = cls.__name__
