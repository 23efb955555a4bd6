"""The operation declaration itself: the order of its checks and the strict response check."""

from __future__ import annotations

import pytest
from marshmallow import Schema, fields

from shared.access import SCHOOL_STAFF, Principal
from shared.errors import Forbidden, Invalid, Unauthorized
from shared.operations import Api, Operation, mismatches


class Entry(Schema):
    title = fields.String(required=True)


class Listing(Schema):
    items = fields.List(fields.Nested(Entry), required=True)
    first = fields.Nested(Entry)


class Body(Schema):
    urn = fields.String(required=True)
    title = fields.String(required=True)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def register(self, actor: str, **values: object) -> dict:
        self.calls.append((actor, values))
        return {"items": [{"title": values["title"]}]}


class SchoolsApi(Api):
    service = "schools"
    register = Operation(SCHOOL_STAFF, Recorder.register, input=Body, output=Listing)


COORDINATOR = Principal("a-1", "C", frozenset({("coordinator", "100001")})).to_dict()


def test_a_nested_entry_with_an_undeclared_key_is_named_with_its_place() -> None:
    found = mismatches(Listing(), {"items": [{"title": "a"}, {"title": "b", "extra": 1}]})
    assert found == "items[1]: undeclared ['extra'], missing []"


def test_a_nested_object_missing_a_required_key_is_named() -> None:
    assert mismatches(Listing(), {"items": [], "first": {}}) == "first: undeclared [], missing ['title']"


def test_a_result_that_fits_has_no_mismatch() -> None:
    assert mismatches(Listing(), {"items": [{"title": "a"}], "first": None}) is None


def test_the_rule_sees_the_school_named_in_the_body() -> None:
    app = Recorder()
    SchoolsApi.register.invoke(app, COORDINATOR, {"urn": "100001", "title": "Ours"})
    assert app.calls == [("account:a-1", {"urn": "100001", "title": "Ours"})]
    with pytest.raises(Forbidden):
        SchoolsApi.register.invoke(app, COORDINATOR, {"urn": "100002", "title": "Theirs"})
    assert len(app.calls) == 1


def test_nobody_is_refused_before_the_input_is_read() -> None:
    with pytest.raises(Unauthorized):
        SchoolsApi.register.invoke(Recorder(), None, {"nonsense": True})


def test_bad_input_from_an_allowed_caller_names_the_field_and_runs_nothing() -> None:
    app = Recorder()
    with pytest.raises(Invalid) as refused:
        SchoolsApi.register.invoke(app, COORDINATOR, {"urn": "100001"})
    assert "title" in refused.value.to_dict()["fields"]
    assert app.calls == []


def test_a_client_calls_the_operation_by_its_declared_name() -> None:
    sent = []
    client = SchoolsApi(lambda service, name, *args: sent.append((service, name, args)))
    client.register(COORDINATOR, {"urn": "100001", "title": "x"})
    assert sent == [("schools", "register", (COORDINATOR, {"urn": "100001", "title": "x"}))]
