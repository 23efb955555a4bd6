"""Marshmallow building blocks used at every edge (HTTP, RPC, integration payloads)."""

from __future__ import annotations

import functools
import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from shared.errors import Invalid
from shared.mail import valid_address

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BREAKS = re.compile(r"[\t\n\r\u2028\u2029]")


class StrictSchema(Schema):
    """Unknown fields are an error, never silently dropped."""

    class Meta:
        unknown = RAISE


class HistoryEntry(StrictSchema):
    """One stored change to an aggregate, as people read it (shared/history.py writes it):
    a school's history, an application's."""

    version = fields.Integer()
    event = fields.String()
    at = fields.AwareDateTime()
    actor = fields.String()
    details = fields.Dict()


class Text(fields.String):
    """Trimmed text with length limits and no control characters. Short text (names,
    titles: under 1,000 characters unless told) is one line: it ends up in email
    subjects and headers, where a line break is an error."""

    def __init__(self, max_length: int = 200, min_length: int = 1, multiline: bool | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Length(min=min_length, max=max_length))
        super().__init__(**kwargs)
        self.metadata.setdefault("maxLength", max_length)
        self.multiline = max_length >= 1000 if multiline is None else multiline
        # the same rules, written into the API document
        self.metadata.setdefault("pattern", r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$" if self.multiline
                                 else r"^[^\x00-\x1f\x7f\u2028\u2029]*$")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if _CONTROL.search(text):
            raise ValidationError("Must not contain control characters.")
        if not self.multiline and _BREAKS.search(text):
            raise ValidationError("Must be one line.")
        return text


class EmailAddress(fields.Email):
    """An address mail can actually go to: checked where it enters, not found out at send time."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        address = super()._deserialize(value, attr, data, **kwargs).strip()
        if not valid_address(address):
            raise ValidationError("Not a valid email address.")
        return address


class Contact(StrictSchema):
    name = Text(100, required=True)
    email = EmailAddress(required=True)
    phone = fields.String(
        validate=validate.Regexp(r"^\+?[0-9 ()-]{7,20}$", error="Not a valid phone number."))
    role = Text(100)


@functools.cache
def schema_of(cls: type[Schema]) -> Schema:
    """The one instance of a schema class, made once: making one deep-copies every declared
    field (half a millisecond for a view with nested objects, on every request), and marshmallow
    schemas keep no state between ``load`` and ``dump`` calls, so one may serve them all."""
    return cls()


def load(schema: Schema, data: Any) -> dict:
    """Validate input; a failure becomes ``Invalid`` naming every field at fault."""
    if not isinstance(data, dict):
        raise Invalid("The request body must be a JSON object.", {"_body": ["Expected an object."]})
    try:
        return schema.load(data)
    except ValidationError as error:
        fields_ = _flatten(error.messages)
        names = ", ".join(sorted(fields_))
        raise Invalid(f"Invalid input: {names}.", fields_) from None


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """{'coordinator': {'email': [...]}} -> {'coordinator.email': [...]}"""
    if isinstance(messages, list):
        return {prefix or "_body": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        flat.update(_flatten(value, name))
    return flat


def jsonable(value: Any) -> Any:
    """Plain JSON types all the way down: dates and datetimes become ISO text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
