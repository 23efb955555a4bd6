"""What the gateway refuses before anything reaches a service: hostile JSON, too many
sign-in requests from one client; and the headers it sends with every answer."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from services.gateway.limits import ClientLimit, client_of
from services.gateway.routes import OTHER_POLICY, PAGE_POLICY, parse_json, with_security_headers
from services.gateway.web.pages import FORM_COOKIE, csrf_token, form_token
from shared.config import Settings
from shared.errors import Invalid

HOSTILE = {
    "nested 1,000 deep": (b"[" * 1000 + b"]" * 1000, "nested more than"),
    "nested objects": (b'{"a":' * 200 + b"1" + b"}" * 200, "nested more than"),
    "lone surrogate escaped": (b'{"name": "\\ud800"}', "lone surrogate"),
    "lone surrogate as a key": (b'{"\\udfff": 1}', "lone surrogate"),
    "surrogate encoded in UTF-8": (b'{"name": "\xed\xa0\x80"}', "UTF-8"),
    "invalid UTF-8": (b'{"name": "\xff\xfe"}', "UTF-8"),
    "overlong UTF-8": (b'{"name": "\xc0\xaf"}', "UTF-8"),
    "huge integer": (b'{"n": ' + b"9" * 5000 + b"}", "more than 30 characters"),
    "huge float": (b'{"n": 1e999}', "too large"),
    "negative huge float": (b'{"n": -1e999}', "too large"),
    "NaN": (b'{"n": NaN}', "NaN"),
    "Infinity": (b'{"n": Infinity}', "Infinity"),
    "duplicate keys": (b'{"email": "a@example.org", "email": "b@example.org"}', "'email' appears twice"),
    "nested duplicate keys": (b'{"grants": [{"role": "lead", "role": "operator"}]}', "'role' appears twice"),
    "not JSON": (b"{email: 1}", "not valid JSON"),
    "truncated": (b'{"a": [1, 2', "not valid JSON"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_json_is_refused_naming_the_problem(name: str) -> None:
    body, problem = HOSTILE[name]
    with pytest.raises(Invalid) as refused:
        parse_json(body)
    assert problem in refused.value.message, refused.value.message
    assert list(refused.value.fields) == ["_body"]


def test_ordinary_json_is_read_as_it_is() -> None:
    body = '{"a": [1, 2.5, {"b": "x]]\\"[[ é 😀"}], "c": null, "d": true, "e": -12e3}'.encode()
    assert parse_json(body) == {"a": [1, 2.5, {"b": 'x]]"[[ é 😀'}], "c": None, "d": True, "e": -12000.0}
    assert parse_json(b"[" * 32 + b"]" * 32)  # as deep as allowed


def test_a_client_gets_so_many_requests_an_hour() -> None:
    limit = ClientLimit()
    assert [limit.take("a", 3, now=t) for t in (0, 1, 2)] == [None, None, None]
    assert limit.take("a", 3, now=3) == 3597  # until the first of them is an hour old
    assert limit.take("b", 3, now=3) is None  # another client counts for itself
    assert limit.take("a", 3, now=3600.5) is None


def request(remote: str, forwarded: str = "") -> SimpleNamespace:
    return SimpleNamespace(remote_addr=remote, headers={"X-Forwarded-For": forwarded} if forwarded else {})


def test_the_client_is_the_remote_address_unless_a_trusted_proxy_says_otherwise() -> None:
    assert client_of(request("203.0.113.9", "198.51.100.1"), ()) == "203.0.113.9"  # not trusted
    trusted = ("127.0.0.1",)
    assert client_of(request("127.0.0.1", "198.51.100.1"), trusted) == "198.51.100.1"
    # a client may send its own X-Forwarded-For: the proxy appends the address it saw
    assert client_of(request("127.0.0.1", "10.9.9.9, 198.51.100.1"), trusted) == "198.51.100.1"
    assert client_of(request("127.0.0.1"), trusted) == "127.0.0.1"


def test_an_anonymous_form_token_needs_the_form_cookie_it_came_with() -> None:
    visitor = SimpleNamespace(credential="", cookies={FORM_COOKIE: "ab" * 16})
    token = form_token(visitor)
    assert token and token != form_token(SimpleNamespace(credential="", cookies={FORM_COOKIE: "cd" * 16}))
    assert form_token(SimpleNamespace(credential="", cookies={})) is None  # nothing to check against
    assert form_token(SimpleNamespace(credential="", cookies={FORM_COOKIE: "forged"})) is None
    assert form_token(SimpleNamespace(credential="sess_x", cookies={})) == csrf_token("sess_x")


def headers_sent(content_type: str) -> dict[str, str]:
    sent = {}
    start = with_security_headers(lambda status, headers: sent.update(headers))
    start("200 OK", [("Content-Type", content_type)])
    return sent


def test_every_answer_carries_the_security_headers() -> None:
    page = headers_sent("text/html; charset=utf-8")
    assert page["Content-Security-Policy"] == PAGE_POLICY
    assert "script-src" not in PAGE_POLICY and "'unsafe-inline'" not in PAGE_POLICY  # default-src 'none'
    assert "frame-ancestors 'none'" in PAGE_POLICY and page["X-Frame-Options"] == "DENY"
    assert page["Referrer-Policy"] == "no-referrer" and "camera=()" in page["Permissions-Policy"]
    assert headers_sent("application/json")["Content-Security-Policy"] == OTHER_POLICY


def test_the_limits_are_set_per_deployment() -> None:
    default = Settings.from_env({})
    assert (default.sign_in_links_per_address, default.sign_in_requests_per_client) == (5, 30)
    assert default.trusted_proxies == ("127.0.0.1", "::1")  # nginx on the same host, as deployed
    chosen = Settings.from_env({"SANCTUARY_SIGN_IN_LINKS_PER_ADDRESS": "3",
                                "SANCTUARY_SIGN_IN_REQUESTS_PER_CLIENT": "100",
                                "SANCTUARY_TRUSTED_PROXIES": ""})
    assert (chosen.sign_in_links_per_address, chosen.sign_in_requests_per_client) == (3, 100)
    assert chosen.trusted_proxies == ()
    for bad in ("0", "-1", "five"):
        with pytest.raises(ValueError, match="SANCTUARY_SIGN_IN_LINKS_PER_ADDRESS"):
            Settings.from_env({"SANCTUARY_SIGN_IN_LINKS_PER_ADDRESS": bad})
