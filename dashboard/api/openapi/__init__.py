"""``/api/openapi.json``: one OpenAPI 3.1 document for every ``/api/...`` route the dashboard serves.

Built here from one module per area (``alerts``, ``cases``, ``persons``, ``assessment``, ``system``), each
with the same two names, ``SCHEMAS`` and ``PATHS``, and the shared parts in ``parts``. The document is code,
not a hand-kept JSON file, so the enums (rules, statuses, actions, levels, figures) are read from the modules
that define them. It is kept true by tests/test_api_openapi.py: every served route is documented (a route
added without documentation fails), and schemathesis sends generated requests for every operation to the
real app and checks each answer against its schema (no 5xx, documented schema and content type).
"""

from __future__ import annotations

import functools
from typing import Any

import orjson
from flask import Blueprint, Response

from dashboard.api.openapi import alerts, assessment, cases, persons, system
from dashboard.api.openapi.parts import ERROR

AREAS = (system, alerts, cases, persons, assessment)
DESCRIPTION = (
    "The OneScreen HTTP API (CONTRACT §3 alerts, §6 cases, §7 key persons, §8 assessment). Auth: "
    "`Authorization: Bearer <token>` (onescreen token create), or the dashboard's signed-in session; roles "
    "operator, duty, supervisor, admin, grid, department. Errors are JSON `{\"error\", \"reason\"}`: 401 for a "
    "missing or bad credential (before any cross-site check), 403 for a role without the right, 400 for a body "
    "that is not a JSON object or a bad value (named), 404 for an unknown record, one outside the caller's area, "
    "or an unknown /api/ path, 409 for an illegal transition. Times: ISO 8601 with offset in the configured "
    "zone (city.timezone) on output; ISO 8601 with offset or epoch milliseconds on input.")

bp = Blueprint("openapi", __name__)


@functools.cache
def document() -> dict[str, Any]:
    """The whole document (built once per process)."""
    schemas: dict[str, Any] = {"Error": ERROR}
    paths: dict[str, Any] = {}
    for area in AREAS:
        schemas.update(area.SCHEMAS)
        paths.update(area.PATHS)
    return {
        "openapi": "3.1.0",
        "info": {"title": "OneScreen API", "version": "1.1.0", "description": DESCRIPTION},
        "tags": [{"name": a.TAG, "description": (a.__doc__ or "").strip().split("\n\n")[0]} for a in AREAS],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "onescreen_session",
                            "description": "the dashboard's signed-in web session (sign in at /login)"}},
            "schemas": schemas},
        "paths": paths,
    }


@functools.cache
def _body() -> bytes:
    return orjson.dumps(document(), option=orjson.OPT_INDENT_2)


@bp.get("/api/openapi.json")
def openapi() -> Response:
    return Response(_body(), mimetype="application/json", headers={"Cache-Control": "no-cache"})
