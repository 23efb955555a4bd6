"""Who may do what, over real HTTP: every role against every route family, sign-in
by emailed link (read from the system's own mail sink), sessions and API tokens
that stop working when they should, and the gateway's refusal counter.

One system for the module, with a lead, a coordinator of school A, a coordinator
of school B, a panel member and an operator; a second, short-lived one whose
sessions last about two seconds.
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests
from nameko.standalone.rpc import ServiceRpcProxy
from prometheus_client.parser import text_string_to_metric_families

from sanctuary.mail_sink import read_folder
from tests.e2e.conftest import Api, E2ESystem, Person, running, system_env, wait_for

pytestmark = pytest.mark.e2e
SHARES_SYSTEM = True  # its URNs and addresses are its own, and it takes no cycle-wide step

A, B = "200001", "200002"
ROLES = ("anonymous", "lead", "coordinator_a", "coordinator_b", "panel_member", "operator")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
EVERYONE = frozenset(ROLES)
STAFF_OF_A = frozenset({"lead", "coordinator_a"})
LEAD_ONLY = frozenset({"lead"})

# what each rule says it is for ("This is for ..." in every refusal)
FOR_LEAD = "the local lead"
FOR_STAFF = "the local lead or the school's coordinators"
FOR_COORDINATORS = "the local lead or school coordinators"
FOR_OPERATORS = "operators or the local lead"
FOR_SIGNED_IN = "anyone signed in"

SIGNATURE = {"signed_by": "Cara Head", "role": "Head teacher"}
_numbers = itertools.count(1)


def school_body(urn: str) -> dict:
    return {"urn": urn, "name": f"School {urn}", "phase": "primary", "postcode": "CV1 2AB",
            "coordinator": {"name": "Ann Coordinator", "email": f"ann@{urn}.example.org"}}


# -- the module's system and its people ------------------------------------------


@dataclass
class World:
    system: E2ESystem
    people: dict[str, Person | None]  # role -> person; "anonymous" -> None
    subject: Person  # an account for the lead's account routes to act on

    def api(self, role: str) -> Api:
        return Api(self.system, self.people[role])

    @property
    def lead(self) -> Api:
        return self.api("lead")

    def fresh_urn(self) -> str:
        return f"{300000 + next(_numbers):06d}"

    def fresh_email(self, who: str = "someone") -> str:
        return f"{who}.{next(_numbers)}@e2e.example.org"

    def fresh_account(self, grants: list[dict]) -> Person:
        return self.system.add_account(self.fresh_email("target"), "Tess Target", grants, None)

    def mail(self) -> list[EmailMessage]:
        return read_folder(self.system.mail_dir)

    def stored(self) -> tuple:
        """What a refused request must leave as it was: the pledges log, every
        account (grants, tokens, closure) and the sign-in mail sent. (Other mail,
        such as the notifications service welcoming a school registered earlier,
        arrives on its own schedule, so it is not counted here.)"""
        return (self.lead.pledges_position(), self.lead.ok(self.lead.get("/accounts")),
                len(self.sign_ins()))

    def sign_ins(self) -> list[EmailMessage]:
        return sign_in_mail(self.system.mail_dir)


@pytest.fixture(scope="module")
def world(system: E2ESystem) -> World:
    people: dict[str, Person | None] = {
        "anonymous": None,
        "lead": system.lead,
        "coordinator_a": system.coordinator(A),
        "coordinator_b": system.coordinator(B),
        "panel_member": system.add_account("pat.panel@e2e.example.org", "Pat Panel",
                                           [{"role": "panel_member"}]),
        "operator": system.add_account("olu.operator@e2e.example.org", "Olu Operator",
                                       [{"role": "operator"}]),
    }
    world = World(system, people, system.add_account("sol.subject@e2e.example.org", "Sol Subject",
                                                     [{"role": "panel_member"}], None))
    lead = world.lead
    for urn in (A, B):
        lead.ok(lead.post("/schools", school_body(urn)), 201)
    lead.ok(lead.post(f"/schools/{A}/interest", {}))

    def known() -> bool:  # the applications service has heard of A: eligibility answers 200
        return lead.get(f"/schools/{A}/eligibility").status_code == 200
    wait_for(known, 30, f"the applications service to learn of school {A}")
    return world


def check_refusal(response: requests.Response, status: int, rule: str) -> None:
    assert response.status_code == status, f"{response.request.method} {response.url}: " \
                                           f"{response.status_code} {response.text}"
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()
    assert error["error"] == {401: "Unauthorized", 403: "Forbidden"}[status], error
    assert f"for {rule}." in error["message"], error


# -- 1. every role against every route family ---------------------------------------


Request = Callable[[World], tuple[str, Any]]  # -> the path, and the JSON body (None: no body)
Check = Callable[[World, str, requests.Response], None]


def schools_listed(world: World, role: str, response: requests.Response) -> None:
    urns = {s["urn"] for s in response.json()["schools"]}
    if role == "lead":
        assert {A, B} <= urns
    else:  # a coordinator sees their own school and no other
        assert urns == {A if role == "coordinator_a" else B}


@dataclass(frozen=True)
class Call:
    method: str
    request: Request
    allowed: frozenset[str]
    status: int  # when allowed
    rule: str | None  # None: public
    check: Check | None = field(default=None, compare=False)


def _at(path: str, body: Any = None) -> Request:
    return lambda w: (path, body)


CALLS = {
    # accounts admin
    "accounts-list": Call("GET", _at("/accounts"), LEAD_ONLY, 200, FOR_LEAD),
    "accounts-invite": Call("POST", lambda w: ("/accounts", {
        "email": w.fresh_email("invited"), "name": "Ivy Invited", "grants": [{"role": "panel_member"}]}),
        LEAD_ONLY, 201, FOR_LEAD),
    "accounts-one": Call("GET", lambda w: (f"/accounts/{w.subject.id}", None), LEAD_ONLY, 200, FOR_LEAD),
    "accounts-grant": Call("POST", lambda w: (f"/accounts/{w.subject.id}/grants",
                                              {"role": "coordinator", "urn": w.fresh_urn()}),
                           LEAD_ONLY, 200, FOR_LEAD),
    "accounts-revoke": Call("POST", lambda w: (
        f"/accounts/{w.fresh_account([{'role': 'panel_member'}]).id}/revocations", {"role": "panel_member"}),
        LEAD_ONLY, 200, FOR_LEAD),
    "accounts-lived-experience": Call("PUT", lambda w: (f"/accounts/{w.subject.id}/lived-experience",
                                                        {"lived_experience": True}),
                                      LEAD_ONLY, 200, FOR_LEAD),
    "accounts-close": Call("POST", lambda w: (
        f"/accounts/{w.fresh_account([{'role': 'panel_member'}]).id}/closure", {}),
        LEAD_ONLY, 200, FOR_LEAD),
    # schools
    "schools-list": Call("GET", _at("/schools"), frozenset({"lead", "coordinator_a", "coordinator_b"}), 200,
                         FOR_COORDINATORS, schools_listed),
    "school-a": Call("GET", _at(f"/schools/{A}"), STAFF_OF_A, 200, FOR_STAFF),
    "school-a-history": Call("GET", _at(f"/schools/{A}/history"), STAFF_OF_A, 200, FOR_STAFF),
    "school-a-messages": Call("GET", _at(f"/schools/{A}/messages"), STAFF_OF_A, 200, FOR_STAFF),
    "school-a-commitment": Call("POST", _at(f"/schools/{A}/commitments", {
        "body": "slt", "given_by": "Dee Deputy", "role": "Deputy head"}), STAFF_OF_A, 200, FOR_STAFF),
    "school-a-coordinator": Call("PUT", _at(f"/schools/{A}/coordinator", {
        "name": "Ann Coordinator", "email": f"ann@{A}.example.org"}), STAFF_OF_A, 200, FOR_STAFF),
    "school-register-unowned": Call("POST", lambda w: ("/schools", school_body(w.fresh_urn())),
                                    LEAD_ONLY, 201, FOR_STAFF),
    # applications
    "school-a-eligibility": Call("GET", _at(f"/schools/{A}/eligibility"), STAFF_OF_A, 200, FOR_STAFF),
    # the system
    "metrics": Call("GET", _at("/metrics"), frozenset({"lead", "operator"}), 200, FOR_OPERATORS),
    "health": Call("GET", _at("/health"), EVERYONE, 200, None),
    "openapi": Call("GET", _at("/openapi.json"), EVERYONE, 200, None),
    # me, and signing in
    "me": Call("GET", _at("/me"), SIGNED_IN, 200, FOR_SIGNED_IN),
    "me-new-token": Call("POST", _at("/me/tokens", {"label": "table"}), SIGNED_IN, 201, FOR_SIGNED_IN),
    "sign-out-everywhere": Call("POST", _at("/auth/sign-out-everywhere", {}), SIGNED_IN, 200,
                                FOR_SIGNED_IN),
    # everyone here signs in with an API token, which is revoked, not signed out
    "sign-out": Call("POST", _at("/auth/sign-out", {}), SIGNED_IN, 409, FOR_SIGNED_IN),
    "sign-in-link": Call("POST", _at("/auth/sign-in-link", {"email": "nobody@e2e.example.org"}),
                         EVERYONE, 202, None),
    # open to anyone: what is refused is the missing link, not the caller
    "session": Call("POST", _at("/auth/session", {}), EVERYONE, 422, None),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", CALLS)
def test_who_may_do_what(world: World, name: str, role: str) -> None:
    call = CALLS[name]
    path, body = call.request(world)
    before = world.stored()

    response = world.api(role).call(call.method, path, **({} if body is None else {"json": body}))

    if role in call.allowed:
        assert response.status_code == call.status, f"{call.method} {path} as {role}: " \
                                                     f"{response.status_code} {response.text}"
        if call.check is not None:
            call.check(world, role, response)
        return
    assert call.rule is not None
    check_refusal(response, 401 if role == "anonymous" else 403, call.rule)
    assert world.stored() == before


def test_anonymous_is_refused_everything_but_the_public_routes(world: World) -> None:
    """The table's anonymous column, from the API document's side: every route
    that is not public is in the table and refuses anonymous callers."""
    document = world.lead.ok(world.lead.get("/openapi.json"))
    documented = {(method.upper(), path) for path, operations in document["paths"].items()
                  for method in operations if method != "parameters"}
    public = {(method.upper(), path) for path, operations in document["paths"].items()
              for method, op in operations.items() if method != "parameters" and op["security"] == []}
    assert public == {("GET", "/health"), ("GET", "/openapi.json"), ("POST", "/auth/sign-in-link"),
                      ("POST", "/auth/session"), ("GET", "/programme"), ("GET", "/programme.ics"),
                      ("GET", "/programme/{code}"),  # the CPD programme is published
                      ("GET", "/awarded-schools"), ("GET", "/awarded-schools.atom"),  # opted-in schools only
                      ("GET", "/library/resources/{resource_id}/file")}  # the service refuses private files
    assert {(c.method, c.request(world)[0]) for c in CALLS.values() if "anonymous" in c.allowed} <= public
    anonymous = Api(world.system, None)
    for method, path in sorted(documented - public):
        concrete = path.replace("{urn}", A).replace("{account_id}", world.subject.id) \
            .replace("{token_id}", "0123456789abcdef").replace("{year}", "2026-27") \
            .replace("{stage}", "draft").replace("{code}", "network-meeting") \
            .replace("{session_id}", "network-meeting-1").replace("{booking_id}", "0123456789ab") \
            .replace("{evidence_id}", "0123456789ab").replace("{request_id}", "0" * 32) \
            .replace("{resource_id}", "0" * 32).replace("{partner_id}", "0" * 32) \
            .replace("{account}", world.subject.id).replace("{sha256}", "0" * 64)
        assert "{" not in concrete, concrete
        response = anonymous.call(method, concrete, json={})
        assert response.status_code == 401, f"{method} {concrete}: {response.status_code} {response.text}"
        assert response.json()["message"].startswith("Sign in first: this is for ")


def test_a_coordinator_cannot_act_on_another_school(world: World) -> None:
    lead, b = world.lead, world.api("coordinator_b")
    position, history = lead.pledges_position(), lead.history(A)
    unowned = world.fresh_urn()

    attempts = [
        b.post("/schools", school_body(A)),  # A's URN: refused before any duplicate check
        b.post("/schools", school_body(unowned)),
        b.post(f"/schools/{A}/pledge", SIGNATURE),  # refused before "not committed yet"
        b.get(f"/schools/{A}/history"),
    ]

    for response in attempts:
        check_refusal(response, 403, FOR_STAFF)
    assert lead.pledges_position() == position
    assert lead.history(A) == history
    assert lead.get(f"/schools/{unowned}").status_code == 404
    assert b.ok(b.get(f"/schools/{B}"))["urn"] == B  # their own school, still


# -- 2. signing in by email, sessions and tokens ------------------------------------------


def link_in(message: EmailMessage) -> str:
    text = message.get_body(("plain",)).get_content()
    match = re.search(r"/sign-in\?link=(\S+)", text)
    assert match, text
    return match.group(1)


def sign_in_mail(folder: Any) -> list[EmailMessage]:
    """The sign-in emails in the sink (other mail comes on the notifications service's schedule)."""
    return [m for m in read_folder(folder) if "sign-in link" in str(m["Subject"])]


def request_link(system: E2ESystem, email: str) -> tuple[requests.Response, EmailMessage]:
    """Ask for a sign-in link for ``email``: exactly one new sign-in message arrives, for them."""
    folder = system.mail_dir
    before = len(sign_in_mail(folder))
    response = Api(system, None).post("/auth/sign-in-link", {"email": email})
    assert response.status_code == 202, response.text
    arrived = wait_for(lambda: sign_in_mail(folder)[before:], 15, f"a sign-in email to {email}")
    assert len(arrived) == 1, [m["To"] for m in arrived]
    assert arrived[0]["To"] == email
    return response, arrived[0]


def sign_in(system: E2ESystem, email: str) -> str:
    """A session for ``email``, by the emailed link."""
    link = link_in(request_link(system, email)[1])
    anonymous = Api(system, None)
    return anonymous.ok(anonymous.post("/auth/session", {"link": link}), 201)["session"]


def tampered(credential: str) -> str:
    """One character of the last part (a signature or a secret) changed; the first
    of them, since the last character of base64 may carry only padding bits."""
    head, _, last = credential.rpartition(".")
    return f"{head}.{'B' if last[0] == 'A' else 'A'}{last[1:]}"


def test_signing_in_by_an_emailed_link(world: World) -> None:
    system, coordinator = world.system, world.people["coordinator_a"]
    assert coordinator is not None
    anonymous = Api(system, None)

    answer, message = request_link(system, coordinator.email)
    assert "sign-in link" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    link = link_in(message)
    assert link.startswith(f"{coordinator.id}.")
    assert link in message.get_body(("html",)).get_content()

    # an unknown address gets the same answer, and nothing is sent: the next known
    # request's message is the only one to come
    before = len(world.sign_ins())
    unknown = anonymous.post("/auth/sign-in-link", {"email": "nobody.at.all@e2e.example.org"})
    assert (unknown.status_code, unknown.json()) == (202, answer.json())
    request_link(system, coordinator.email)
    assert len(world.sign_ins()) == before + 1

    session = anonymous.ok(anonymous.post("/auth/session", {"link": link}), 201)
    assert session["session"].startswith("sess_")
    assert session["account"]["id"] == coordinator.id
    me = Api(system, session["session"])
    assert me.ok(me.get("/me"))["grants"] == [{"role": "coordinator", "urn": A}]
    assert me.ok(me.get(f"/schools/{A}"))["urn"] == A

    again = anonymous.post("/auth/session", {"link": link})
    assert again.status_code == 401, again.text
    assert again.json()["error"] == "Unauthorized"
    assert "used already" in again.json()["message"]

    bad_session = Api(system, tampered(session["session"])).get("/me")
    assert bad_session.status_code == 401, bad_session.text
    assert "not valid" in bad_session.json()["message"]
    assert me.ok(me.get("/me"))["id"] == coordinator.id  # the real one still works


def test_a_tampered_or_revoked_token_and_other_schemes_are_refused(world: World) -> None:
    system, coordinator = world.system, world.people["coordinator_a"]
    assert coordinator is not None and coordinator.token
    mine = Api(system, coordinator)

    refused = Api(system, tampered(coordinator.token)).get("/me")
    assert refused.status_code == 401, refused.text
    assert "not valid" in refused.json()["message"]

    new = mine.ok(mine.post("/me/tokens", {"label": "to be revoked"}), 201)
    assert new["token"].startswith(f"sos_{coordinator.id}.{new['id']}.")
    extra = Api(system, new["token"])
    assert extra.ok(extra.get("/me"))["id"] == coordinator.id
    assert mine.call("DELETE", f"/me/tokens/{new['id']}").status_code == 204
    revoked = extra.get("/me")
    assert revoked.status_code == 401, revoked.text
    assert "revoked" in revoked.json()["message"]
    assert {t["id"]: t["revoked"] for t in mine.ok(mine.get("/me"))["tokens"]}[new["id"]] is True

    basic = base64.b64encode(b"coordinator:password").decode()
    response = Api(system, None).get("/me", headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "Unauthorized"
    assert "Authorization: Bearer" in response.json()["message"]


def test_a_token_revoked_elsewhere_is_refused_once_the_gateway_hears_of_it(world: World) -> None:
    """The gateway remembers who a credential is (services/gateway/principals.py) for 30 s; a
    change it did not make itself reaches it as the accounts service's AccountAccessChanged."""
    system, coordinator = world.system, world.people["coordinator_a"]
    assert coordinator is not None
    mine = Api(system, coordinator)
    new = mine.ok(mine.post("/me/tokens", {"label": "revoked behind the gateway's back"}), 201)
    extra = Api(system, new["token"])
    assert extra.ok(extra.get("/me"))["id"] == coordinator.id  # now remembered by the gateway
    with ServiceRpcProxy("accounts", {"AMQP_URI": system.amqp_uri}) as accounts:
        principal = accounts.authenticate(coordinator.token)
        accounts.revoke_token(principal, new["id"])  # straight to the service: the gateway is not told

    def refused() -> bool:
        return extra.get("/me").status_code == 401
    wait_for(refused, 10, "the gateway to refuse a token revoked elsewhere (well inside its 30 s TTL)")


def invite(world: World, who: str, grants: list[dict]) -> dict:
    body = {"email": world.fresh_email(who), "name": who.title(), "grants": grants}
    return world.lead.ok(world.lead.post("/accounts", body), 201)


def test_revoking_a_role_or_closing_an_account_ends_its_sessions(world: World) -> None:
    system, lead = world.system, world.lead

    revoked = invite(world, "rhea", [{"role": "coordinator", "urn": A}])
    session = Api(system, sign_in(system, revoked["email"]))
    token = Api(system, session.ok(session.post("/me/tokens", {"label": "script"}), 201)["token"])
    assert session.ok(session.get(f"/schools/{A}"))["urn"] == A
    view = lead.ok(lead.post(f"/accounts/{revoked['id']}/revocations", {"role": "coordinator", "urn": A}))
    assert view["grants"] == []
    ended = session.get("/me")
    assert ended.status_code == 401, ended.text
    assert "ended" in ended.json()["message"]
    # a token is not a session: it goes on working, but with the powers the account has now
    assert token.ok(token.get("/me"))["grants"] == []
    check_refusal(token.get(f"/schools/{A}"), 403, FOR_STAFF)

    closed = invite(world, "cole", [{"role": "panel_member"}])
    session = Api(system, sign_in(system, closed["email"]))
    token = Api(system, session.ok(session.post("/me/tokens", {"label": "script"}), 201)["token"])
    assert session.ok(session.get("/me"))["id"] == closed["id"]
    assert lead.ok(lead.post(f"/accounts/{closed['id']}/closure", {}))["closed"] is True
    for credential in (session, token):
        refused = credential.get("/me")
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"] == "Unauthorized"
    # nor can they sign in again: the answer is the same, and no mail is sent
    before = len(world.sign_ins())
    assert Api(system, None).post("/auth/sign-in-link", {"email": closed["email"]}).status_code == 202
    request_link(system, world.people["panel_member"].email)  # arrives next: nothing came before it
    assert len(world.sign_ins()) == before + 1


def test_invitations_and_grants_are_events(world: World) -> None:
    system, lead = world.system, world.lead
    invited = invite(world, "gina", [{"role": "panel_member"}])
    assert invited["grants"] == [{"role": "panel_member", "urn": None}]
    lead.ok(lead.post(f"/accounts/{invited['id']}/grants", {"role": "coordinator", "urn": A}))

    shown = lead.ok(lead.get(f"/accounts/{invited['id']}"))
    assert sorted(shown["grants"], key=str) == sorted(
        [{"role": "panel_member", "urn": None}, {"role": "coordinator", "urn": A}], key=str)
    assert shown["closed"] is False
    listed = {a["id"]: a for a in lead.ok(lead.get("/accounts"))["accounts"]}
    assert listed[invited["id"]] == shown

    events = system.account_events(invited["id"])
    assert [type(e).__qualname__.split(".")[-1] for e in events] == ["Invited", "RoleGranted"]
    assert [e.actor for e in events] == [system.lead.actor] * 2
    assert (events[1].role, events[1].scope) == ("coordinator", A)


def test_sign_in_events_name_the_account_as_every_other_event_does(world: World) -> None:
    system = world.system
    person = system.add_account(world.fresh_email("sid"), "Sid Signin", [{"role": "panel_member"}], None)
    sign_in(system, person.email)
    events = system.account_events(person.id)
    kinds = [type(e).__qualname__.split(".")[-1] for e in events]
    assert kinds == ["Invited", "SignInLinkIssued", "SignedIn"]
    assert [e.actor for e in events[1:]] == [person.actor] * 2


def test_signing_out_ends_the_session_on_the_server(world: World) -> None:
    system = world.system
    person = system.add_account(world.fresh_email("otto"), "Otto Out", [{"role": "panel_member"}], None)
    kept, ended = Api(system, sign_in(system, person.email)), Api(system, sign_in(system, person.email))
    assert ended.call("POST", "/auth/sign-out").status_code == 204
    refused = ended.get("/me")  # the same session, as a copied cookie would send it
    assert refused.status_code == 401, refused.text
    assert "ended" in refused.json()["message"]
    assert kept.ok(kept.get("/me"))["id"] == person.id  # another browser's session goes on


def test_signing_out_everywhere_says_which_tokens_still_work(world: World) -> None:
    system = world.system
    person = system.add_account(world.fresh_email("eve"), "Eve Everywhere", [{"role": "panel_member"}],
                                token_label="nightly export")
    session = Api(system, sign_in(system, person.email))
    report = session.ok(session.post("/auth/sign-out-everywhere", {}))
    assert [t["label"] for t in report["tokens_left"]] == ["nightly export"]
    assert "DELETE /me/tokens/" in report["message"] and report["revoke_with"]
    assert session.get("/me").status_code == 401
    token = Api(system, person)
    assert token.ok(token.get("/me"))["id"] == person.id  # as the answer said


def test_nobody_closes_their_own_account_or_takes_the_last_leads_role(world: World) -> None:
    lead, me = world.lead, world.people["lead"]
    assert me is not None
    before = world.stored()
    own = lead.post(f"/accounts/{me.id}/closure", {})
    assert own.status_code == 409, own.text
    assert "your own account" in own.json()["message"]
    last = lead.post(f"/accounts/{me.id}/revocations", {"role": "lead"})
    assert last.status_code == 409, last.text
    assert "lead role" in last.json()["message"]
    assert world.stored() == before
    assert {"role": "lead", "urn": None} in lead.ok(lead.get("/me"))["grants"]


# -- 3. the refusal counter ----------------------------------------------------------------


def refusals(world: World) -> dict[tuple[str, str], float]:
    operator = world.api("operator")
    response = operator.get("/metrics")
    assert response.status_code == 200, response.text
    return {(s.labels["route"], s.labels["status"]): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples if s.name == "sanctuary_gateway_refusals_total"}


def test_refusals_are_counted(world: World) -> None:
    before = refusals(world)
    check_refusal(Api(world.system, None).get("/me"), 401, FOR_SIGNED_IN)
    check_refusal(world.api("panel_member").get(f"/schools/{A}"), 403, FOR_STAFF)

    after = refusals(world)
    assert after.get(("GET /me", "401"), 0) == before.get(("GET /me", "401"), 0) + 1
    assert after.get(("GET /schools/<urn>", "403"), 0) == before.get(("GET /schools/<urn>", "403"), 0) + 1
    for status in ("401", "403"):  # and everything refused in this module before
        assert sum(v for (_, s), v in after.items() if s == status) > 0


# -- 4. sessions expire ------------------------------------------------------------------------


@pytest.fixture
def short_sessions(amqp_uri: str, tmp_path: Path) -> Iterator[E2ESystem]:
    """A system of its own whose sessions last about two seconds (0.0006 hours)."""
    yield from running(system_env(amqp_uri, tmp_path / "short", SANCTUARY_SESSION_HOURS="0.0006"))


def test_a_session_is_refused_once_it_has_expired(short_sessions: E2ESystem) -> None:
    system = short_sessions
    person = system.add_account("sam.short@e2e.example.org", "Sam Short", [{"role": "panel_member"}], None)
    session = Api(system, sign_in(system, person.email))

    def refused() -> list[requests.Response]:  # a list: a 4xx Response is itself falsy
        response = session.get("/me")
        return [response] if response.status_code == 401 else []
    [response] = wait_for(refused, 30, "the session to expire")
    assert response.json()["error"] == "Unauthorized"
    assert "expired" in response.json()["message"]
    lead = Api(system)  # API tokens do not expire with sessions
    assert lead.ok(lead.get("/me"))["id"] == system.lead.id
