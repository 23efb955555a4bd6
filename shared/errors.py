"""Domain errors. Plain Python: the domain raises them, the RPC layer carries
them across the bus intact, and the gateway maps them to HTTP statuses."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused. ``field`` names the input at fault, if any."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        # args are what crosses RPC; nameko would turn a None field into "None"
        super().__init__(*((message, field) if field else (message,)))
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict:
        body: dict = {"error": type(self).__name__, "message": self.message}
        if self.field:
            body["fields"] = {self.field: [self.message]}
        return body


class Unauthorized(DomainError):
    """No valid credential: sign in, or the session or token has expired."""

    status = 401


class Forbidden(DomainError):
    """Signed in, but this is not for you."""

    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The command clashes with the current state (signing twice, a duplicate URN)."""

    status = 409


class Invalid(DomainError):
    """The input breaks a rule; ``fields`` maps each field to its messages."""

    status = 422

    def __init__(self, message: str, fields: dict | None = None) -> None:
        field = next(iter(fields), None) if fields else None
        Exception.__init__(self, message, fields or {})
        self.message = message
        self.field = field
        self.fields = fields or {}

    def to_dict(self) -> dict:
        return {"error": "Invalid", "message": self.message, "fields": self.fields}


class TooLarge(DomainError):
    status = 413


class Unavailable(DomainError):
    """A service the request needs did not answer in time."""

    status = 503


ALL = (DomainError, Unauthorized, Forbidden, NotFound, Conflict, Invalid, TooLarge, Unavailable)
