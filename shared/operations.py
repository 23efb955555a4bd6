"""Every operation a service offers, declared once.

A service's ``api.py`` declares an ``Api`` subclass whose attributes are
``Operation``s: who may call it (``allow``), the arguments that name what it
acts on (``params``), its input and output schemas, and what it runs on the
service's application. From that one declaration:

- ``serve(Api)`` gives the nameko service one RPC entrypoint per operation,
  which checks the access rule, loads the input and dumps the output;
- ``Api(call)`` is the typed client the gateway and its pages use
  (``clients.applications.submit(principal, urn, year, body)``);
- a gateway route that names the operation takes its rule and schemas from it.

An operation is called as ``name(principal, *params, input)``: the principal
first unless ``allow`` is ``None`` (called by the system itself, never routed),
the input last when there is an input schema.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from marshmallow import Schema, fields

from shared.access import Principal, Rule, require
from shared.schema import jsonable, load, schema_of

Run = Callable[..., Any]  # (application, [who], *params, **input) -> result, e.g. Applications.submit
Call = Callable[..., Any]  # (service, operation name, *arguments) -> result

# Tests set this: a result that does not fit its declared output schema is then a failure,
# so the API document cannot drift from what the services answer.
STRICT_RESPONSES = os.environ.get("SANCTUARY_STRICT_RESPONSES") == "1"


# What an application method is given first: who did it, as events record it ("account:<id>"),
# the bare account id (panel members act as themselves), or the whole Principal (the
# application checks more itself); None gives nothing (a query).
CALLER: dict[str, Callable[[Principal | None], Any]] = {
    "actor": lambda who: who.actor if who is not None else "system",
    "account": lambda who: who.account,
    "principal": lambda who: who,
}


class ResponseMismatch(AssertionError):
    """A result that breaks its operation's output schema (raised only when strict)."""


@dataclass(frozen=True, eq=False)
class Operation:
    allow: Rule | None
    run: Run
    params: tuple[str, ...] = ()
    input: type[Schema] | None = None
    output: type[Schema] | None = None
    caller: str | None = "actor"  # what ``run`` is given first: see ``CALLER``
    name: str = field(default="", init=False)
    service: str = field(default="", init=False)

    def __set_name__(self, owner: type, name: str) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "service", getattr(owner, "service", ""))

    def __get__(self, client: Api | None, owner: type) -> Any:
        """On the class: the declaration. On a client: a function that makes the call."""
        if client is None:
            return self
        return functools.partial(client.call, self)

    def invoke(self, app: Any, *arguments: Any) -> Any:
        """Run the operation as the service: rule, input, application, output."""
        principal, arguments = (None, arguments) if self.allow is None else (arguments[0], arguments[1:])
        count = len(self.params) + (self.input is not None)
        if len(arguments) != count:
            raise TypeError(f"{self.service}.{self.name} takes {count} arguments after the "
                            f"principal, not {len(arguments)}")
        values = arguments[:len(self.params)]
        caller = None
        if self.allow is not None:
            # the rule sees the input too, where a body names the school (registering one);
            # the arguments win over the body, so a body cannot point the rule elsewhere
            given = arguments[-1] if self.input is not None and isinstance(arguments[-1], dict) else {}
            caller = require(self.allow, principal, {**given, **dict(zip(self.params, values, strict=True))})
        data = load(schema_of(self.input), arguments[-1]) if self.input is not None else {}
        first = () if self.caller is None else (CALLER[self.caller](caller),)
        return self.respond(self.run(app, *first, *values, **data))

    def respond(self, result: Any) -> Any:
        if self.output is None:
            return jsonable(result)
        schema = schema_of(self.output)
        if STRICT_RESPONSES:
            mismatch = mismatches(schema, result)
            if mismatch:
                raise ResponseMismatch(f"{self.service}.{self.name}: {mismatch}")
        return jsonable(schema.dump(result))


def mismatches(schema: Schema, result: Any, path: str = "") -> str | None:
    """What in ``result`` its schema does not declare, or declares as required but is absent,
    looking into nested objects and lists of them."""
    if not isinstance(result, dict):
        return f"{path.rstrip('.') or 'the result'}: expected an object, got {type(result).__name__}"
    fields_ = {f.data_key or name: f for name, f in schema.fields.items()}
    extra = sorted(set(result) - set(fields_))
    missing = sorted(key for key, f in fields_.items() if f.required and key not in result)
    if extra or missing:
        return f"{path.rstrip('.') or 'the result'}: undeclared {extra}, missing {missing}"
    for key, field_ in fields_.items():
        found = _nested_mismatch(field_, result.get(key), f"{path}{key}")
        if found:
            return found
    return None


def _nested_mismatch(field_: Any, value: Any, path: str) -> str | None:
    if value is None:
        return None
    if isinstance(field_, fields.Nested) and isinstance(field_.schema, Schema):
        items = value if field_.many else [value]
        for index, item in enumerate(items):
            found = mismatches(field_.schema, item, f"{path}[{index}]." if field_.many else f"{path}.")
            if found:
                return found
    if isinstance(field_, fields.List) and isinstance(value, list):
        for index, item in enumerate(value):
            found = _nested_mismatch(field_.inner, item, f"{path}[{index}]")
            if found:
                return found
    return None


class Api:
    """A service's operations. Subclasses set ``service`` and declare Operations."""

    service: ClassVar[str]

    def __init__(self, call: Call) -> None:
        self._call = call

    def call(self, operation: Operation, *arguments: Any) -> Any:
        return self._call(self.service, operation.name, *arguments)

    @classmethod
    def operations(cls) -> Iterator[Operation]:
        for name in dir(cls):
            found = getattr(cls, name)
            if isinstance(found, Operation):
                yield found
