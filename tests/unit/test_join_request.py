"""A school's request to join (the JoinRequest aggregate and the head teacher's approval
rule), the public form's limiter, and how the people pages read their forms."""

from __future__ import annotations

import datetime as dt

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway.web.join_pages import join_form
from services.gateway.web.people_pages import invitation_from
from services.gateway.web.throttle import Throttle, client_address
from services.pledges.joining import JoinRequest, JoinStatus, head_approval_given
from shared.errors import Conflict, Invalid
from shared.personal import Personal, subject_for_email

DAY = dt.date(2026, 11, 23)
ANN = Personal(subject_for_email("ann@hill.example.org"),
               {"name": "Ann", "email": "ann@hill.example.org", "role": "Deputy head"})


def received(head: object | None = None) -> JoinRequest:
    return JoinRequest(urn="103712", school_name="Hill Primary", phase="primary", postcode="CV1 2AB",
                       contact=ANN, head_teacher=head, received_on=DAY, actor="public:join-page")


def test_a_request_waits_for_the_lead() -> None:
    request = received()
    assert request.status == JoinStatus.WAITING and request.decided_on is None
    assert [type(e).__name__ for e in request.collect_events()] == ["Received"]


def test_accepting_records_the_day_and_only_once() -> None:
    request = received()
    request.accept(DAY, "account:lead")
    assert (request.status, request.decided_on) == (JoinStatus.ACCEPTED, DAY)
    with pytest.raises(Conflict, match="accepted already"):
        request.accept(DAY, "account:lead")
    with pytest.raises(Conflict, match="accepted already"):
        request.decline(Personal(ANN.subject, "Too late"), DAY, "account:lead")
    assert [type(e).__name__ for e in request.collect_events()] == ["Received", "Accepted"]


def test_declining_needs_a_reason_and_keeps_it() -> None:
    request = received()
    with pytest.raises(Invalid) as refused:
        request.decline(Personal(ANN.subject, "  "), DAY, "account:lead")
    assert "reason" in refused.value.fields
    assert request.status == JoinStatus.WAITING
    request.decline(Personal(ANN.subject, "Not in our area"), DAY, "account:lead")
    assert request.status == JoinStatus.DECLINED and str(request.reason) == "Not in our area"
    with pytest.raises(Conflict):
        request.accept(DAY, "account:lead")


def test_the_head_teacher_s_approval_is_asked_only_where_the_authority_needs_it() -> None:
    head_approval_given(False, None, None)  # Coventry: not asked
    head_approval_given(True, "Hal Head", True)
    with pytest.raises(Invalid) as refused:
        head_approval_given(True, " ", None)
    assert set(refused.value.fields) == {"head_teacher", "head_approval"}
    with pytest.raises(Invalid) as refused:
        head_approval_given(True, "Hal Head", False)
    assert set(refused.value.fields) == {"head_approval"}


# -- the public form -----------------------------------------------------------------


def test_the_join_form_names_each_missing_field_and_the_approval_only_where_needed() -> None:
    body, errors = join_form({"school_name": "Hill", "urn": "103712"}, head_required=False)
    assert set(errors) == {"phase", "postcode", "name", "role", "email"}
    assert "head_teacher" not in body
    _, errors = join_form({}, head_required=True)
    assert {"head_teacher", "head_approval"} <= set(errors)


def test_the_throttle_counts_per_address_within_its_window() -> None:
    now = [0.0]
    throttle = Throttle(limit=2, window=60, clock=lambda: now[0])
    assert [throttle.allow("a"), throttle.allow("a"), throttle.allow("a")] == [True, True, False]
    assert throttle.allow("b") is True  # another address has its own count
    now[0] = 59.9
    assert throttle.allow("a") is False  # a refused use is not counted, but the window still runs
    now[0] = 60.0
    assert throttle.allow("a") is True
    assert throttle.allow("a") is True and throttle.allow("a") is False


def test_a_use_may_be_counted_once_it_has_happened() -> None:
    now = [0.0]
    throttle = Throttle(limit=1, window=60, clock=lambda: now[0])
    assert throttle.full("a") is False and throttle.full("a") is False  # asking counts nothing
    throttle.count("a")
    assert throttle.full("a") is True and throttle.allow("a") is False
    now[0] = 60.0
    assert throttle.full("a") is False


def test_the_throttle_forgets_the_quietest_address_past_its_bound() -> None:
    now = [0.0]
    throttle = Throttle(limit=1, window=60, keys=2, clock=lambda: now[0])
    assert throttle.allow("a") and throttle.allow("b") and throttle.allow("c")
    assert throttle.allow("a") is True  # "a" was forgotten to keep memory bounded
    assert throttle.allow("c") is False


def _request(remote: str, forwarded: str = "") -> Request:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return Request(EnvironBuilder(environ_base={"REMOTE_ADDR": remote}, headers=headers).get_environ())


def test_the_client_address_trusts_only_the_last_hop_nginx_added() -> None:
    assert client_address(_request("203.0.113.9")) == "203.0.113.9"
    assert client_address(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"  # not via nginx
    assert client_address(_request("127.0.0.1", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"


# -- the people pages' forms ----------------------------------------------------------


def test_inviting_a_panel_member_asks_for_the_lived_experience_flag() -> None:
    body, errors = invitation_from({"name": "Pat", "email": "pat@example.org", "role": "panel_member"})
    assert errors == {"lived_experience": "Say whether they have lived experience of seeking sanctuary"}
    body, errors = invitation_from({"name": "Pat", "email": "pat@example.org", "role": "panel_member",
                                    "lived_experience": "yes", "urn": "123456"})
    assert errors == {} and body == {"name": "Pat", "email": "pat@example.org", "lived_experience": True,
                                     "grants": [{"role": "panel_member"}]}


def test_inviting_a_coordinator_needs_the_school_s_urn_and_no_flag() -> None:
    _, errors = invitation_from({"name": "Cora", "email": "c@example.org", "role": "coordinator",
                                 "urn": "12"})
    assert errors == {"urn": "A URN is exactly 6 digits"}
    body, errors = invitation_from({"name": "Cora", "email": "c@example.org", "role": "coordinator",
                                    "urn": "103712", "lived_experience": "yes"})
    assert errors == {} and "lived_experience" not in body
    assert body["grants"] == [{"role": "coordinator", "urn": "103712"}]
