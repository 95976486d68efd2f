"""The building blocks every area of the OpenAPI document shares: nullable types, the error answer, the
location, path and query parameters, JSON and binary answers, one operation.

Written as small functions so that an area module (alerts, cases, persons, assessment, system) reads like
the CONTRACT section it documents, and the repeated parts (a 401 with ``{"error", "reason"}``, a path id)
are spelled once. The document is JSON Schema 2020-12 inside OpenAPI 3.1: ``null`` is a type.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

LEVELS = ("red", "orange", "yellow", "green")  # the four colours (CONTRACT §3, §6, §7)

STATUS_TEXT = {
    400: "bad input: a body that is not a JSON object, a missing field or a bad value (named in the message)",
    401: "missing or invalid credential (Authorization: Bearer <token>)",
    403: "the role (or the account's area) may not do this",
    404: "no such record, or one outside the caller's area",
    409: "the record's state does not allow this step now",
}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """``schema`` or null (a missing value the JSON carries as null)."""
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return {**schema, "type": [*kinds, "null"]}
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    return {"anyOf": [schema, {"type": "null"}]}


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
OBJ: Schema = {"type": "object"}


def obj(props: dict[str, Schema], required: tuple[str, ...] | None = None, closed: bool = False,
        description: str | None = None) -> Schema:
    """An object; ``required`` defaults to every property (answers always carry all their keys);
    ``closed``: no other property (an answer the code must not grow without documenting it)."""
    out: Schema = {"type": "object", "required": list(props if required is None else required),
                   "properties": props}
    if closed:
        out["additionalProperties"] = False
    if description:
        out["description"] = description
    return out


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


ERROR = obj({"error": {"type": "string", "description": "English message naming what is wrong"},
             "reason": {"type": "string", "description": "machine-readable name of the refusal "
                        "(e.g. unauthorized, not_found, bad_level, illegal_transition)"}},
            required=("error", "reason"))

LOCATION = obj({"district_id": nullable(STR), "community_id": nullable(STR), "cell_id": nullable(STR),
                "lat": nullable(NUM), "lon": nullable(NUM)})


def json_body(schema: Schema) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def answer(description: str, schema: Schema | None = None, media: str = "application/json") -> dict[str, Any]:
    """One response: JSON with ``schema``, or a binary/text ``media`` type."""
    if media == "application/json":
        return {"description": description, "content": json_body(schema if schema is not None else OBJ)}
    return {"description": description, "content": {media: {"schema": schema or {"type": "string"}}}}


def errors(*codes: int, **why: str) -> dict[str, Any]:
    """The ``{"error", "reason"}`` answers for ``codes``; ``why`` (``e404="..."``) says when, per code."""
    return {str(c): answer(why.get(f"e{c}", STATUS_TEXT[c]), ref("Error")) for c in codes}


def path_param(name: str, example: str | int, schema: Schema | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {**(schema or STR), "example": example}}


def query(name: str, schema: Schema, description: str | None = None, required: bool = False) -> dict[str, Any]:
    out = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        out["description"] = description
    return out


def op(tag: str, summary: str, responses: dict[str, Any], params: list[dict[str, Any]] | None = None,
       body: Schema | None = None, body_required: bool = False, public: bool = False,
       description: str | None = None, extra_body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One operation. Authenticated (bearer token, or the dashboard's web session) unless ``public``."""
    out: dict[str, Any] = {"tags": [tag], "summary": summary, "responses": responses}
    if description:
        out["description"] = description
    if params:
        out["parameters"] = params
    if body is not None or extra_body:
        content = {**(json_body(body) if body is not None else {}), **(extra_body or {})}
        out["requestBody"] = {"required": body_required, "content": content}
    if public:
        out["security"] = []
    return out
