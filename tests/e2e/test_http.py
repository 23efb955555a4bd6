"""The whole system end to end: every service its own process, real HTTP in,
real RabbitMQ out (read with a plain kombu consumer), SQLite and PostgreSQL.

Most tests share one system (module-scoped); each uses schools of its own.
Everyone signs in with an API token: the lead registers schools and records
interest, each school's coordinator records commitments and signs, and every
event records the account that acted.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import kombu
import psycopg
import pytest
import requests
from nameko.standalone.events import get_event_exchange

from shared.clock import Clock
from shared.envelope import parse_envelope
from tests.components import POSTGRES, postgres_params
from tests.e2e.conftest import Api, E2ESystem, Tap, wait_for

pytestmark = pytest.mark.e2e
SHARES_SYSTEM = True  # its URNs and addresses are its own, and it takes no cycle-wide step

JOURNEY = ["SchoolRegistered", "InterestExpressed", "CommitmentRecorded", "CommitmentRecorded",
           "PledgeSigned"]
COORDINATOR = {"name": "Ann Coordinator", "email": "ann@example.org"}
SIGNATURE = {"signed_by": "Cara Head", "role": "Head teacher"}
APPLICATIONS_QUEUES = ("evt-pledges-SchoolRegistered--applications.on_school_registered",
                       "evt-pledges-PledgeSigned--applications.on_pledge_signed")

_urns = itertools.count(100001)


def next_urn() -> str:
    return f"{next(_urns):06d}"


def today_iso() -> str:
    return Clock().today().isoformat()  # the services' "today": UK local date


def assert_stays(probe: Callable[[], Any], expected: Any, window: float, what: str) -> None:
    """Poll for ``window`` seconds: the value must never move from ``expected``."""
    deadline = time.monotonic() + window
    while True:
        value = probe()
        assert value == expected, f"{what} changed from {expected!r} to {value!r}"
        if time.monotonic() > deadline:
            return
        time.sleep(0.2)


def school_body(urn: str, drop: tuple[str, ...] = (), **changes: Any) -> dict:
    body = {"urn": urn, "name": f"School {urn}", "phase": "primary", "postcode": "cv1 2ab",
            "coordinator": dict(COORDINATOR), **changes}
    for name in drop:
        del body[name]
    return body


def journey(api: Api, urn: str) -> list[requests.Response]:
    """The lead registers and records interest; the school's coordinator records the
    SLT's and governors' commitments and signs."""
    lead, coordinator = api.as_(api.system.lead), api.as_(api.system.coordinator(urn))
    steps = [
        lead.post("/schools", school_body(urn)),
        lead.post(f"/schools/{urn}/interest", {}),
        coordinator.post(f"/schools/{urn}/commitments",
                         {"body": "slt", "given_by": "Dee Deputy", "role": "Deputy head"}),
        coordinator.post(f"/schools/{urn}/commitments",
                         {"body": "governors", "given_by": "Ed Chair", "role": "Chair of governors"}),
        coordinator.post(f"/schools/{urn}/pledge", SIGNATURE),
    ]
    for step, status in zip(steps, [201, 200, 200, 200, 200], strict=True):
        api.ok(step, status)
    return steps


def journey_actors(system: E2ESystem, urn: str) -> list[str]:
    """Who each journey event must name: the account that acted, never a name."""
    lead, coordinator = system.lead.actor, system.coordinator(urn).actor
    assert lead != coordinator
    return [lead, lead, coordinator, coordinator, coordinator]


@dataclass
class Signed:
    urn: str
    steps: list[requests.Response]
    before: dict  # the pledges health before the first POST
    after: dict  # ... and once everything was published
    messages: list[kombu.Message]  # everything our own queue received
    actors: list[str]  # who each event must name

    def positions(self) -> list[int]:
        return list(range(self.before["position"] + 1, self.before["position"] + 6))


def sign_with_tap(system: E2ESystem) -> Signed:
    """The happy path over HTTP, with our own queue declared before the first POST."""
    api = Api(system)
    tap = Tap(system.amqp_uri)
    try:
        before = api.settled_pledges()
        urn = next_urn()
        steps = journey(api, urn)
        after = api.settled_pledges(before["position"] + 5)
        messages = tap.take(tap.waiting())
        return Signed(urn, steps, before, after, messages, journey_actors(system, urn))
    finally:
        tap.close()


def check_published(signed: Signed) -> None:
    messages = signed.messages
    assert [m.delivery_info["routing_key"] for m in messages] == JOURNEY  # each once, in order
    events = [parse_envelope(json.loads(m.body)) for m in messages]
    assert [e.type for e in events] == JOURNEY
    assert [e.position for e in events] == signed.positions()
    assert [m.properties["message_id"] for m in messages] == [f"pledges:{p}" for p in signed.positions()]
    assert [m.properties["delivery_mode"] for m in messages] == [2] * 5
    assert {m.content_type for m in messages} == {"application/json"}
    assert {e.origin for e in events} == {"pledges"}
    assert {e.authority for e in events} == {"coventry"}
    assert [e.actor for e in events] == signed.actors
    assert all(re.fullmatch(r"account:[0-9a-f]{32}", e.actor) for e in events)
    assert {e.payload["urn"] for e in events} == {signed.urn}
    assert len({e.id for e in events}) == 5
    # no names nor addresses travel (schema 2): whoever writes to the coordinator asks for them
    assert events[0].payload == {"urn": signed.urn, "name": f"School {signed.urn}", "phase": "primary",
                                 "postcode": "CV1 2AB"}
    assert [e.payload["body"] for e in events[2:4]] == ["slt", "governors"]
    assert [e.payload.get("given_by") for e in events[2:4]] == [None, None]
    # the day the pledge lapses, as the pledges service worked it out; the signer's name stays there
    lapses_on = events[4].payload.get("lapses_on")
    assert events[4].payload == {"urn": signed.urn, "role": SIGNATURE["role"], "signed_on": today_iso(),
                                 "lapses_on": lapses_on, "imported": False}
    assert events[4].schema_version == 3 and lapses_on[:4] == str(int(today_iso()[:4]) + 3)
    # the relay published each exactly once (its count since the process started)
    published = signed.after["relay"]["published_total"] - signed.before["relay"]["published_total"]
    assert published == 5
    assert signed.after["position"] == signed.positions()[-1]


def wait_for_standing(api: Api, urn: str, kinds: tuple[str, ...] = ("SchoolRegistered", "PledgeSigned"),
                      timeout: float = 30.0) -> dict:
    def standing() -> dict | None:
        response = api.get(f"/schools/{urn}/eligibility")
        if response.status_code == 404:
            return None
        body = api.ok(response)
        return body if all(kind in body["news"] for kind in kinds) else None
    return wait_for(standing, timeout, f"the applications service to learn {kinds} of {urn}")


def check_eligibility(api: Api, signed: Signed) -> dict:
    standing = wait_for_standing(api, signed.urn)
    registered, *_, pledged = signed.positions()
    assert standing == {
        "urn": signed.urn, "school_name": f"School {signed.urn}", "pledged_on": today_iso(),
        "may_apply": True, "news": {"SchoolRegistered": registered, "PledgeSigned": pledged},
    }
    return standing


@pytest.fixture(scope="module")
def signed(system: E2ESystem) -> Signed:
    return sign_with_tap(system)


# -- 1. publishing ------------------------------------------------------------------


def test_signing_a_pledge_over_http_publishes_each_event_once_in_order(signed: Signed) -> None:
    views = [step.json() for step in signed.steps]
    assert [v["status"] for v in views] == ["registered", "interested", "interested", "committed", "signed"]
    assert [v["version"] for v in views] == [1, 2, 3, 4, 5]
    final = views[-1]
    assert final["urn"] == signed.urn
    assert final["postcode"] == "CV1 2AB"
    assert final["interest_on"] == today_iso()
    assert [c["body"] for c in final["commitments"]] == ["slt", "governors"]
    assert final["pledge"]["signed_by"] == "Cara Head"
    assert final["pledge"]["signed_on"] == today_iso()
    check_published(signed)


# -- 2. consuming ---------------------------------------------------------------------


def test_the_applications_service_learns_the_pledge_once(system: E2ESystem, signed: Signed) -> None:
    api = Api(system)
    standing = check_eligibility(api, signed)
    position = api.applications_position()
    assert position > 0
    assert_stays(api.applications_position, position, 1.5, "the applications position")
    assert api.ok(api.get(f"/schools/{signed.urn}/eligibility")) == standing
    assert api.applications_position() == position


# -- 4. redelivery --------------------------------------------------------------------


def test_a_redelivered_event_changes_nothing(system: E2ESystem, signed: Signed) -> None:
    api = Api(system)
    standing = check_eligibility(api, signed)
    position = api.applications_position()
    exchange = get_event_exchange("pledges", {})
    originals = [m for m in signed.messages if m.delivery_info["routing_key"] == "PledgeSigned"]
    assert len(originals) == 1
    with kombu.Connection(system.amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = kombu.Producer(connection.default_channel)
        for message in originals:
            producer.publish(message.body, exchange=exchange, declare=[exchange],
                             routing_key=message.delivery_info["routing_key"],
                             content_type=message.content_type,
                             content_encoding=message.content_encoding,
                             delivery_mode=2, message_id=message.properties["message_id"],
                             headers=message.headers, retry=False)
        channel = connection.default_channel

        def delivered() -> bool:  # the copy has left the applications queue
            return all(channel.queue_declare(queue=name, passive=True).message_count == 0
                       for name in APPLICATIONS_QUEUES)
        wait_for(delivered, 15, "the applications service to take the copy")
    assert_stays(api.applications_position, position, 2.0, "the applications position")
    assert api.ok(api.get(f"/schools/{signed.urn}/eligibility")) == standing


# -- 3. restart -----------------------------------------------------------------------


def test_after_a_restart_nothing_is_republished_and_the_log_goes_on(
        system: E2ESystem, signed: Signed) -> None:
    api = Api(system)
    tap = Tap(system.amqp_uri)
    try:
        position = api.settled_pledges()["position"]
        assert tap.waiting() == 0
        system.restart()

        school = api.ok(api.get(f"/schools/{signed.urn}"))
        assert school["status"] == "signed"
        assert school["pledge"]["signed_by"] == "Cara Head"
        assert school["pledge"]["signed_on"] == today_iso()
        assert school["version"] == 5
        history = api.history(signed.urn)
        assert [h["event"] for h in history] == ["Registered", "InterestExpressed", "CommitmentRecorded",
                                                 "CommitmentRecorded", "PledgeSigned"]
        assert [h["actor"] for h in history] == signed.actors
        assert [h["version"] for h in history] == [1, 2, 3, 4, 5]

        pledges = api.settled_pledges(position)  # the restarted relay runs, nothing to do
        assert pledges["relay"]["published_total"] == 0
        assert tap.waiting() == 0

        coordinator = system.coordinator(signed.urn)  # the token made before the restart still works
        api.ok(api.as_(coordinator).call("PUT", f"/schools/{signed.urn}/newsletter",
                                         json={"subscribed": True}))
        pledges = api.settled_pledges(position + 1)
        assert pledges["relay"]["published_total"] == 1
        messages = tap.take(tap.waiting())
        assert [m.properties["message_id"] for m in messages] == [f"pledges:{position + 1}"]
        event = parse_envelope(json.loads(messages[0].body))
        assert (event.type, event.position, event.actor) == ("NewsletterSubscribed", position + 1,
                                                             coordinator.actor)
        assert messages[0].delivery_info["routing_key"] == "NewsletterSubscribed"
    finally:
        tap.close()


# -- 5. bad input -----------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    method: str
    path: str
    body: Callable[[str], Any] | None  # the URN -> a JSON body, or raw text
    status: int
    error: str
    field: str
    setup: str | None = None  # registered, interested or signed


RENEWAL = {"renewed_by": "Cara Head", "role": "Head teacher"}
FUTURE = "2099-01-01"
BAD = [
    pytest.param(Bad("POST", "/schools", lambda u: school_body(u, drop=("name",)), 422, "Invalid", "name"),
                 id="missing-required-name"),
    pytest.param(Bad("POST", "/schools", lambda u: school_body(u, name="n" * 201), 422, "Invalid", "name"),
                 id="name-201-chars"),
    pytest.param(Bad("POST", "/schools", lambda u: school_body("12a45"), 422, "Invalid", "urn"),
                 id="urn-12a45"),
    pytest.param(Bad("POST", "/schools", lambda u: school_body("1234567"), 422, "Invalid", "urn"),
                 id="urn-1234567"),
    pytest.param(Bad("POST", "/schools", lambda u: school_body(u, postcode="ZZZ"), 422, "Invalid",
                     "postcode"),
                 id="postcode-ZZZ"),
    pytest.param(Bad("POST", "/schools",
                     lambda u: school_body(u, coordinator={"name": "Ann", "email": "ann.example.org"}),
                     422, "Invalid", "coordinator.email"),
                 id="invalid-email"),
    pytest.param(Bad("POST", "/schools", lambda u: school_body(u, colour="blue"), 422, "Invalid", "colour"),
                 id="unknown-field"),
    pytest.param(Bad("POST", "/schools", lambda u: '{"urn": "' + u + '", ', 422, "Invalid", "_body"),
                 id="body-not-json"),
    pytest.param(Bad("POST", "/schools", lambda u: school_body(u, phase=5), 422, "Invalid", "phase"),
                 id="phase-wrong-type"),
    pytest.param(Bad("POST", "/schools", school_body, 409, "Conflict", "urn", "registered"),
                 id="duplicate-urn"),
    pytest.param(Bad("POST", "/schools/{urn}/pledge", lambda u: SIGNATURE, 409, "Conflict", "pledge",
                     "signed"),
                 id="signing-twice"),
    pytest.param(Bad("POST", "/schools/{urn}/pledge", lambda u: SIGNATURE, 409, "Conflict", "commitments",
                     "interested"),
                 id="signing-before-commitments"),
    pytest.param(Bad("POST", "/schools/{urn}/pledge/renewal", lambda u: RENEWAL, 409, "Conflict", "pledge",
                     "registered"),
                 id="renewing-never-signed"),
    pytest.param(Bad("POST", "/schools/{urn}/interest", lambda u: {}, 404, "NotFound", "urn"),
                 id="unknown-school"),
    pytest.param(Bad("GET", "/schools?status=pledged", None, 422, "Invalid", "status"),
                 id="bad-status-query"),
    pytest.param(Bad("POST", "/schools/{urn}/interest", lambda u: {"on": FUTURE}, 422, "Invalid",
                     "on", "registered"),
                 id="interest-in-the-future"),
    pytest.param(Bad("POST", "/schools/{urn}/commitments",
                     lambda u: {"body": "slt", "given_by": "Dee Deputy", "role": "Deputy head", "on": FUTURE},
                     422, "Invalid", "on", "interested"),
                 id="commitment-in-the-future"),
]


def set_up(api: Api, urn: str, state: str) -> None:
    if state == "signed":
        journey(api, urn)
        return
    api.ok(api.post("/schools", school_body(urn)), 201)
    if state == "interested":
        api.ok(api.post(f"/schools/{urn}/interest", {}))


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_refused_and_nothing_is_stored(system: E2ESystem, case: Bad) -> None:
    api = Api(system)  # the lead, who may do all of it: only the input is at fault
    urn = next_urn()
    if case.setup:
        set_up(api, urn, case.setup)
    history = api.history(urn) if case.setup else None
    position = api.pledges_position()

    body = case.body(urn) if case.body else None
    kwargs: dict[str, Any] = {}
    if isinstance(body, str):
        kwargs = {"data": body, "headers": {"Content-Type": "application/json"}}
    elif body is not None:
        kwargs = {"json": body}
    response = api.call(case.method, case.path.format(urn=urn), **kwargs)

    assert response.status_code == case.status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()
    assert error["error"] == case.error
    assert isinstance(error["message"], str) and error["message"]
    assert case.field in error["fields"], error
    assert all(isinstance(m, str) and m for m in error["fields"][case.field])

    assert api.pledges_position() == position  # no event was stored
    if history is not None:
        assert api.history(urn) == history
    else:
        named = body.get("urn") if isinstance(body, dict) else None
        assert api.get(f"/schools/{named if isinstance(named, str) else urn}").status_code == 404


# -- 6. the API document ------------------------------------------------------------------


USED = [("post", "/schools"), ("get", "/schools"), ("get", "/schools/{urn}"),
        ("get", "/schools/{urn}/history"), ("post", "/schools/{urn}/interest"),
        ("post", "/schools/{urn}/commitments"), ("post", "/schools/{urn}/pledge"),
        ("post", "/schools/{urn}/pledge/renewal"), ("put", "/schools/{urn}/newsletter"),
        ("put", "/schools/{urn}/coordinator"), ("get", "/schools/{urn}/eligibility"), ("get", "/health"),
        ("get", "/openapi.json"), ("get", "/metrics"), ("post", "/auth/sign-in-link"),
        ("post", "/auth/session"), ("post", "/auth/sign-out-everywhere"), ("get", "/me"),
        ("post", "/me/tokens"), ("delete", "/me/tokens/{token_id}"), ("get", "/accounts"),
        ("post", "/accounts"), ("get", "/accounts/{account_id}"),
        ("post", "/accounts/{account_id}/grants"), ("post", "/accounts/{account_id}/revocations"),
        ("post", "/accounts/{account_id}/closure")]


def test_the_openapi_document_lists_every_route_used(system: E2ESystem) -> None:
    api = Api(system)
    document = api.ok(api.get("/openapi.json"))
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    paths = document["paths"]
    missing = [(method, path) for method, path in USED if method not in paths.get(path, {})]
    assert not missing, f"not in the document: {missing}"
    for method, path in USED:
        operation = paths[path][method]
        assert operation["responses"], (method, path)
        if "{urn}" in path:
            names = [p["name"] for p in paths[path].get("parameters", []) + operation.get("parameters", [])]
            assert "urn" in names, (method, path)
    assert "requestBody" in paths["/schools"]["post"]
    assert "422" in paths["/schools"]["post"]["responses"]
    assert "409" in paths["/schools/{urn}/pledge"]["post"]["responses"]
    assert {"401", "403"} <= set(paths["/accounts"]["post"]["responses"])
    assert "401" in paths["/auth/session"]["post"]["responses"]


# -- 7. PostgreSQL ---------------------------------------------------------------------------


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_the_happy_path_on_postgres(postgres_system: E2ESystem) -> None:
    assert postgres_system.env["SANCTUARY_STORE"] == "postgres"
    signed = sign_with_tap(postgres_system)
    assert signed.before["position"] == 0
    check_published(signed)
    check_eligibility(Api(postgres_system), signed)
    stores = {name: f"{postgres_system.env['POSTGRES_SCHEMA']}_{name}"
              for name in ("accounts", "pledges", "applications")}
    with psycopg.connect(POSTGRES) as conn:
        tables = set(conn.execute("SELECT table_schema, table_name FROM information_schema.tables "
                                  "WHERE table_schema = ANY(%s)", (list(stores.values()),)).fetchall())
    assert {(schema, f"{name}_events") for name, schema in stores.items()} <= tables
    # the tables belong to the owner (the migration role); the services connected as their role
    with psycopg.connect(POSTGRES) as conn:
        owners = set(conn.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = ANY(%s)",
                                  (list(stores.values()),)).fetchall())
        users = set(conn.execute("SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name "
                                 "= ANY(%s)", ([f"sanctuary-{name}" for name in stores],)).fetchall())
    assert owners == {(postgres_params()["user"],)}, owners
    assert users == {(postgres_system.env["POSTGRES_USER"],)} and users != owners, users
