"""Signing in, tried from outside as an abuser would, over real HTTP: floods of sign-in
requests for one address and from one client, timing known against unknown addresses,
the SMTP server down, login CSRF, a ``next`` that leads off-site; and what every answer
says about itself (security headers, /health) and how refusals are logged.

One system for the module. It trusts 127.0.0.1 as its reverse proxy, so each test
can be a different client by its X-Forwarded-For, and allows 10 requests an hour
per client.
"""

from __future__ import annotations

import itertools
import re
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from sanctuary.launch import SINK
from tests.e2e.conftest import Api, E2ESystem, running, system_env, wait_for
from tests.e2e.test_access import link_in, sign_in_mail

pytestmark = pytest.mark.e2e

PER_CLIENT = 10
_clients = itertools.count(1)
_people = itertools.count(1)


@pytest.fixture(scope="module")
def system(module_amqp_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    yield from running(system_env(module_amqp_uri, tmp_path_factory.mktemp("abuse"),
                                  SANCTUARY_TRUSTED_PROXIES="127.0.0.1",
                                  SANCTUARY_SIGN_IN_REQUESTS_PER_CLIENT=str(PER_CLIENT)))


def new_client() -> dict[str, str]:
    """Headers that make the next requests come from a client never seen before."""
    n = next(_clients)
    return {"X-Forwarded-For": f"198.51.{n // 250}.{n % 250 + 1}"}


def new_person(system: E2ESystem) -> str:
    email = f"person.{next(_people)}@e2e.example.org"
    system.add_account(email, "Pia Person", [{"role": "panel_member"}], None)
    return email


def ask(system: E2ESystem, email: str, client: dict[str, str] | None = None) -> requests.Response:
    return requests.post(f"{system.base_url}/auth/sign-in-link", json={"email": email},
                         headers=client or new_client(), timeout=20)


def mail_to(system: E2ESystem, email: str) -> list:
    return [m for m in sign_in_mail(system.mail_dir) if m["To"] == email]


def settle(system: E2ESystem) -> None:
    """Every sign-in request made so far has been dealt with: one asked for now, for an
    address of its own, has been delivered (they are worked through in order)."""
    marker = new_person(system)
    assert ask(system, marker).status_code == 202
    wait_for(lambda: mail_to(system, marker), 30, "the marker's sign-in email")


# -- floods --------------------------------------------------------------------------------


def test_one_address_is_sent_five_links_an_hour_however_often_it_is_asked(system: E2ESystem) -> None:
    email = new_person(system)
    answers = [ask(system, email) for _ in range(8)]  # each from a client of its own
    assert {(a.status_code, a.json()["message"]) for a in answers} == {
        (202, "If that address has an account, a sign-in link is on its way.")}
    wait_for(lambda: len(mail_to(system, email)) >= 5, 30, "five sign-in emails")
    settle(system)
    assert len(mail_to(system, email)) == 5  # the 6th, 7th and 8th sent nothing


def test_a_client_past_its_limit_is_told_when_to_come_back(system: E2ESystem) -> None:
    client = new_client()
    email = f"nobody.{next(_people)}@e2e.example.org"
    for _ in range(PER_CLIENT):
        assert ask(system, email, client).status_code == 202
    refused = ask(system, email, client)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "TooManyRequests"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert ask(system, email).status_code == 202  # another client is not held back

    # the sign-in page counts the same requests, and says so in words
    browser = requests.Session()
    browser.headers.update(client)
    form = browser.get(f"{system.base_url}/sign-in", timeout=20)
    page = browser.post(f"{system.base_url}/sign-in", timeout=20,
                        data={"csrf": csrf_in(form.text), "email": email, "next": ""})
    assert page.status_code == 429, page.text
    assert "Too many sign-in requests" in page.text and int(page.headers["Retry-After"]) > 0


def test_known_and_unknown_addresses_are_answered_alike(system: E2ESystem) -> None:
    known = new_person(system)
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    answers = set()
    for n in range(50):
        for kind, email in (("known", known), ("unknown", f"stranger.{n}@e2e.example.org")):
            started = time.perf_counter()
            answer = ask(system, email)
            times[kind].append(time.perf_counter() - started)
            answers.add((answer.status_code, answer.text, tuple(sorted(
                k for k in answer.headers if k.lower() not in ("date", "content-length")))))
    assert len(answers) == 1, answers  # the same status, body and headers
    medians = {kind: statistics.median(values) * 1000 for kind, values in times.items()}
    print(f"\nsign-in-link answered in (median of 50) known {medians['known']:.1f} ms, "
          f"unknown {medians['unknown']:.1f} ms")
    # Not asserted: a difference of medians is a timing, and on two loaded cores it swung past
    # 10 ms the other way (unknown 58 ms, known 48). The answer is the same for both, above; that
    # the mail is made after the answer is shown by the SMTP-down test below (202 at once).


# -- the SMTP server down ------------------------------------------------------------------


def test_a_sign_in_asked_for_while_smtp_is_down_arrives_once_it_is_back(system: E2ESystem) -> None:
    email = new_person(system)
    system.kill(SINK)
    try:
        answer = ask(system, email)
        assert answer.status_code == 202, answer.text
        time.sleep(3)
        assert mail_to(system, email) == []
    finally:
        system.start_sink()
    [message] = wait_for(lambda: mail_to(system, email), 90, "the sign-in email, once SMTP is back")
    anonymous = Api(system, None)
    session = anonymous.ok(anonymous.post("/auth/session", {"link": link_in(message)}), 201)
    assert session["account"]["email"] == email


# -- the sign-in pages -----------------------------------------------------------------------


def csrf_in(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]*)"', html)
    assert match, html
    return match.group(1)


def test_the_anonymous_sign_in_forms_need_their_own_token(system: E2ESystem) -> None:
    email = new_person(system)
    url = system.base_url
    # another site's page posting its own link (login CSRF): no form cookie, no token
    forged = requests.post(f"{url}/sign-in/continue", data={"link": "x.y.z", "csrf": ""}, timeout=20,
                           allow_redirects=False, headers=new_client())
    assert forged.status_code == 400, forged.text
    assert "sanctuary_session" not in forged.headers.get("Set-Cookie", "")
    # a token from one visitor does not work with another's cookie
    attacker, victim = requests.Session(), requests.Session()
    token = csrf_in(attacker.get(f"{url}/sign-in", timeout=20).text)
    victim.get(f"{url}/sign-in", timeout=20)
    crossed = victim.post(f"{url}/sign-in", data={"csrf": token, "email": email}, timeout=20,
                          headers=new_client())
    assert crossed.status_code == 400, crossed.text
    settle(system)
    assert mail_to(system, email) == []  # nothing was asked for
    # a visitor's own token works
    sent = attacker.post(f"{url}/sign-in", data={"csrf": token, "email": email, "next": ""},
                         timeout=20, headers=new_client())
    assert sent.status_code == 200 and "Check your email" in sent.text


@pytest.mark.parametrize("elsewhere", [
    "/\\evil.example/", "//evil.example/", "/%2F%2Fevil.example/", "/%5Cevil.example/",
    "https://evil.example/", "/%09/evil.example", "\\\\evil.example",
])
def test_signing_in_never_leads_off_the_site(system: E2ESystem, elsewhere: str) -> None:
    email = new_person(system)
    assert ask(system, email).status_code == 202
    [message] = wait_for(lambda: mail_to(system, email), 30, "a sign-in email")
    browser = requests.Session()
    page = browser.get(f"{system.base_url}/sign-in?link={link_in(message)}&next={quote(elsewhere)}",
                       timeout=20)
    assert 'name="next" value=""' in page.text
    # and posted directly, past the page
    done = browser.post(f"{system.base_url}/sign-in/continue", allow_redirects=False, timeout=20,
                        data={"csrf": csrf_in(page.text), "link": link_in(message), "next": elsewhere})
    assert done.status_code == 303, done.text
    assert done.headers["Location"] == "/panel"


def test_signing_out_of_a_page_ends_the_session_everywhere_it_was_copied(system: E2ESystem) -> None:
    email = new_person(system)
    assert ask(system, email).status_code == 202
    [message] = wait_for(lambda: mail_to(system, email), 30, "a sign-in email")
    browser = requests.Session()
    page = browser.get(f"{system.base_url}/sign-in?link={link_in(message)}", timeout=20)
    browser.post(f"{system.base_url}/sign-in/continue", timeout=20,
                 data={"csrf": csrf_in(page.text), "link": link_in(message), "next": ""})
    session = browser.cookies["sanctuary_session"]
    panel = browser.get(f"{system.base_url}/panel", timeout=20)
    assert panel.status_code == 200
    browser.post(f"{system.base_url}/sign-out", data={"csrf": csrf_in(panel.text)}, timeout=20)
    copied = requests.get(f"{system.base_url}/me", cookies={"sanctuary_session": session}, timeout=20)
    assert copied.status_code == 401, copied.text


# -- what every answer says ------------------------------------------------------------------


def test_pages_and_answers_carry_the_security_headers(system: E2ESystem) -> None:
    for path in ("/", "/sign-in", "/no/such/page", "/static/sanctuary.css", "/openapi.json", "/me"):
        headers = requests.get(system.base_url + path, timeout=20, headers={"Accept": "text/html"}).headers
        assert headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["Referrer-Policy"] == "no-referrer", path
        assert "camera=()" in headers["Permissions-Policy"], path
    page = requests.get(system.base_url + "/sign-in", timeout=20)
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy and "script-src" not in policy
    assert "<script" not in page.text


def test_health_tells_strangers_only_up_or_down(system: E2ESystem) -> None:
    anonymous = requests.get(system.base_url + "/health", timeout=20)
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "ok"}
    bad = requests.get(system.base_url + "/health", headers={"Authorization": "Bearer sos_x.y.z"}, timeout=20)
    assert bad.json() == {"status": "ok"}
    panel = system.add_account(f"pan.{next(_people)}@e2e.example.org", "Pan", [{"role": "panel_member"}])
    assert Api(system, panel).ok(Api(system, panel).get("/health")) == {"status": "ok"}
    detail = Api(system).ok(Api(system).get("/health"))  # the lead
    assert set(detail["services"]) >= {"accounts", "pledges", "notifications"}
    assert detail["services"]["accounts"]["reachable"] is True


def test_refusals_are_logged_as_one_line_each_never_as_errors(system: E2ESystem) -> None:
    log = system.log_path("gateway")
    start = log.stat().st_size
    anonymous = Api(system, None)
    marker = f"/no-such-thing-{next(_people)}"
    refused = [anonymous.get("/me"), Api(system, "sos_0.0.0").get("/me"),
               anonymous.post("/auth/session", {"link": "x.y.z"}),
               anonymous.call("POST", "/auth/session", data=b"[" * 1000 + b"]" * 1000,
                              headers={"Content-Type": "application/json"}),
               anonymous.get(marker)]
    assert [r.status_code for r in refused] == [401, 401, 401, 422, 404]
    time.sleep(0.5)
    text = read_from(log, start)
    assert "Traceback" not in text and " ERROR " not in text, text
    lines = [line for line in text.splitlines() if "refused POST /auth/session" in line]
    assert len(lines) == 2 and all(" INFO " in line for line in lines), text


def read_from(path: Path, offset: int) -> str:
    with path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")
