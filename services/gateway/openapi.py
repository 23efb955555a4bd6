"""The OpenAPI document, generated from the same route declarations that serve requests."""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from services.gateway.routes import PATH_PATTERNS, RouteSpec

_PARAM = re.compile(r"<(?:([a-z]+)(?:\(([^)]*)\))?:)?([a-z_]+)>")
_ERROR = {"type": "object", "required": ["error", "message"], "properties": {
    "error": {"type": "string"}, "message": {"type": "string"},
    "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
}}
_ERROR_TEXT = {400: "Bad request", 401: "No valid credential", 403: "Not allowed for this account",
               404: "Not found", 409: "Conflict with the current state",
               413: "Body too large", 422: "Invalid input; `fields` names each field at fault",
               503: "A service did not answer in time"}


def build_openapi(routes: list[RouteSpec], title: str, version: str) -> dict:
    spec = APISpec(title=title, version=version, openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()])
    spec.components.schema("Error", _ERROR)
    spec.components.security_scheme("bearer", {
        "type": "http", "scheme": "bearer",
        "description": "A session (`sess_...`, from POST /auth/session) or a personal API token "
                       "(`sos_...`, from POST /me/tokens)"})
    by_path: dict[str, dict] = {}
    for r in routes:
        by_path.setdefault(r.path, {})[r.method.lower()] = _operation(r)
    for path, operations in by_path.items():
        spec.path(path=_PARAM.sub(r"{\3}", path), operations=operations,
                  parameters=[_path_param(*found) for found in _PARAM.findall(path)])
    return spec.to_dict()


def _operation(r: RouteSpec) -> dict:
    op: dict = {"summary": r.summary, "tags": [r.tag], "operationId": _operation_id(r),
                "description": f"For {r.allow.describes}."}
    op["security"] = [] if r.allow.public else [{"bearer": []}]
    if r.body is not None:
        needed = any(f.required for f in r.body().fields.values())  # an empty body is fine otherwise
        op["requestBody"] = {"required": needed,
                             "content": {"application/json": {"schema": r.body}}}
    if r.query is not None:
        op["parameters"] = [{"in": "query", "schema": r.query}]
    ok = {"description": "OK"}
    if r.response is not None:
        ok["content"] = {"application/json": {"schema": r.response}}
    op["responses"] = {str(r.status): ok}
    implied = [422, 400] if r.body or r.query else []
    implied += [] if r.allow.public else [401, 403]
    implied += [413] if r.body else []
    implied += [404] if any(name in PATH_PATTERNS for *_, name in _PARAM.findall(r.path)) else []
    for status in sorted({*r.errors, *implied}):
        op["responses"][str(status)] = {
            "description": _ERROR_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return op


def _operation_id(r: RouteSpec) -> str:
    path = _PARAM.sub(r"by_\3", r.path)
    return re.sub(r"[^a-z0-9]+", "_", f"{r.method} {path}".lower()).strip("_")


def _path_param(converter: str, choices: str, name: str) -> dict:
    schema: dict = {"type": "string"}
    if converter == "any":
        schema["enum"] = [c.strip() for c in choices.split(",")]
    elif name in PATH_PATTERNS:
        schema["pattern"] = PATH_PATTERNS[name]
    return {"in": "path", "name": name, "required": True, "schema": schema}
